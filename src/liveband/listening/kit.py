"""The listening kit (docs/LISTENING.md): item selection, the four conditions of both tests,
opaque tokens, config.json, the manifest and the key. Deterministic from ``listening.seed`` and
the evaluation's test list.

Conditions per item (one excerpt of one test-list example):
quality test, the stem alone: ``ground_truth`` (the real stem), ``liveband`` / ``smg`` (streamed
from the song's start through the evaluation's path, ``liveband.evaluation.systems.System``, then
cut), ``anchor`` (``stimuli.noisy_anchor``); adherence test, each stem with the item's mix
(``stimuli.adherence_mix``), the anchor being the same-class stem of another song
(``load_partner``, its own active excerpt). Every stimulus: equal length, fades, one loudness rule.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liveband.data.audio_io import write_audio
from liveband.errors import LiveBandError
from liveband.evaluation.test_set import EvalExample
from liveband.listening import stimuli
from liveband.listening.page_files import PAGE_FILES
from liveband.listening.schema import KIT_SCHEMA, SCALE, SCALE_LABELS, TESTS, validate_config
from liveband.utils.atomic import atomic_path, write_json, write_text

log = logging.getLogger("liveband.listening")

KEY_COLUMNS = ("token", "test", "item", "condition", "track", "stem", "inst_class", "start_seconds")
INSTRUCTIONS = {
    "quality": "Each page plays several versions of one instrument part on its own. Listen to each to the end, "
               "then rate it.",
    "adherence": "Each page plays several versions of one instrument part together with the rest of the band. "
                 "Listen to each to the end, then rate how well the part fits the band.",
}
QUESTIONS = {
    "quality": "How good is the audio quality of this instrument part?",
    "quality_consistency": "How consistent is its quality from start to end?",
    "adherence": "How well does this part fit the band (timing, harmony, style)?",
    "adherence_consistency": "How consistently does it fit the band from start to end?",
}
TONE_COUNT = 3  # the volume check plays this many tones; options are 2, 3, 4


@dataclass
class Stimulus:
    test: str
    item: int            # index into the selected items; -1 for the non-item clips
    condition: str       # a condition, or training / instructed / headphone_check
    audio: np.ndarray    # (C, T)
    track: str = ""
    stem: str = ""
    inst_class: str = ""
    start_seconds: float = 0.0


def select_items(examples: list[EvalExample], n: int, seed: int) -> list[EvalExample]:
    """``n`` examples stratified by instrument class: a seeded order within each class, then
    one per class in turn (classes sorted) until ``n``."""
    if len(examples) < n:
        raise LiveBandError(f"listening.items: {n} items wanted but the test list has {len(examples)} examples")
    rng = np.random.default_rng(seed)
    groups = {}
    for ex in sorted(examples, key=lambda e: e.example):
        groups.setdefault(ex.inst_class, []).append(ex)
    queues = [[g[i] for i in rng.permutation(len(g))] for _, g in sorted(groups.items())]
    chosen = []
    while len(chosen) < n:
        for q in queues:
            if q and len(chosen) < n:
                chosen.append(q.pop(0))
    return chosen


def tokens(n: int, seed: int) -> list[str]:
    """``n`` distinct opaque 16-hex-digit tokens, deterministic from ``seed``."""
    rng = np.random.default_rng([seed, 16])
    out: list[str] = []
    while len(out) < n:
        t = rng.bytes(8).hex()
        if t not in out:
            out.append(t)
    return out


def tone_check(sample_rate: int, seconds: float, count: int = TONE_COUNT) -> np.ndarray:
    """The volume check: ``count`` 1 kHz tones spread over ``seconds``, (1, T)."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    on = np.zeros_like(t)
    for k in range(count):
        on[(t >= (k + 0.5) * seconds / (count + 1)) & (t < (k + 0.5) * seconds / (count + 1) + 0.25)] = 1.0
    return (0.5 * on * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)[None]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_kit(stims: list[Stimulus], items_per_test: int, sample_rate: int, lp, kit_dir: Path, key_path: Path,
              page_dir: Path) -> dict:
    """Post-process (fades, loudness rule) and write ``stims`` into ``kit_dir`` (already empty)
    with config.json, manifest.json and the page files; the key to ``key_path``. -> config."""
    item_ids = sorted({(s.test, s.item) for s in stims if s.item >= 0})
    toks = tokens(len(stims) + len(item_ids), lp.seed)
    item_token = dict(zip(item_ids, toks[len(stims):]))
    audio_dir = kit_dir / "audio"
    audio_dir.mkdir(parents=True)
    capped, rows = 0, []
    for tok, s in zip(toks, stims):
        audio, was_capped = stimuli.loudness_rule(stimuli.fade(s.audio, sample_rate, lp.fade_seconds), sample_rate,
                                                  lp.loudness_lufs, lp.peak_dbfs)
        capped += was_capped
        write_audio(audio_dir / f"{tok}.wav", audio, sample_rate)
        rows.append({"token": tok, "test": s.test, "item": item_token.get((s.test, s.item), ""), "condition": s.condition, "track": s.track,
                     "stem": s.stem, "inst_class": s.inst_class, "start_seconds": round(s.start_seconds, 4)})
    log.info("%d stimuli written; %d turned down by the %.1f dBFS peak cap", len(stims), capped, lp.peak_dbfs)
    key = pd.DataFrame(rows, columns=list(KEY_COLUMNS))
    config = kit_config(key, items_per_test)
    copied = [f for f in PAGE_FILES if (page_dir / f).is_file()]
    for f in copied:
        shutil.copyfile(page_dir / f, kit_dir / f)
    if not copied:
        log.info("no page files in %s: the kit has no index.html yet (the page is added separately)", page_dir)
    write_text(kit_dir / "README.md", kit_readme(config))
    # kit_id = SHA-256 of the manifest of every file but config.json (which holds it) and the manifest
    files = {str(p.relative_to(kit_dir)): sha256(p) for p in sorted(kit_dir.rglob("*")) if p.is_file()}
    config["kit_id"] = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    write_json(kit_dir / "config.json", config)
    files["config.json"] = sha256(kit_dir / "config.json")
    write_json(kit_dir / "manifest.json", {"files": files})
    problems = validate_config(config)
    if problems:
        raise LiveBandError(f"{kit_dir / 'config.json'}: {problems[0]}")
    with atomic_path(key_path) as tmp:
        key.to_csv(tmp, index=False)
    return config


def kit_config(key: pd.DataFrame, items_per_test: int) -> dict:
    """config.json (the contract of docs/LISTENING.md) from the key; ``kit_id`` is set later."""
    tests = []
    for test, dims in TESTS.items():
        rows = key[key.test == test]
        items = [{"item": item, "stimuli": sorted(g.token)}
                 for item, g in rows[rows.item != ""].groupby("item", sort=True)]
        tests.append({"id": test, "instructions": INSTRUCTIONS[test],
                      "dimensions": [{"id": d, "question": QUESTIONS[d]} for d in dims],
                      "training": [{"stimulus": t} for t in rows[rows.condition == "training"].token],
                      "items": items})
    instructed = key[key.condition == "instructed"].token.iloc[0]
    headphones = key[key.condition == "headphone_check"].token.iloc[0]
    return {"schema": KIT_SCHEMA, "kit_id": None, "scale": list(SCALE), "scale_labels": list(SCALE_LABELS),
            "items_per_test": items_per_test, "tests": tests,
            "attention": {"instructed": {"stimulus": instructed, "dimension": "quality", "expected": 1,
                                         "text": "For this clip, please answer 1 (bad) on the first question."},
                          "repeat": True},
            "headphone_check": {"stimulus": headphones, "question": "How many tones do you hear?",
                                "options": [str(TONE_COUNT - 1), str(TONE_COUNT), str(TONE_COUNT + 1)],
                                "answer": 1},
            "collection_url": None}


def kit_readme(config: dict) -> str:
    n = {t["id"]: len(t["items"]) for t in config["tests"]}
    return f"""# Listening kit (paper Table 4)

Two tests, `quality` ({n['quality']} items) and `adherence` ({n['adherence']} items); each participant
rates {config['items_per_test']} items per test on a 5-point scale (1 bad ... 5 excellent), both questions of
the test for every clip. Files are named by opaque tokens; the key is kept outside this folder.

## Run a session
- Locally: `liveband listen --kit <this folder>` and open the printed URL; each finished session is stored
  as `listening/responses/<session_id>.json`.
- On any static host: upload this folder; participants download their result file at the end and send it
  to you (or set `collection_url` in config.json to an endpoint accepting the POSTed JSON).

## Collect
Put every response file in `listening/responses/` and run the `listening_stats` stage (`snakemake`
in the repository, see docs/LISTENING.md there): it validates each file,
applies the pre-registered exclusions and writes results/table4.*.

`manifest.json` lists the SHA-256 of every file here; `config.json` holds the schema
`{KIT_SCHEMA}` (docs/LISTENING.md in the repository describes it and the response format).
"""
