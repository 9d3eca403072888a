rule latency:
    input:
        code("latency"),
        generator="artifacts/gan/tau01/generator.pt",
    output:
        metrics="results/latency.json",
        table=multiext("results/table5", ".csv", ".md", ".tex"),
        figure="results/figures/latency.png",
    log:
        "results/logs/latency.log",
    params:
        settings=settings("latency"),
    threads: workflow.cores  # runs alone: other jobs would distort the timings
    shell:
        stage("latency")
