"""A tiny run folder for stage `companion`, built inline: three test songs in Slakh's layout, the
data index and test list, tiny untrained bundles at the ci profile's checkpoint paths, and the
tables stages' outputs (claims, tables, validation, environment, one figure, per-example scores)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liveband.config import load_params
from liveband.evaluation.test_set import EvalExample, to_frame

from ..conftest import REPO, write_slakh_track

CLASSES = ("Drums", "Bass", "Piano")  # write_slakh_track: S00 Drums, S01 Bass, S02 Piano
CLAIMS_MD = """Claims of the paper, tested on a constructed run.

| Claim | Statement | Ours | Verdict |
|:------|:----------|:-----|:--------|
| T1.a | LiveBand tau 0 beats SMG tau 0 | +0.256 [+0.16, +0.34] | reproduced |
| T1.b | LiveBand tau 0.1 beats SMG tau 0 | -0.332 [-0.62, -0.01] | contradicted |
| T2.c | sink lowers drift | +0.01 [-0.1, +0.1] | inconclusive (metric failed: shift 50 ms) |
"""


def table_md(title: str) -> str:
    return (f"{title}: a constructed table.\n\n| Model | BA F1 (ours) | BA F1 (paper) |\n|:--|:--|--:|\n"
            "| LiveBand | 0.60 [0.5, 0.7] | 0.65 |\n| SMG | 0.40 [0.3, 0.5] | 0.30 |\n")


def _examples(root: str) -> list[EvalExample]:
    picks = [("Track00001", "S01"), ("Track00002", "S00"), ("Track00003", "S02"), ("Track00001", "S00")]
    out = []
    for k, (track, target) in enumerate(picks):
        cls = CLASSES[int(target[1:])]
        mix = tuple(s for s in ("S00", "S01", "S02") if s != target)
        out.append(EvalExample(k, track, root, target, cls, CLASSES.index(cls), mix, "Track00002", "S01", True,
                               (k + 1) % 4))
    return out


def build_run(run: Path, make_gan, make_smg) -> Path:
    """The folder a ci-profile `companion` job runs in (see the module docstring)."""
    params = load_params(str(REPO / "params.yaml"), "ci")
    sr = params.audio.sample_rate
    seconds = (params.evaluation.lead_frames * params.audio.hop) / sr + 2 * params.evaluation.segment_seconds + 0.5
    slakh = run / "artifacts/data/slakh"
    rows = []
    for k in range(3):
        track = f"Track{k + 1:05d}"
        write_slakh_track(slakh / "test" / track, sr=44100, seconds=seconds)
        for i, cls in enumerate(CLASSES):
            rows.append({"split": "test", "track": track, "stem": f"S{i:02d}", "inst_class": cls,
                         "class_id": i, "program_num": 0, "is_drum": cls == "Drums", "root": str(slakh),
                         "stem_path": "", "mix_path": "", "duration_s": seconds, "sample_rate": 44100})
    pd.DataFrame(rows).to_csv(run / "artifacts/data/index.csv", index=False)
    examples = _examples(str(slakh))
    (run / "artifacts/eval").mkdir(parents=True)
    to_frame(examples).to_csv(run / "artifacts/eval/test_list.csv", index=False)
    bundles = {"liveband": make_gan(1), "smg": make_smg(1), "bidirectional": make_gan(1, causal=False)}
    for name, spec in params.evaluation.at_scale("default").items():
        if spec.kind in ("liveband", "smg"):
            target = run / spec.checkpoint
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(bundles["bidirectional" if "bidirectional" in name else spec.kind], target)
    results = run / "results"
    (results / "eval").mkdir(parents=True)
    (results / "claims.md").write_text(CLAIMS_MD)
    (results / "README.md").write_text("# Results\n")
    (results / "claims.csv").write_text("claim,verdict\nT1.a,reproduced\n")
    for n in (1, 2, 3, 5):
        (results / f"table{n}.md").write_text(table_md(f"Table {n}"))
        (results / f"table{n}.csv").write_text("Model,BA F1 (ours)\nLiveBand,0.6\n")
    (results / "metric_validation.md").write_text(table_md("Metric validation"))
    env = {"cpu": "AMD EPYC", "cores": 2, "torch": "2.13.0+cpu", "torch_threads": 1, "git_commit": "0" * 40}
    (results / "environment.json").write_text(json.dumps({"tables": env, "stages": {"tables": env}}))
    (results / "figures").mkdir()
    import matplotlib.pyplot as plt
    plt.imsave(results / "figures/drift.png", np.random.default_rng(0).random((20, 40)))
    rng = np.random.default_rng(1)
    for name in ["ground_truth"] + [s for s, v in params.evaluation.systems.items() if v.kind in ("liveband", "smg")]:
        frame = pd.DataFrame([{"example": e.example, "segment": seg, "track": e.track, "inst_class": e.inst_class,
                               "mix_tracking_failed": False, "BA F1 (madmom)": rng.random(),
                               "COCOLA-local full": 5 * rng.random()} for e in examples for seg in (0, 1)])
        frame.to_csv(results / "eval" / f"{name}.examples.csv", index=False)
    return run


@pytest.fixture
def companion_run(tmp_path, tiny_bundle, tiny_smg_bundle) -> Path:
    return build_run(tmp_path / "run", tiny_bundle, tiny_smg_bundle)
