"""Pre-registered exclusions of listening-test sessions (docs/LISTENING.md), then the
per-participant means the statistics rest on.

Reasons (a session may fail several; it is excluded if it fails any):

- ``invalid``: the file does not pass the shared validator (``schema.validate_response``);
- ``incomplete``: ``complete`` is false (a complete session's ratings are checked by the validator);
- ``instructed``: the instructed-response rating is missing or not the expected value;
- ``headphones``: the headphone-check answer is not the config's answer (recomputed, not ``passed``);
- ``post_screening``: in some test, the participant's mean rating of ``ground_truth`` is not
  above that of ``anchor`` on either of the test's two dimensions (both <=). "Both" because the
  adherence test's anchor is a real stem, which may be rated as consistent as the reference;
- ``retest``: a repeated stimulus's rating differs from its first rating by more than 2 points
  on either dimension.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from liveband.listening.schema import CONDITIONS, DIMENSIONS, TESTS, validate_response

REASONS = ("invalid", "incomplete", "instructed", "headphones", "post_screening", "retest")
RETEST_TOLERANCE = 2


def exclusion_reasons(response, config: dict, conditions: dict[str, str]) -> list[str]:
    """The reasons ``response`` is excluded (empty: kept). ``conditions`` maps token -> condition."""
    if validate_response(response, config):
        return ["invalid"]
    if not response["complete"]:
        return ["incomplete"]
    ratings = response["ratings"]
    reasons = []
    instructed = config["attention"]["instructed"]
    answers = [r["rating"] for r in ratings if r["kind"] == "instructed" and r["dimension"] == instructed["dimension"]]
    if not answers or any(a != instructed["expected"] for a in answers):
        reasons.append("instructed")
    spec = config.get("headphone_check")
    if spec is not None and response["headphone_check"].get("answer") != spec["answer"]:
        reasons.append("headphones")
    if _fails_post_screening(ratings, conditions):
        reasons.append("post_screening")
    if _fails_retest(ratings):
        reasons.append("retest")
    return reasons


def _fails_post_screening(ratings: list, conditions: dict[str, str]) -> bool:
    means = condition_means(ratings, conditions)
    for dims in TESTS.values():
        if all(means.get(("ground_truth", d), np.nan) <= means.get(("anchor", d), np.nan) for d in dims):
            return True
    return False


def _fails_retest(ratings: list) -> bool:
    first = {(r["stimulus"], r["dimension"]): r["rating"] for r in ratings if r["kind"] == "item"}
    return any(abs(r["rating"] - first[(r["stimulus"], r["dimension"])]) > RETEST_TOLERANCE
               for r in ratings if r["kind"] == "repeat" and (r["stimulus"], r["dimension"]) in first)


def condition_means(ratings: list, conditions: dict[str, str]) -> dict[tuple[str, str], float]:
    """``{(condition, dimension): mean rating}`` over one session's ``item`` ratings."""
    acc = defaultdict(list)
    for r in ratings:
        if r["kind"] == "item":
            acc[(conditions[r["stimulus"]], r["dimension"])].append(r["rating"])
    return {k: float(np.mean(v)) for k, v in acc.items()}


def screen(responses: dict[str, object], config: dict, conditions: dict[str, str]) -> dict:
    """Apply the exclusions to ``{name: response}``: kept names, per-reason counts, reasons per file."""
    per_file = {name: exclusion_reasons(obj, config, conditions) for name, obj in sorted(responses.items())}
    counts = {reason: sum(reason in r for r in per_file.values()) for reason in REASONS}
    kept = [name for name, r in per_file.items() if not r]
    return {"n_files": len(per_file), "kept": kept, "n_excluded": len(per_file) - len(kept),
            "counts": counts, "reasons": {n: r for n, r in per_file.items() if r}}


def participant_matrix(responses: list[dict], conditions: dict[str, str]) -> dict[str, np.ndarray]:
    """Per dimension, an (n_sessions, 4) array of participant means in :data:`CONDITIONS` order."""
    means = [condition_means(r["ratings"], conditions) for r in responses]
    return {d: np.array([[m.get((c, d), np.nan) for c in CONDITIONS] for m in means]).reshape(len(means), len(CONDITIONS))
            for d in DIMENSIONS}
