"""The synthetic set: Slakh layout the loader accepts, mix = sum of the (timbre-varied) stems."""

import json

import numpy as np
import pytest
import soundfile as sf
import yaml

from liveband.config import TimbreParams
from liveband.data.slakh import index_tree
from liveband.data.synthetic import build_synthetic, plan_jobs


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn") / "slakh"
    timbre = TimbreParams(eq_db=9.0, gain_db=3.0, reverb_wet=(0.2, 0.4), reverb_decay_s=(0.3, 1.0), detune_cents=20.0)
    jobs = plan_jobs({"train": 2, "validation": 1, "test": 1}, 3, (6.0, 7.0), (100, 140), 22050, None, timbre)
    beats = build_synthetic(root, jobs, workers=1)
    return root, beats


def test_the_same_loader_accepts_the_synthetic_tree(tiny_set):
    root, beats = tiny_set
    index = index_tree(root, 22050)
    assert index.groupby("split").track.nunique().to_dict() == {"test": 1, "train": 2, "validation": 1}
    assert [b["track"] for b in beats] == ["Track00001", "Track00002", "Track00003", "Track00004"]
    assert (root / "train" / "Track00001" / "all_src.mid").is_file()
    assert (root / "train" / "Track00001" / "MIDI" / "S00.mid").is_file()
    json.dumps(beats)  # annotations serialise


def test_mix_is_the_sum_of_its_stems(tiny_set):
    root, _ = tiny_set
    track = root / "test" / "Track00004"
    mix, _ = sf.read(track / "mix.flac")
    stems = sum(sf.read(p)[0] for p in sorted((track / "stems").glob("*.flac")))
    assert np.max(np.abs(mix - stems)) < 1e-3  # 16-bit quantisation of each file
    assert np.max(np.abs(mix)) == pytest.approx(10 ** (-1 / 20), abs=2e-3)  # target peak -1 dBFS
    for p in (track / "stems").glob("*.flac"):
        assert np.sqrt(np.mean(sf.read(p)[0] ** 2)) > 1e-3, f"{p.name} is silent"


def test_each_stem_records_its_own_timbre_draw(tiny_set):
    root, _ = tiny_set
    stems = yaml.safe_load((root / "test" / "Track00004" / "metadata.yaml").read_text())["stems"]
    draws = [m["timbre"] for m in stems.values()]
    assert len(draws) >= 2 and all(0.2 <= d["reverb_wet"] <= 0.4 for d in draws)
    assert all(abs(d["detune_cents"]) <= 20 and abs(b["db"]) <= 9 for d in draws for b in d["eq"])
    assert len({d["reverb_seed"] for d in draws}) == len(draws)  # drawn per stem


def test_beat_annotations_carry_the_metre(tiny_set):
    _, beats = tiny_set
    for b in beats:
        assert b["metre"] in ("4/4", "3/4", "6/8", "2/4") and b["style"] in ("band", "chorale")
        assert np.allclose(np.diff(b["beats"]), 60 / b["tempo_bpm"], atol=1e-4)
        assert b["downbeats"] == b["beats"][::b["beats_per_bar"]]
