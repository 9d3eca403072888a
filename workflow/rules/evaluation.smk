EVAL_SYSTEMS = list(PARAMS.evaluation.systems)


rule cocola_local:
    input:
        code("cocola_local"),
        index="artifacts/data/index.csv",
        autoencoder="artifacts/autoencoder/model.pt",  # augmented positives pass through it
    output:
        model="artifacts/metrics/cocola_local.pt",
        report="results/cocola_local.json",
    log:
        "results/logs/cocola_local.log",
    params:
        settings=settings("audio", "metrics"),
    shell:
        stage("cocola_local")


rule eval_reference:
    input:
        code("eval_reference"),
        index="artifacts/data/index.csv",
        beats="artifacts/data/beats.json",
    output:
        test_list="artifacts/eval/test_list.csv",
        reference="artifacts/eval/reference.pt",
        tracker="results/beat_tracker.json",
    log:
        "results/logs/eval_reference.log",
    params:
        settings=settings("audio", "metrics", "evaluation"),
    shell:
        stage("eval_reference")


rule evaluate:
    input:
        code("evaluate"),
        test_list="artifacts/eval/test_list.csv",
        reference="artifacts/eval/reference.pt",
        cocola="artifacts/metrics/cocola_local.pt",
        checkpoint=lambda w: PARAMS.evaluation.systems[w.system].checkpoint,
    output:
        "results/eval/{system}.json",
    log:
        "results/logs/evaluate-{system}.log",
    params:
        settings=settings("audio", "metrics", "evaluation"),
    wildcard_constraints:
        system="|".join(EVAL_SYSTEMS),
    shell:
        stage("evaluate", " --variant {wildcards.system}")


rule tables:
    input:
        code("tables"),
        evals=expand("results/eval/{system}.json", system=EVAL_SYSTEMS),
        reports=["results/autoencoder.json", "results/beat_tracker.json", "results/cocola_local.json",
                 "results/rvq.json", "results/latency.json"],  # latency: so the README's stage times are complete
    output:
        tables=multiext("results/table1", ".csv", ".md", ".tex")
        + multiext("results/table2", ".csv", ".md", ".tex")
        + multiext("results/table3", ".csv", ".md", ".tex"),
        figure="results/figures/drift.png",
        readme="results/README.md",
    log:
        "results/logs/tables.log",
    shell:
        stage("tables")
