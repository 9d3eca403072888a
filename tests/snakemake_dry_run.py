"""Reading `snakemake -n` output: one block per job, named as DVC names the stage (rule, or
rule@variant). Shared by the pipeline tests (not a test module itself)."""

import re
from collections.abc import Iterator

TARGETS = ("all", "extended")  # rules without a command: the default DAG and the extended scale


def job_blocks(out: str) -> Iterator[tuple[str, str]]:
    """``(job name, block)`` for every job of a dry run but the targets ``all`` and ``extended``
    (no command); several wildcards join with '-'."""
    for block in re.split(r"\n(?=\[.*\d{4}\]\n)", out):
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.M)
        if not rule or rule.group(1) in TARGETS:
            continue
        wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        name = rule.group(1)
        if wildcards:
            name += "@" + "-".join(v.split("=", 1)[1] for v in wildcards.group(1).split(", "))
        yield name, block
