rule data:
    threads: 2
    input:
        code("data"),
        settings=settings("data", "audio", "data"),
    output:
        tree=directory(ROOT + "artifacts/data/slakh"),
        index=ROOT + "artifacts/data/index.csv",
        beats=ROOT + "artifacts/data/beats.json",
        summary=ROOT + "results/data.json",
    log:
        ROOT + "results/logs/data.log",
    shell:
        stage("data")
