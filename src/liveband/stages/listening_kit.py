"""Stage `listening_kit`: the listening test's kit (paper 6.4, Table 4; docs/LISTENING.md).

Inputs: the evaluation's test list, LiveBand tau 0.1 s, SMG tau 0 and the autoencoder.
Outputs: ``listening/kit/`` (served: page files if the package has them, config.json, audio/,
manifest.json, README.md) and ``listening/key.csv`` (token -> condition; never served).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from liveband.config import Params
from liveband.evaluation.test_set import from_frame
from liveband.listening.kit import select_items, write_kit
from liveband.listening.page_files import PAGE_DIR
from liveband.listening.render import render
from liveband.stages.runner import run_stage
from liveband.utils.atomic import atomic_dir

log = logging.getLogger("liveband.listening_kit")

TEST_LIST = Path("artifacts/eval/test_list.csv")
LIVEBAND = "artifacts/gan/tau01/generator.pt"
SMG = "artifacts/smg/tau0/smg.pt"
AUTOENCODER = "artifacts/autoencoder/model.pt"
KIT = Path("listening/kit")
KEY = Path("listening/key.csv")
PAGE = PAGE_DIR


def body(params: Params, args: argparse.Namespace) -> None:
    torch.manual_seed(params.listening.seed)
    lp, ev = params.listening, params.evaluation
    examples = select_items(from_frame(pd.read_csv(TEST_LIST)), lp.items, lp.seed)
    window = ev.segment_seconds * ev.n_segments  # every test-list song is at least this long
    start = time.perf_counter()
    stims = render(examples, window, params.audio.sample_rate, params.audio.channels, params.audio.hop, lp,
                   params.data.sampler, LIVEBAND, SMG, AUTOENCODER)
    log.info("rendered %d stimuli of %d items in %.1f s", len(stims), len(examples), time.perf_counter() - start)
    with atomic_dir(KIT) as tmp:
        config = write_kit(stims, lp.items_per_test, params.audio.sample_rate, lp, tmp, KEY, PAGE)
    log.info("kit %s written to %s (key: %s)", config["kit_id"][:12], KIT, KEY)


def main(argv: list[str] | None = None) -> int:
    return run_stage("listening_kit", body, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
