rule autoencoder:
    threads: threads("autoencoder")
    resources: **resources("autoencoder")
    priority: 50
    input:
        code("autoencoder"),
        settings=settings("autoencoder", "audio", "autoencoder", "data.sampler", "compute"),
        index=ROOT + "artifacts/data/index.csv",
    output:
        model=ROOT + "artifacts/autoencoder/model.pt",
        curve=ROOT + "results/autoencoder/curve.csv",
    log:
        ROOT + "results/logs/autoencoder.log",
    shell:
        stage("autoencoder")


rule latents:
    threads: threads("latents")
    resources: **resources("latents")
    priority: 50  # on the critical path: every training stage waits for it
    input:
        code("latents"),
        settings=settings("latents", "audio", "latents"),
        model=ROOT + "artifacts/autoencoder/model.pt",
        index=ROOT + "artifacts/data/index.csv",
    output:
        train=ROOT + "artifacts/latents/train.pt",
        validation=ROOT + "artifacts/latents/validation.pt",
        index=ROOT + "artifacts/latents/index.csv",
    log:
        ROOT + "results/logs/latents.log",
    shell:
        stage("latents")


rule norm_stats:
    threads: threads("norm_stats")
    resources: **resources("norm_stats")
    priority: 50
    input:
        code("norm_stats"),
        train=ROOT + "artifacts/latents/train.pt",
    output:
        stats=ROOT + "artifacts/latents/stats.json",
    log:
        ROOT + "results/logs/norm_stats.log",
    shell:
        stage("norm_stats")


rule autoencoder_report:
    threads: threads("autoencoder_report")
    resources: **resources("autoencoder_report")
    input:
        code("autoencoder_report"),
        settings=settings("autoencoder_report", "audio", "autoencoder_report"),
        model=ROOT + "artifacts/autoencoder/model.pt",
        index=ROOT + "artifacts/data/index.csv",
        curve=ROOT + "results/autoencoder/curve.csv",
    output:
        metrics=ROOT + "results/autoencoder.json",
        table=in_report(ROOT + "results/autoencoder", ".csv", ".md", ".tex", category="Autoencoder"),
        figure=report(ROOT + "results/figures/autoencoder_curves.png", category="Autoencoder"),
    log:
        ROOT + "results/logs/autoencoder_report.log",
    shell:
        stage("autoencoder_report")
