# Helpers shared by the rules (and only here).
import re
from pathlib import Path

import yaml

from liveband.config import load_params, merged_params
from liveband.errors import LiveBandError
from liveband.pipeline import job_settings, run_root, write_settings

PROFILE = config.get("profile", "default")
# Validates params.yaml + the profile overlay now: a bad key fails before any job runs.
PARAMS = load_params("params.yaml", PROFILE)
MERGED = merged_params("params.yaml", PROFILE)
DVC_STAGES = yaml.safe_load(Path("dvc.yaml").read_text())["stages"]
# Where this profile's files go: '' (artifacts/, results/, listening/) for default, runs/<profile>/ else.
ROOT = run_root(PROFILE)
OVERLAY = f"profiles/{PROFILE}.yaml"
SETTINGS = f".snakemake/liveband/settings/{PROFILE}"
RESOURCES = PARAMS.resources  # per-rule threads, memory, runtime, GPUs (params `resources`)
_unknown = sorted(set(RESOURCES.rules) - set(DVC_STAGES))
if _unknown:
    raise LiveBandError(f"params: resources.rules.{_unknown[0]}: no such rule")


def threads(rule_name):
    """The rule's threads from params (0: every core Snakemake has)."""
    return RESOURCES.of(rule_name)["threads"] or workflow.cores


def resources(rule_name):
    """The rule's job size for an executor: mem_mb, runtime (minutes) and, when it uses any,
    gpu (the name the Slurm and Kubernetes executor plugins read)."""
    own = RESOURCES.of(rule_name)
    return {"mem_mb": own["mem_mb"], "runtime": own["runtime"]} | ({"gpu": own["gpus"]} if own["gpus"] else {})


def settings(rule_name, *sections, variants=None):
    """The settings file of a rule's jobs (one per variant when ``variants`` names the family,
    the first section): the params its stage reads, written now if they changed and stamped
    with the time of the params edit (liveband.pipeline). An input: an edit reruns exactly the
    jobs that read the edited value, as DVC's params do."""
    edited = ["params.yaml"] + ([OVERLAY] if PROFILE != "default" else [])
    if variants is None:
        return str(write_settings(f"{SETTINGS}/{rule_name}.json", job_settings(MERGED, sections), edited))
    for name in variants:
        write_settings(f"{SETTINGS}/{rule_name}-{name}.json", job_settings(MERGED, sections, name), edited)
    return f"{SETTINGS}/{rule_name}-{{variant}}.json"


def stage(name, variant=None):
    """The one command form every rule runs (dvc.yaml runs the same for the default profile).
    Another profile's stage runs in its own folder, runs/<profile>/, so it never touches the
    default's files. Names are validated identifiers (liveband.schema.NAME_PATTERN) and quoted
    as well; ``variant`` names the wildcard that selects a params entry. A training rule given
    more than one GPU (resources) runs under torchrun, one data-parallel rank per GPU."""
    gpus = RESOURCES.of(name)["gpus"]
    launcher = f"torchrun --standalone --nproc-per-node {gpus} -m" if gpus > 1 else "python -m"
    cmd = f"{launcher} liveband.stages.{name} --profile '{PROFILE}'"
    if ROOT:
        back = "/".join(".." for _ in ROOT.strip("/").split("/"))
        cmd = f"mkdir -p '{ROOT}' && cd '{ROOT}' && {cmd} --params '{back}/params.yaml'"
    return cmd + (f" --variant '{{wildcards.{variant}}}'" if variant else "")


def in_report(stem, first, *others, category):
    """A table's files (like multiext): the first (the CSV) goes into `snakemake --report`."""
    return [report(stem + first, category=category)] + [stem + ext for ext in others]


def any_name(names):
    """A wildcard constraint matching exactly these names."""
    return "|".join(re.escape(n) for n in names)


def code(stage_name):
    """The package files and profile overlay a stage depends on, as dvc.yaml lists them (one
    list for both tools); folders expand to their files so an edit to any of them reruns the
    rule. The overlay is this profile's only: editing another profile's file reruns nothing."""
    spec = DVC_STAGES[stage_name]
    deps = spec.get("do", spec)["deps"]
    files = []
    for dep in deps:
        dep = dep.replace("${profile}", PROFILE)
        path = Path(dep)
        if not (dep.startswith("src/") or dep.startswith("profiles")):
            continue
        files.extend(sorted(str(p) for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
                     if path.is_dir() else [dep])
    return files
