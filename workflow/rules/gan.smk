GAN_VARIANTS = list(PARAMS.gan.variants)


rule train_gan:
    # Longest first, so short jobs fill the tail: the 800-step models (18) before the SMG
    # baselines (16, smg.smk) and the 400-step ablations (14); all before evaluation (0).
    priority: lambda wildcards: 10 + (PARAMS.gan.variants[wildcards.variant].steps or PARAMS.gan.train.steps) / 100
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
