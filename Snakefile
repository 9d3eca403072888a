# LiveBand pipeline. Thin entry: config, includes, `rule all`.
# Run everything:   snakemake --cores all                  (default profile)
# Another profile:  snakemake --cores all --config profile=ci
# Each rule runs `python -m liveband.stages.<name> --profile <profile>`, exactly as dvc.yaml.
# The default profile's files are artifacts/, results/, listening/; another profile's are under
# runs/<profile>/. After a default run, dvc.lock records what was built (`dvc status` agrees).
# Defaults for every `snakemake` call (cores, rerun triggers): profiles/default/config.yaml.

configfile: "params.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/autoencoder.smk"
include: "workflow/rules/gan.smk"
include: "workflow/rules/smg.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/latency.smk"
include: "workflow/rules/listening.smk"
include: "workflow/rules/companion.smk"


rule all:
    input:
        rules.data.output,
        rules.norm_stats.output,
        rules.autoencoder_report.output,
        expand(GAN_OUTPUTS, variant=GAN_DEFAULT),
        expand(SMG_OUTPUTS, variant=SMG_DEFAULT),
        rules.metric_validation.output,
        rules.tables.output,
        rules.latency.output,
        rules.listening_kit.output,
        rules.listening_stats.output,
        rules.companion.output,


onsuccess:
    # DVC's record of this run: the same stages, hashed in place (liveband.pipeline.record_lock).
    if PROFILE == "default":
        shell("python -m liveband.pipeline record-lock")
