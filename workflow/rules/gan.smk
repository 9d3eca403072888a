GAN_VARIANTS = list(PARAMS.gan.variants)


rule train_gan:
    # Longest first, so short jobs fill the tail: the 800-step models (18) before the SMG
    # baselines (16, smg.smk) and the 400-step ablations (14); all before evaluation (0).
    priority: lambda wildcards: 10 + (PARAMS.gan.variants[wildcards.variant].steps or PARAMS.gan.train.steps) / 100
    input:
        code("train_gan"),
        train="artifacts/latents/train.pt",
        stats="artifacts/latents/stats.json",
        autoencoder="artifacts/autoencoder/model.pt",
    output:
        model="artifacts/gan/{variant}/generator.pt",
        snapshot="artifacts/gan/{variant}/snapshot.pt",
        curve="results/gan/{variant}/curve.csv",
        figure="results/figures/gan_{variant}.png",
    log:
        "results/logs/train_gan-{variant}.log",
    params:
        settings=settings("audio", "gan", "compute"),
    wildcard_constraints:
        variant=any_name(GAN_VARIANTS),
    shell:
        stage("train_gan", "variant")
