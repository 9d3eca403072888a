EVAL_SYSTEMS = list(PARAMS.evaluation.systems)
EVAL_DEFAULT = list(PARAMS.evaluation.at_scale("default"))  # the tables; extended: rule extended_report
EVAL_EXTENDED = list(PARAMS.evaluation.at_scale("extended"))


rule cocola_local:
    threads: threads("cocola_local")
    resources: **resources("cocola_local")
    input:
        code("cocola_local"),
        settings=settings("cocola_local", "audio", "metrics"),
        index=ROOT + "artifacts/data/index.csv",
    output:
        model=ROOT + "artifacts/metrics/cocola_local.pt",
        report=ROOT + "results/cocola_local.json",
    log:
        ROOT + "results/logs/cocola_local.log",
    shell:
        stage("cocola_local")


rule eval_reference:
    threads: threads("eval_reference")
    resources: **resources("eval_reference")
    input:
        code("eval_reference"),
        settings=settings("eval_reference", "audio", "metrics", "evaluation"),
        index=ROOT + "artifacts/data/index.csv",
        beats=ROOT + "artifacts/data/beats.json",
    output:
        test_list=ROOT + "artifacts/eval/test_list.csv",
        reference=ROOT + "artifacts/eval/reference.pt",
        tracker=ROOT + "results/beat_tracker.json",
    log:
        ROOT + "results/logs/eval_reference.log",
    shell:
        stage("eval_reference")


rule evaluate:
    threads: threads("evaluate")
    resources: **resources("evaluate")
    priority: lambda wildcards: 0 if PARAMS.evaluation.systems[wildcards.system].extends else 1
    input:
        code("evaluate"),
        settings=settings("evaluate", "audio", "data.sampler", "metrics", "evaluation"),
        test_list=ROOT + "artifacts/eval/test_list.csv",
        reference=ROOT + "artifacts/eval/reference.pt",
        cocola=ROOT + "artifacts/metrics/cocola_local.pt",
        tracker=ROOT + "results/beat_tracker.json",
        checkpoint=lambda w: ROOT + PARAMS.evaluation.systems[w.system].checkpoint,
    output:
        summary=ROOT + "results/eval/{system}.json",
        examples=ROOT + "results/eval/{system}.examples.csv",
        embeddings=ROOT + "artifacts/eval/embeddings/{system}.npz",
    log:
        ROOT + "results/logs/evaluate-{system}.log",
    wildcard_constraints:
        system=any_name(EVAL_SYSTEMS),
    shell:
        stage("evaluate", "system")


rule metric_validation:
    threads: threads("metric_validation")
    resources: **resources("metric_validation")
    input:
        code("metric_validation"),
        settings=settings("metric_validation", "audio", "metrics", "evaluation", "metric_validation"),
        test_list=ROOT + "artifacts/eval/test_list.csv",
        reference=ROOT + "artifacts/eval/reference.pt",
        cocola=ROOT + "artifacts/metrics/cocola_local.pt",
        autoencoder=ROOT + "artifacts/autoencoder/model.pt",
    output:
        report=ROOT + "results/metric_validation.json",
        table=in_report(ROOT + "results/metric_validation", ".csv", ".md", category="Metric validation"),
        figure=report(ROOT + "results/figures/metric_validation.png", category="Metric validation"),
    log:
        ROOT + "results/logs/metric_validation.log",
    shell:
        stage("metric_validation")


rule tables:
    threads: threads("tables")
    resources: **resources("tables")
    input:
        code("tables"),
        settings=settings("tables", "evaluation", "statistics"),
        evals=expand(ROOT + "results/eval/{system}.json", system=EVAL_DEFAULT),
        examples=expand(ROOT + "results/eval/{system}.examples.csv", system=EVAL_DEFAULT),
        embeddings=expand(ROOT + "artifacts/eval/embeddings/{system}.npz", system=EVAL_DEFAULT),
        reference=ROOT + "artifacts/eval/reference.pt",
        validation=ROOT + "results/metric_validation.json",
        reports=[ROOT + "results/autoencoder.json", ROOT + "results/beat_tracker.json", ROOT + "results/cocola_local.json",
                 ROOT + "results/rvq.json", ROOT + "results/latency.json"],  # latency: so the README's stage times are complete
    output:
        tables=in_report(ROOT + "results/table1", ".csv", ".md", ".tex", category="Tables")
        + in_report(ROOT + "results/table2", ".csv", ".md", ".tex", category="Tables")
        + in_report(ROOT + "results/table3", ".csv", ".md", ".tex", category="Tables"),
        claims=in_report(ROOT + "results/claims", ".csv", ".md", category="Tables"),
        environment=ROOT + "results/environment.json",
        figure=report(ROOT + "results/figures/drift.png", category="Tables"),
        readme=ROOT + "results/README.md",
        headline=expand(ROOT + "results/headline/{part}/{system}.json", part=["first", "drift"], system=EVAL_DEFAULT),
    log:
        ROOT + "results/logs/tables.log",
    shell:
        stage("tables")


rule extended_report:
    threads: threads("extended_report")
    resources: **resources("extended_report")
    # The extended scale (target `extended`): the longer-trained headline systems beside the
    # default ones (results/extended/). Not part of `rule all`.
    input:
        code("extended_report"),
        settings=settings("extended_report", "evaluation", "statistics"),
        evals=expand(ROOT + "results/eval/{system}.json", system=EVAL_SYSTEMS),
        examples=expand(ROOT + "results/eval/{system}.examples.csv", system=EVAL_SYSTEMS),
        embeddings=expand(ROOT + "artifacts/eval/embeddings/{system}.npz", system=EVAL_SYSTEMS),
        checkpoints=sorted({ROOT + s.checkpoint for s in PARAMS.evaluation.systems.values()}),
        reference=ROOT + "artifacts/eval/reference.pt",
        validation=ROOT + "results/metric_validation.json",
    output:
        claims=in_report(ROOT + "results/extended/claims", ".csv", ".md", category="Extended scale"),
        headline=in_report(ROOT + "results/extended/headline", ".csv", ".md", ".tex", category="Extended scale"),
        figure=report(ROOT + "results/extended/figures/steps.png", category="Extended scale"),
    log:
        ROOT + "results/logs/extended_report.log",
    shell:
        stage("extended_report")


rule extended:
    # `snakemake --cores 2 extended` (make extended): the extended scale, after (or with) `all`.
    input:
        rules.extended_report.output,
        expand(GAN_OUTPUTS, variant=list(PARAMS.gan.at_scale("extended"))),
        expand(SMG_OUTPUTS, variant=list(PARAMS.smg.at_scale("extended"))),
