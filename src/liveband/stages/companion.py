"""Stage `companion`: the companion page ``results/index.html`` (last in the DAG).

Reads the tables stages' outputs (claims, Tables 1-5, metric validation, environment, figures),
the per-example scores ``results/eval/<system>.examples.csv``, the test list and the headline
systems' checkpoints. Picks a seeded, stratified selection of test examples
(liveband.companion.selection; saved as ``results/companion/selection.csv``), plays every
headline system on them through the evaluation's own path (``System.play_all``, the evaluation's
seeds), and writes each version, alone and over the mix, as mono Ogg Vorbis with a spectrogram
under ``results/companion/`` (held to liveband.companion.clips.BUDGET_MB). Headline systems:
``evaluation.systems`` of kind liveband or smg at the default scale that are rows of Table 1
(no ablations, no seed replicas).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from liveband.companion import clips, page, selection
from liveband.companion.systems import REFERENCE, headline_systems
from liveband.config import Params
from liveband.data.slakh import read_index
from liveband.errors import LiveBandError
from liveband.evaluation.scoring import window
from liveband.evaluation.test_set import from_frame
from liveband.reports.claims_list import SYSTEM_LABELS
from liveband.stages.runner import run_stage
from liveband.utils.atomic import atomic_dir, write_text

log = logging.getLogger("liveband.companion")
RESULTS = Path("results")
FOLDER = "companion"
EXTENDED = ("extended/claims.md", "extended/headline.md", "extended/figures/steps.png")


def intro(params: Params, n: int, seconds: float, mb: float) -> str:
    return (f'<p class="caption">{n} test examples picked by a seeded rule stratified by target class and by drums '
            f"in the mix (results/{FOLDER}/selection.csv). Every version covers the evaluation window ({seconds:.1f} s "
            "from the song's start), generated as stage evaluate did (same checkpoints, same per-example seeds): "
            "the values beside each clip are the scores stage evaluate gave that audio's first segment. "
            f"Clips are mono Ogg Vorbis at {params.listening.loudness_lufs:g} LUFS (peak <= "
            f"{params.listening.peak_dbfs:g} dBFS); 'over the mix' puts the stem "
            f"{params.listening.stem_offset_db:g} dB above its share of the mix, as the listening test does. "
            f"Spectrograms: 0-{clips.SPEC_MAX_HZ / 1000:g} kHz, {-clips.SPEC_FLOOR_DB:g} dB range, one scale for all. "
            f"Audio and images: {mb:.1f} MB (budget {clips.BUDGET_MB:g} MB).</p>")


def run(params: Params, args: argparse.Namespace) -> None:
    test_list = Path("artifacts/eval/test_list.csv")
    if not test_list.exists():
        raise LiveBandError(f"{test_list}: missing (stage eval_reference writes it)")
    examples = from_frame(pd.read_csv(test_list))
    drums = selection.drums_in_mix(examples, read_index("artifacts/data/index.csv"))
    picked = selection.select(examples, drums, selection.N_EXAMPLES, params.evaluation.seed)
    log.info("companion: %d examples (%s)", len(picked), ", ".join(str(e.example) for e in picked))
    systems = headline_systems(params.evaluation)
    ids = [e.example for e in picked]
    scores = {key: page.first_segment_metrics(RESULTS / "eval" / f"{name}.examples.csv", ids)
              for key, name in [("real", REFERENCE)] + [(s, s) for s in systems]}
    total, _ = window(params.evaluation, params.audio)
    sr = params.audio.sample_rate
    mixes, targets, outputs = clips.generate(picked, systems, sr, params.audio.channels, total / sr,
                                             params.evaluation.seed, args.device)
    lp = params.listening
    rule = clips.Level(lp.loudness_lufs, lp.peak_dbfs, lp.fade_seconds, lp.stem_offset_db)
    labels = {s: SYSTEM_LABELS.get(s, s) for s in systems}
    with atomic_dir(RESULTS / FOLDER) as tmp:
        written = clips.write_clips(tmp, picked, mixes, targets, outputs, labels, sr, rule)
        selection.selection_frame(picked, drums).to_csv(tmp / "selection.csv", index=False)
        mb = clips.check_budget(tmp, f"results/{FOLDER}")
    views = [page.ExampleView(e, drums[e.example], written[e.example],
                              {k: v.get(e.example, {}) for k, v in scores.items()}) for e in picked]
    extended = [p for p in EXTENDED if (RESULTS / p).exists()]
    html = page.build(RESULTS, views, FOLDER, intro(params, len(picked), total / sr, mb), extended)
    write_text(RESULTS / "index.html", html)
    log.info("companion: results/index.html (%.0f kB) and results/%s (%.1f MB)",
             len(html.encode()) / 1e3, FOLDER, mb)


def main(argv: list[str] | None = None) -> int:
    return run_stage("companion", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
