"""What Snakemake and DVC share beyond dvc.yaml: where a profile's files go, the settings each
job reads, and recording a Snakemake run in ``dvc.lock``.

- Paths: the default profile's files are where they always were (``artifacts/``, ``results/``,
  ``listening/``); any other profile's live under ``runs/<profile>/`` (the stage runs there).
- Settings: Snakemake's form of DVC's ``params``. Each job's settings (the params sections its
  stage reads, with a variant's own values in place of the shared ones they override) are a
  JSON file that is rewritten only when it changes, stamped with the time of the params edit:
  an edit reruns exactly the jobs that read the edited value, and a job DVC has rerun since the
  edit is up to date for Snakemake too.
- Lock: after a Snakemake run, ``dvc commit`` records what it built (outputs are not cached by
  DVC, so the commit hashes them in place and never rewrites or relinks them).
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

from liveband.schema import check_name
from liveband.utils.atomic import write_text

# Shared settings a variant's own key replaces (liveband.builders applies them).
VARIANT_OVERRIDES: dict[str, dict[str, tuple[str, ...]]] = {
    "gan": {
        "sink": ("generator", "sink"),
        "discriminator_width": ("discriminator", "width"),
        "steps": ("train", "steps"),
        "seed": ("train", "seed"),
        "gp_mode": ("train", "gradient_penalty", "mode"),
        "gp_weight": ("train", "gradient_penalty", "weight"),
    },
    "smg": {"steps": ("train", "steps")},  # smg.train.seed is still read by a seed replica (validation batches)
}


def run_root(profile: str) -> str:
    """The prefix of a profile's files: '' for default, ``runs/<profile>/`` otherwise."""
    profile = check_name(profile, "profile")
    return "" if profile == "default" else f"runs/{profile}/"


def job_settings(merged: dict, sections: tuple[str, ...], variant: str | None = None) -> dict:
    """The params a job reads: ``sections`` (dotted for a sub-section) of the merged params;
    with ``variant``, the first
    section is a variant family (``gan`` or ``smg``): its other variants are dropped and the
    shared values this variant overrides are replaced by the variant's own."""
    settings = {s: _get(merged, s) for s in sections}
    if variant is None:
        return settings
    family = sections[0]
    shared = copy.deepcopy({k: v for k, v in merged[family].items() if k != "variants"})
    own = merged[family]["variants"][variant] or {}
    for key, path in VARIANT_OVERRIDES.get(family, {}).items():
        if own.get(key) is not None:
            node = shared
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = own[key]
    settings[family] = {**shared, "variant": own}
    return settings


def _get(merged: dict, dotted: str):
    """``merged["a"]["b"]`` for ``"a.b"`` (a section or a sub-section, as DVC's params name them)."""
    node = merged
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def write_settings(path: str | Path, settings: dict, edited: list[str | Path]) -> Path:
    """Write ``settings`` to ``path`` only if they changed; a changed file gets the time of the
    last edit to the ``edited`` files (params.yaml, the profile overlay), not now."""
    path = Path(path)
    text = json.dumps(settings, sort_keys=True, indent=1) + "\n"
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return path
    write_text(path, text)
    stamp = max(Path(p).stat().st_mtime for p in edited)
    os.utime(path, (stamp, stamp))
    return path


def record_lock(root: str | Path = ".") -> list[str]:
    """Record every DVC stage whose outputs all exist (what Snakemake built) in ``dvc.lock``, as
    ``dvc commit --force STAGE...`` does; returns their names.

    Done through DVC's repository API with one read and one write of ``dvc.lock``: the
    ``dvc commit`` command re-read and rewrote the whole lock file once per stage (45 stages of
    a 250 KB lock file: 2 min 40 s with every hash cached, against 13 s here, the same file).
    Skipped, with a message, outside a DVC repository, without DVC or when the commit fails
    (the run's outputs stay; ``dvc commit`` can be rerun by hand)."""
    root = Path(root)
    try:
        from dvc.repo import Repo
    except ImportError:
        Repo = None
    if not (root / ".dvc").is_dir() or Repo is None:
        print("dvc.lock not recorded: no DVC repository here or no dvc package", file=sys.stderr)
        return []
    before = os.getcwd()
    try:
        os.chdir(root)    # DVC resolves stage paths against the working directory, as its CLI runs
        with Repo(".") as repo, repo.lock:
            built = [stage for stage in repo.index.stages if all(Path(str(o.def_path)).exists() for o in stage.outs)]
            for stage in built:
                stage.save()      # hash deps, params and outputs in place (outputs are not cached)
                stage.commit()
            if built:
                built[0].dvcfile.dump_stages(built, update_pipeline=False)
            return [stage.addressing for stage in built]
    except Exception as exc:  # the Snakemake run itself succeeded: say so, do not fail it
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"dvc.lock not recorded: {type(exc).__name__}: {message}", file=sys.stderr)
        return []
    finally:
        os.chdir(before)


def main(argv: list[str] | None = None) -> int:
    """``python -m liveband.pipeline record-lock``: what the Snakefile runs after a default run."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["record-lock"]:
        print("usage: python -m liveband.pipeline record-lock", file=sys.stderr)
        return 2
    built = record_lock()
    print(f"dvc.lock: recorded {len(built)} stages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

