rule latency:
    threads: threads("latency")
    resources: **resources("latency")
    input:
        code("latency"),
        settings=settings("latency", "latency"),
        generator=ROOT + "artifacts/gan/tau01/generator.pt",
    output:
        metrics=ROOT + "results/latency.json",
        table=in_report(ROOT + "results/table5", ".csv", ".md", ".tex", category="Latency"),
        figure=report(ROOT + "results/figures/latency.png", category="Latency"),
    log:
        ROOT + "results/logs/latency.log",
    shell:
        stage("latency")
