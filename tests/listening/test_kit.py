"""The kit on a tiny Slakh-layout tree with tiny untrained bundles: deterministic, blind,
hashes match, equal lengths; and the pure audio rules."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from liveband.config import load_params
from liveband.evaluation.test_set import EvalExample
from liveband.listening import stimuli
from liveband.listening.kit import select_items, write_kit
from liveband.listening.render import render
from liveband.listening.schema import CONDITIONS, validate_config
from liveband.metrics.loudness import integrated_loudness

from ..conftest import REPO, write_slakh_track


def _examples(root, n):
    return [EvalExample(k, f"Track{k:05d}", str(root), "S00", ("Bass", "Piano", "Bass")[k % 3], 1 + k % 2,
                        ("S01", "S02"), f"Track{(k + 1) % n:05d}", "S00", True, (k + 1) % n) for k in range(n)]


def _build(tmp_path, root, lp, sampler, bundles, name):
    gan, smg = bundles
    examples = _examples(root, 3)
    stims = render(examples, 3.0, 22050, 1, 2048, lp, sampler, str(gan), str(smg), str(tmp_path / "ae.pt"))
    kit, key = tmp_path / name / "kit", tmp_path / name / "key.csv"
    kit.mkdir(parents=True)
    page = tmp_path / "page"
    page.mkdir(exist_ok=True)
    (page / "index.html").write_text("<html>page</html>")
    return write_kit(stims, 2, 22050, lp, kit, key, page), kit, pd.read_csv(key, keep_default_na=False)


@pytest.mark.slow
def test_kit_is_deterministic_blind_hashed_and_equal_length(tmp_path, tiny_bundle, tiny_smg_bundle):
    root = tmp_path / "slakh"
    for k in range(3):
        write_slakh_track(root / "test" / f"Track{k:05d}", seconds=3.5)
    params = load_params(REPO / "params.yaml", "ci")
    lp = dataclasses.replace(params.listening, items=3, items_per_test=2, excerpt_seconds=1.0, lead_seconds=0.5)
    bundles = (tiny_bundle(1), tiny_smg_bundle(0))
    config, kit, key = _build(tmp_path, root, lp, params.data.sampler, bundles, "a")
    config_b, kit_b, key_b = _build(tmp_path, root, lp, params.data.sampler, bundles, "b")
    assert validate_config(config) == []
    # deterministic: same tokens, same bytes
    assert config == config_b and key.equals(key_b)
    files = json.loads((kit / "manifest.json").read_text())["files"]
    assert files == json.loads((kit_b / "manifest.json").read_text())["files"]
    # manifest: every served file but itself, hashes match
    served = {str(p.relative_to(kit)) for p in kit.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(files) == served and "index.html" in served
    for rel, digest in files.items():
        assert hashlib.sha256((kit / rel).read_bytes()).hexdigest() == digest
    # blind: no condition name in any served file or file name
    for p in kit.rglob("*"):
        if p.is_file():
            text = p.read_bytes().decode("latin-1").lower() + p.name.lower()
            # the project's name is also a condition's: only its contract/CLI uses may appear
            text = text.replace("liveband-listening", "").replace("liveband listen", "")
            for name in CONDITIONS + ("liveband", "smg", "ground truth"):
                assert name not in text, (p, name)
    # every item has the 4 conditions of both tests; all stimuli equally long
    items = key[key.item != ""]
    groups = items.groupby(["test", "item"]).condition.apply(sorted)
    assert len(groups) == 6 and all(g == sorted(CONDITIONS) for g in groups)
    lengths = {sf.info(str(kit / "audio" / f"{t}.wav")).frames for t in key.token}
    assert lengths == {22050}
    # the key is the only mapping, outside the kit
    assert not any(p.suffix == ".csv" for p in kit.rglob("*"))


def test_select_items_stratifies_by_class():
    ex = _examples("/x", 9)
    chosen = select_items(ex, 4, seed=0)
    assert [e.inst_class for e in chosen[:2]] == ["Bass", "Piano"] and len({e.example for e in chosen}) == 4
    assert select_items(ex, 4, seed=0) == chosen


def test_loudness_rule_fade_and_adherence_mix():
    sr = 22050
    rng = np.random.default_rng(0)
    x = (0.05 * rng.standard_normal((1, sr * 2))).astype(np.float32)
    y, capped = stimuli.loudness_rule(x, sr, -23.0, -1.0)
    assert abs(integrated_loudness(y, sr) + 23.0) < 0.05 and not capped
    loud, capped = stimuli.loudness_rule(np.pad(x, ((0, 0), (0, 10)), constant_values=0.0) * 0 + x.max(), sr, -5.0, -1.0)
    assert capped and np.abs(loud).max() <= 10 ** (-1 / 20) + 1e-6
    f = stimuli.fade(np.ones((1, 1000), np.float32), 1000, 0.02)
    assert f[0, 0] == 0 and f[0, -1] < 0.01 and f[0, 500] == 1
    stem, mix = x, 3 * (0.05 * rng.standard_normal((1, sr * 2))).astype(np.float32)
    out = stimuli.adherence_mix(stem, mix, 4, sr, 5.0)
    gain_db = integrated_loudness(out - mix, sr) - integrated_loudness(mix, sr)
    assert abs(gain_db - (-10 * np.log10(4) + 5.0)) < 0.05


def test_excerpt_start_follows_the_active_audio_rule():
    hop = 100
    target = np.zeros((1, 5000), np.float32)
    target[:, 3000:] = 0.1  # active only from 3 s
    start = stimuli.excerpt_start(target, target, hop, 1000, 500, -60.0, 0.9, np.random.default_rng(0))
    assert start >= 2900 and start % hop == 0 and start + 1000 <= 5000
