# Listening test (paper Table 4): the kit to serve, then the statistics of whatever responses
# have been collected in params listening.responses (read if present; not an input).


rule listening_kit:
    input:
        code("listening_kit"),
        test_list="artifacts/eval/test_list.csv",
        liveband="artifacts/gan/tau01/generator.pt",
        smg="artifacts/smg/tau0/smg.pt",
        autoencoder="artifacts/autoencoder/model.pt",
    output:
        kit=directory("listening/kit"),
        key="listening/key.csv",
    log:
        "results/logs/listening_kit.log",
    params:
        settings=settings("audio", "data", "evaluation", "listening"),
    shell:
        stage("listening_kit")


rule listening_stats:
    input:
        code("listening_stats"),
        kit="listening/kit",
        key="listening/key.csv",
    output:
        table=multiext("results/table4", ".csv", ".md", ".tex"),
        metrics="results/listening.json",
        figure="results/figures/listening.png",
    log:
        "results/logs/listening_stats.log",
    params:
        settings=settings("listening", "statistics"),
    shell:
        stage("listening_stats")
