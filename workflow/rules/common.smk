# Helpers shared by the rules (and only here).
import json
import re
from pathlib import Path

import yaml

from liveband.config import load_params, merged_params

PROFILE = config.get("profile", "default")
# Validates params.yaml + the profile overlay now: a bad key fails before any job runs.
PARAMS = load_params("params.yaml", PROFILE)
DVC_STAGES = yaml.safe_load(Path("dvc.yaml").read_text())["stages"]


def settings(*sections):
    """The merged params sections a rule depends on, as a string: a change reruns the rule."""
    merged = merged_params("params.yaml", PROFILE)
    return json.dumps({s: merged[s] for s in sections}, sort_keys=True)


def stage(name, variant=None):
    """The one command form every rule runs (dvc.yaml runs the same). Names are validated
    identifiers (liveband.schema.NAME_PATTERN) and quoted as well; ``variant`` names the
    wildcard that selects a params entry."""
    cmd = f"python -m liveband.stages.{name} --profile '{PROFILE}'"
    return cmd + (f" --variant '{{wildcards.{variant}}}'" if variant else "")


def any_name(names):
    """A wildcard constraint matching exactly these names."""
    return "|".join(re.escape(n) for n in names)


def code(stage_name):
    """The package files and profiles a stage depends on, as dvc.yaml lists them (one list for
    both tools); folders expand to their files so an edit to any of them reruns the rule."""
    spec = DVC_STAGES[stage_name]
    deps = spec.get("do", spec)["deps"]
    files = []
    for dep in deps:
        path = Path(dep)
        if not (dep.startswith("src/") or dep.startswith("profiles")):
            continue
        files.extend(sorted(str(p) for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
                     if path.is_dir() else [dep])
    return files
