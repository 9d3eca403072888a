GAN_VARIANTS = list(PARAMS.gan.variants)


rule train_gan:
    priority: 10
    input:
        code("train_gan"),
        train="artifacts/latents/train.pt",
        stats="artifacts/latents/stats.json",
        autoencoder="artifacts/autoencoder/model.pt",
    output:
        model="artifacts/gan/{variant}/generator.pt",
        curve="results/gan/{variant}/curve.csv",
        figure="results/figures/gan_{variant}.png",
    log:
        "results/logs/train_gan-{variant}.log",
    params:
        settings=settings("audio", "gan"),
    wildcard_constraints:
        variant="|".join(GAN_VARIANTS),
    shell:
        stage("train_gan", " --variant {wildcards.variant}")
