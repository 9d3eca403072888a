# The companion page results/index.html (stage `companion`, last in the DAG): the claims, the tables
# beside the paper's values, the figures and audio examples of the headline systems
# (results/companion/). Open results/index.html; `snakemake --report` archives tables and figures.
from liveband.companion.systems import REFERENCE, headline_systems

COMPANION_SYSTEMS = headline_systems(PARAMS.evaluation)


rule companion:
    threads: threads("companion")
    resources: **resources("companion")
    input:
        code("companion"),
        settings=settings("companion", "audio", "evaluation", "listening"),
        test_list=ROOT + "artifacts/eval/test_list.csv",
        index=ROOT + "artifacts/data/index.csv",
        checkpoints=[ROOT + c for _, c in COMPANION_SYSTEMS.values()],
        examples=expand(ROOT + "results/eval/{system}.examples.csv", system=[REFERENCE, *COMPANION_SYSTEMS]),
        tables=expand(ROOT + "results/{name}.md", name=["claims", "table1", "table2", "table3", "table4", "table5",
                                                        "metric_validation", "README"]),
        environment=ROOT + "results/environment.json",
        figures=expand(ROOT + "results/figures/{name}.png",
                       name=["autoencoder_curves", *(f"gan_{v}" for v in GAN_DEFAULT), "drift", "latency",
                             "metric_validation", "listening"]),
    output:
        page=ROOT + "results/index.html",
        audio=directory(ROOT + "results/companion"),
    log:
        ROOT + "results/logs/companion.log",
    shell:
        stage("companion")
