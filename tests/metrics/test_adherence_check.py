import numpy as np
import pytest
import torch

from liveband.errors import LiveBandError
from liveband.metrics.adherence_check import CheckSong, check_scorer, probe_features
from liveband.metrics.cocola import MODES, AdherenceScorer

SR = 16_000


class _Likeness(AdherenceScorer):
    """Scores a pair by how alike its features are (minus the mean absolute dB difference)."""

    name = "likeness"

    def pair_scores(self, mix_features, stem_features, mode):
        return -(mix_features - stem_features).abs().mean(dim=(1, 2, 3))


def _song(rng, name, seconds=7.5):
    """Noise bursts at random instants; the 'mix' is the stem itself, so the true pair is perfect."""
    n = int(seconds * SR)
    stem = np.zeros(n, dtype=np.float32)
    for i in rng.integers(0, n - 800, 20):
        stem[i:i + 800] += rng.standard_normal(800).astype(np.float32)
    return stem


def test_probes_and_report_on_a_scorer_that_knows_the_truth():
    rng = np.random.default_rng(0)
    stems = [_song(rng, f"s{i}") for i in range(3)]
    songs = [CheckSong(f"s{i}", s, s, stems[(i + 1) % 3], codec=s.copy()) for i, s in enumerate(stems)]
    feats, groups = probe_features(songs, 2, np.random.default_rng(1))
    assert list(groups) == [0, 0, 1, 1, 2, 2]
    assert set(feats) == {"mix", "aligned", "shift 0.05 s", "shift 0.1 s", "shift 0.25 s", "shift 1 s",
                          "same_class", "noise -40 dBFS", "codec", "other_song"}
    assert all(f.shape == (6, 2, 64, 501) for f in feats.values())
    assert torch.equal(feats["other_song"][0], feats["aligned"][2])  # the next song's first chunk
    out = check_scorer(_Likeness(), feats, groups)
    assert out["n_pairs"] == 6 and out["n_songs"] == 3 and set(out["modes"]) == set(MODES)
    m = out["modes"]["full"]
    assert m["aligned_mean"] == 0.0
    for kind in ("other_song", "same_class"):
        assert m["pair_accuracy"][kind]["rate"] == 1.0 and m["pair_accuracy"][kind]["n"] == 6
        assert m["pair_accuracy"][kind]["ci95"][0] == pytest.approx(0.6097, abs=1e-3)  # Wilson, 6 of 6
    assert m["drop"]["codec"]["mean"] == 0.0  # an exact copy of the stem
    for probe in ("shift 0.05 s", "shift 1 s", "same_class", "noise -40 dBFS"):
        drop = m["drop"][probe]
        assert drop["mean"] > 0 and drop["ci95"][0] <= drop["mean"] <= drop["ci95"][1] and drop["n_clusters"] == 3


def test_probe_features_reject_too_few_or_too_short_songs():
    rng = np.random.default_rng(0)
    stem = _song(rng, "a")
    with pytest.raises(LiveBandError, match="at least 2 songs"):
        probe_features([CheckSong("a", stem, stem, stem)], 1, rng)
    short = stem[: 6 * SR]
    with pytest.raises(LiveBandError, match="song b is shorter than 7 s"):
        probe_features([CheckSong("a", stem, stem, stem), CheckSong("b", short, short, short)], 1, rng)
