GAN_VARIANTS = list(PARAMS.gan.variants)
GAN_DEFAULT = list(PARAMS.gan.at_scale("default"))  # `rule all`; the extended scale has its own target


def gan_priority(variant):
    v = PARAMS.gan.variants[variant]
    return 0 if v.scale == "extended" else 10 + (v.steps or PARAMS.gan.train.steps) / 100


rule train_gan:
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
        model=ROOT + "artifacts/gan/{variant}/generator.pt",
        snapshot=ROOT + "artifacts/gan/{variant}/snapshot.pt",
        curve=ROOT + "results/gan/{variant}/curve.csv",
        figure=report(ROOT + "results/figures/gan_{variant}.png", category="GAN training", subcategory="{variant}"),
    log:
        ROOT + "results/logs/train_gan-{variant}.log",
    wildcard_constraints:
        variant=any_name(GAN_VARIANTS),
    shell:
        stage("train_gan", "variant")
