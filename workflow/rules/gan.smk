GAN_VARIANTS = list(PARAMS.gan.variants)
GAN_DEFAULT = list(PARAMS.gan.at_scale("default"))  # `rule all`; the extended scale has its own target
# train_gan's outputs as plain patterns: targets expand() these, not the rule's flagged outputs,
# which expand() refuses under a default storage provider (workflow/profiles/kubernetes)
GAN_OUTPUTS = [ROOT + "artifacts/gan/{variant}/generator.pt", ROOT + "artifacts/gan/{variant}/snapshot.pt",
               ROOT + "results/gan/{variant}/curve.csv", ROOT + "results/figures/gan_{variant}.png"]


def gan_priority(variant):
    v = PARAMS.gan.variants[variant]
    return 0 if v.scale == "extended" else 10 + (v.steps or PARAMS.gan.train.steps) / 100


rule train_gan:
    threads: threads("train_gan")
    resources: **resources("train_gan")
    # Longest first, so short jobs fill the tail: the full-length models (10 + steps/100) before the
    # SMG baselines (16, smg.smk) and the ablations; all before evaluation (1). The extended scale's
    # long runs (0) only take a core that the default DAG leaves idle.
    priority: lambda wildcards: gan_priority(wildcards.variant)
    input:
        code("train_gan"),
        settings=settings("train_gan", "gan", "audio", "data.sampler", "compute", variants=GAN_VARIANTS),
        train=ROOT + "artifacts/latents/train.pt",
        stats=ROOT + "artifacts/latents/stats.json",
        autoencoder=ROOT + "artifacts/autoencoder/model.pt",
    output:
        model=GAN_OUTPUTS[0],
        snapshot=GAN_OUTPUTS[1],
        curve=GAN_OUTPUTS[2],
        figure=report(GAN_OUTPUTS[3], category="GAN training", subcategory="{variant}"),
    log:
        ROOT + "results/logs/train_gan-{variant}.log",
    wildcard_constraints:
        variant=any_name(GAN_VARIANTS),
    shell:
        stage("train_gan", "variant")
