EVAL_SYSTEMS = list(PARAMS.evaluation.systems)


rule cocola_local:
    input:
        code("cocola_local"),
        index="artifacts/data/index.csv",
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
        tracker="results/beat_tracker.json",
        checkpoint=lambda w: PARAMS.evaluation.systems[w.system].checkpoint,
    output:
        summary="results/eval/{system}.json",
        examples="results/eval/{system}.examples.csv",
        embeddings="artifacts/eval/embeddings/{system}.npz",
    log:
        "results/logs/evaluate-{system}.log",
    params:
        settings=settings("audio", "metrics", "evaluation"),
    wildcard_constraints:
        system=any_name(EVAL_SYSTEMS),
    shell:
        stage("evaluate", "system")


rule metric_validation:
    input:
        code("metric_validation"),
        test_list="artifacts/eval/test_list.csv",
        reference="artifacts/eval/reference.pt",
        cocola="artifacts/metrics/cocola_local.pt",
        autoencoder="artifacts/autoencoder/model.pt",
    output:
        report="results/metric_validation.json",
        table=multiext("results/metric_validation", ".csv", ".md"),
        figure="results/figures/metric_validation.png",
    log:
        "results/logs/metric_validation.log",
    params:
        settings=settings("audio", "metrics", "evaluation", "metric_validation"),
    shell:
        stage("metric_validation")


rule tables:
    input:
        code("tables"),
        evals=expand("results/eval/{system}.json", system=EVAL_SYSTEMS),
        examples=expand("results/eval/{system}.examples.csv", system=EVAL_SYSTEMS),
        embeddings=expand("artifacts/eval/embeddings/{system}.npz", system=EVAL_SYSTEMS),
        reference="artifacts/eval/reference.pt",
        validation="results/metric_validation.json",
        reports=["results/autoencoder.json", "results/beat_tracker.json", "results/cocola_local.json",
                 "results/rvq.json", "results/latency.json"],  # latency: so the README's stage times are complete
    output:
        tables=multiext("results/table1", ".csv", ".md", ".tex")
        + multiext("results/table2", ".csv", ".md", ".tex")
        + multiext("results/table3", ".csv", ".md", ".tex"),
        claims=multiext("results/claims", ".csv", ".md"),
        environment="results/environment.json",
        figure="results/figures/drift.png",
        readme="results/README.md",
    log:
        "results/logs/tables.log",
    params:
        settings=settings("evaluation", "statistics"),
    shell:
        stage("tables")
