"""Which test examples the companion page plays: a seeded, stratified pick from the test list.

Strata are (drums in the mix?, target instrument class). Each round takes one example from every
stratum still holding one, alternating with-drums and drumless strata, so a small selection spans
as many classes as it can and both kinds of mix. The pick is saved (``selection.csv``) beside the
audio so the page can be checked against, and rebuilt from, the same examples.
"""

from __future__ import annotations

from itertools import chain, zip_longest

import numpy as np
import pandas as pd

from liveband.errors import LiveBandError
from liveband.evaluation.test_set import EvalExample

N_EXAMPLES = 8  # the page's examples (fewer when the test list is shorter, e.g. the ci profile)
DRUMS = "Drums"


def drums_in_mix(examples: list[EvalExample], index: pd.DataFrame) -> dict[int, bool]:
    """``{example id: whether a stem of its mix (not the target) is of class Drums}``, from the
    data index (artifacts/data/index.csv: track, stem, inst_class)."""
    missing = [c for c in ("track", "stem", "inst_class") if c not in index.columns]
    if missing:
        raise LiveBandError(f"artifacts/data/index.csv: missing columns {missing}")
    classes = {(str(r.track), str(r.stem)): str(r.inst_class) for r in index.itertuples()}
    out = {}
    for ex in examples:
        unknown = [s for s in ex.mix_stems if (ex.track, s) not in classes]
        if unknown:
            raise LiveBandError(f"artifacts/data/index.csv: no row for {ex.track} stems {unknown}")
        out[ex.example] = any(classes[(ex.track, s)] == DRUMS for s in ex.mix_stems)
    return out


def select(examples: list[EvalExample], drums: dict[int, bool], n: int, seed: int) -> list[EvalExample]:
    """Up to ``n`` examples, in pick order (see the module docstring); the same for the same seed."""
    if not examples:
        raise LiveBandError("artifacts/eval/test_list.csv: no test examples to select from")
    rng = np.random.default_rng(seed)
    strata: dict[tuple[bool, str], list[EvalExample]] = {}
    for ex in sorted(examples, key=lambda e: e.example):
        strata.setdefault((drums[ex.example], ex.inst_class), []).append(ex)
    for members in strata.values():
        rng.shuffle(members)
    keys = {flag: [k for k in sorted(strata) if k[0] == flag] for flag in (True, False)}
    for flag in keys:
        keys[flag] = [keys[flag][i] for i in rng.permutation(len(keys[flag]))]
    order = [k for k in chain.from_iterable(zip_longest(keys[True], keys[False])) if k is not None]
    picked: list[EvalExample] = []
    while len(picked) < min(n, len(examples)):
        for key in order:
            if strata[key] and len(picked) < n:
                picked.append(strata[key].pop(0))
    return picked


def selection_frame(picked: list[EvalExample], drums: dict[int, bool]) -> pd.DataFrame:
    return pd.DataFrame([{"order": i, "example": ex.example, "track": ex.track, "target_stem": ex.target_stem,
                          "inst_class": ex.inst_class, "drums_in_mix": drums[ex.example],
                          "mix_stems": "+".join(ex.mix_stems)} for i, ex in enumerate(picked)])
