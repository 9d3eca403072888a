SMG_VARIANTS = list(PARAMS.smg.variants)


rule rvq:
    priority: 10
    input:
        code("rvq"),
        train="artifacts/latents/train.pt",
        validation="artifacts/latents/validation.pt",
        stats="artifacts/latents/stats.json",
    output:
        model="artifacts/rvq/model.pt",
        metrics="results/rvq.json",
    log:
        "results/logs/rvq.log",
    params:
        settings=settings("rvq"),
    shell:
        stage("rvq")


rule train_smg:
    priority: 16  # between the long GAN models and the ablations (see train_gan)
    input:
        code("train_smg"),
        train="artifacts/latents/train.pt",
        validation="artifacts/latents/validation.pt",
        stats="artifacts/latents/stats.json",
        rvq="artifacts/rvq/model.pt",
        autoencoder="artifacts/autoencoder/model.pt",
    output:
        model="artifacts/smg/{variant}/smg.pt",
        curve="results/smg/{variant}/curve.csv",
        metrics="results/smg/{variant}/metrics.json",
    log:
        "results/logs/train_smg-{variant}.log",
    params:
        settings=settings("audio", "smg", "compute"),
    wildcard_constraints:
        variant=any_name(SMG_VARIANTS),
    shell:
        stage("train_smg", "variant")
