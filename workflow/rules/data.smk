rule data:
    threads: 2
    input:
        code("data"),
    output:
        tree=directory("artifacts/data/slakh"),
        index="artifacts/data/index.csv",
        beats="artifacts/data/beats.json",
        summary="results/data.json",
    log:
        "results/logs/data.log",
    params:
        settings=settings("audio", "data"),
    shell:
        stage("data")
