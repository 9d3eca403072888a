# Listening test (paper Table 4): the kit to serve, then the statistics of whatever responses
# have been collected in params listening.responses (read if present; not an input).


rule listening_kit:
    threads: threads("listening_kit")
    resources: **resources("listening_kit")
    input:
        code("listening_kit"),
        settings=settings("listening_kit", "audio", "data", "evaluation", "listening"),
        test_list=ROOT + "artifacts/eval/test_list.csv",
        liveband=ROOT + "artifacts/gan/tau01/generator.pt",
        smg=ROOT + "artifacts/smg/tau0/smg.pt",
        autoencoder=ROOT + "artifacts/autoencoder/model.pt",
    output:
        kit=directory(ROOT + "listening/kit"),
        key=ROOT + "listening/key.csv",
    log:
        ROOT + "results/logs/listening_kit.log",
    shell:
        stage("listening_kit")


rule listening_stats:
    threads: threads("listening_stats")
    resources: **resources("listening_stats")
    input:
        code("listening_stats"),
        settings=settings("listening_stats", "listening", "statistics"),
        kit=ROOT + "listening/kit",
        key=ROOT + "listening/key.csv",
    output:
        table=in_report(ROOT + "results/table4", ".csv", ".md", ".tex", category="Listening test"),
        metrics=ROOT + "results/listening.json",
        figure=report(ROOT + "results/figures/listening.png", category="Listening test"),
    log:
        ROOT + "results/logs/listening_stats.log",
    shell:
        stage("listening_stats")
