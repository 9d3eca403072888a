# Helpers shared by the rules (and only here).
import json

from liveband.config import load_params, merged_params

PROFILE = config.get("profile", "default")
# Validates params.yaml + the profile overlay now: a bad key fails before any job runs.
load_params("params.yaml", PROFILE)


def settings(*sections):
    """The merged params sections a rule depends on, as a string: a change reruns the rule."""
    merged = merged_params("params.yaml", PROFILE)
    return json.dumps({s: merged[s] for s in sections}, sort_keys=True)


def stage(name, extra=""):
    """The one command form every rule runs (dvc.yaml runs the same)."""
    return f"python -m liveband.stages.{name} --profile {PROFILE}" + extra
