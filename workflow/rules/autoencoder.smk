rule autoencoder:
    threads: 1  # a second thread gained 15 % (measured); the other core runs cocola_local meanwhile
    priority: 50
    input:
        code("autoencoder"),
        index="artifacts/data/index.csv",
    output:
        model="artifacts/autoencoder/model.pt",
        curve="results/autoencoder/curve.csv",
    log:
        "results/logs/autoencoder.log",
    params:
        settings=settings("audio", "autoencoder", "compute"),
    shell:
        stage("autoencoder")


rule latents:
    threads: 2
    priority: 50  # on the critical path: every training stage waits for it
    input:
        code("latents"),
        model="artifacts/autoencoder/model.pt",
        index="artifacts/data/index.csv",
    output:
        train="artifacts/latents/train.pt",
        validation="artifacts/latents/validation.pt",
        test="artifacts/latents/test.pt",
        index="artifacts/latents/index.csv",
    log:
        "results/logs/latents.log",
    params:
        settings=settings("audio", "latents"),
    shell:
        stage("latents")


rule norm_stats:
    priority: 50
    input:
        code("norm_stats"),
        train="artifacts/latents/train.pt",
    output:
        stats="artifacts/latents/stats.json",
    log:
        "results/logs/norm_stats.log",
    shell:
        stage("norm_stats")


rule autoencoder_report:
    input:
        code("autoencoder_report"),
        model="artifacts/autoencoder/model.pt",
        index="artifacts/data/index.csv",
        curve="results/autoencoder/curve.csv",
    output:
        metrics="results/autoencoder.json",
        table=multiext("results/autoencoder", ".csv", ".md", ".tex"),
        figure="results/figures/autoencoder_curves.png",
    log:
        "results/logs/autoencoder_report.log",
    params:
        settings=settings("audio", "autoencoder_report"),
    shell:
        stage("autoencoder_report")
