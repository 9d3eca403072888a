SMG_VARIANTS = list(PARAMS.smg.variants)
SMG_DEFAULT = list(PARAMS.smg.at_scale("default"))  # `rule all`; the extended scale has its own target
SMG_OUTPUTS = [ROOT + "artifacts/smg/{variant}/smg.pt", ROOT + "results/smg/{variant}/curve.csv",
               ROOT + "results/smg/{variant}/metrics.json"]  # plain patterns for targets, as GAN_OUTPUTS


rule rvq:
    threads: threads("rvq")
    resources: **resources("rvq")
    priority: 10
    input:
        code("rvq"),
        settings=settings("rvq", "rvq"),
        train=ROOT + "artifacts/latents/train.pt",
        validation=ROOT + "artifacts/latents/validation.pt",
        stats=ROOT + "artifacts/latents/stats.json",
    output:
        model=ROOT + "artifacts/rvq/model.pt",
        metrics=ROOT + "results/rvq.json",
    log:
        ROOT + "results/logs/rvq.log",
    shell:
        stage("rvq")


rule train_smg:
    threads: threads("train_smg")
    resources: **resources("train_smg")
    priority: lambda wildcards: 0 if PARAMS.smg.variants[wildcards.variant].scale == "extended" else 16  # see train_gan
    input:
        code("train_smg"),
        settings=settings("train_smg", "smg", "audio", "rvq", "data.sampler", "compute", variants=SMG_VARIANTS),
        train=ROOT + "artifacts/latents/train.pt",
        validation=ROOT + "artifacts/latents/validation.pt",
        stats=ROOT + "artifacts/latents/stats.json",
        rvq=ROOT + "artifacts/rvq/model.pt",
        autoencoder=ROOT + "artifacts/autoencoder/model.pt",
    output:
        model=SMG_OUTPUTS[0],
        curve=SMG_OUTPUTS[1],
        metrics=SMG_OUTPUTS[2],
    log:
        ROOT + "results/logs/train_smg-{variant}.log",
    wildcard_constraints:
        variant=any_name(SMG_VARIANTS),
    shell:
        stage("train_smg", "variant")
