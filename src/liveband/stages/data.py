"""Stage `data`: validate and index a real Slakh2100 tree, or build the synthetic set.

Outputs (paths fixed here, declared identically in workflow/rules/data.smk and dvc.yaml):
``artifacts/data/slakh/`` (the synthetic tree, or a pointer file when a real tree is used),
``artifacts/data/index.csv``, ``artifacts/data/beats.json``, ``results/data.json``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from liveband.config import Params
from liveband.data.classes import INSTRUMENT_CLASSES
from liveband.data.slakh import SPLITS, index_tree
from liveband.data.synthetic import build_synthetic, plan_jobs
from liveband.errors import LiveBandError
from liveband.stages.runner import run_stage
from liveband.utils.atomic import atomic_dir, atomic_path, write_json

log = logging.getLogger("liveband.data")
OUT = Path("artifacts/data")


def tree_size_mb(root: Path) -> float:
    return round(sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20, 2)


def run(params: Params, args: argparse.Namespace) -> None:
    data, out = params.data, Path(args.out)
    tree = out / "slakh"
    if data.slakh_root:
        root = Path(data.slakh_root)
        log.info("validating Slakh2100 tree at %s", root)
        index = index_tree(root, data.slakh_sample_rate, full_decode=True, workers=data.synthetic.workers)
        with atomic_dir(tree) as tmp:
            (tmp / "SOURCE.txt").write_text(f"real Slakh2100 tree: {root.resolve()}\n")
        beats = {"available": False, "reason": "real Slakh2100 has no annotated beat times", "tracks": []}
        source = "slakh2100"
    else:
        syn = data.synthetic
        counts = {"train": syn.n_train, "validation": syn.n_validation, "test": syn.n_test}
        jobs = plan_jobs(counts, syn.seed, syn.song_seconds, syn.tempo_bpm,
                         params.audio.sample_rate, syn.soundfont, syn.timbre)
        log.info("building the synthetic set: %d songs at %d Hz", len(jobs), params.audio.sample_rate)
        tracks = build_synthetic(tree, jobs, workers=syn.workers)
        index = index_tree(tree, params.audio.sample_rate, full_decode=True, workers=syn.workers)
        beats = {"available": True, "source": "MIDI grid of the synthetic songs", "tracks": tracks}
        source = "synthetic"
    present = set(index["inst_class"])
    with atomic_path(out / "index.csv") as tmp:
        index.to_csv(tmp, index=False)
    write_json(out / "beats.json", beats)
    summary = {
        "source": source,
        "tracks": {s: int(index.loc[index.split == s, "track"].nunique()) for s in SPLITS},
        "stems": {s: int((index.split == s).sum()) for s in SPLITS},
        "hours": {s: round(float(index.loc[index.split == s].groupby("track").duration_s.first().sum()) / 3600, 3)
                  for s in SPLITS},
        "classes_present": sorted(present),
        "classes_missing": [c for c in INSTRUMENT_CLASSES if c not in present],
        "synthetic_tree_mb": tree_size_mb(tree),
    }
    write_json(Path(args.results) / "data.json", summary)
    log.info("index: %s", summary)
    if not len(index):
        raise LiveBandError(f"{out / 'index.csv'}: no stems indexed")


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=str(OUT), help="output folder (default: artifacts/data)")


def main(argv: list[str] | None = None) -> int:
    return run_stage("data", run, add_args, argv)


if __name__ == "__main__":
    sys.exit(main())
