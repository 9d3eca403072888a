rule data:
    threads: threads("data")
    resources: **resources("data")
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
