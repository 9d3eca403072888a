import numpy as np
import pytest
import torch

from liveband.errors import LiveBandError
from liveband.metrics.cocola import (
    CocolaLocalConfig,
    hpss_log_mel,
    hpss_mel_db,
)
from liveband.metrics.cocola_training import (
    WINDOW_FRAMES,
    TrainingSong,
    WindowSampler,
    contrastive_loss,
    gain_and_noise,
    song_features,
)

SR = 16_000
TINY = {"widths": (8, 16, 24, 32, 48), "embedding_dim": 32, "batch_size": 8}


def _song(rng, seconds=8.0, label="x"):
    """A toy song: the mix holds a fifth on a random f0 plus noise bursts at random instants; the
    stem the octave plus softer bursts at the same instants. Only the bursts tell its timing."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = 110 * 2 ** rng.uniform(0, 3)
    length = int(0.03 * SR)
    burst = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.004 * SR))
    clicks = np.zeros(n)
    for i in rng.integers(0, n - length, int(seconds * rng.uniform(2, 4))):
        clicks[i:i + length] += burst
    mix = 0.2 * np.sin(2 * np.pi * f0 * t) + 0.1 * np.sin(2 * np.pi * 1.5 * f0 * t) + 0.3 * clicks
    stem = 0.2 * np.sin(2 * np.pi * 2 * f0 * t + 1.0) + 0.15 * clicks
    return TrainingSong(mix.astype(np.float32), (stem.astype(np.float32),), label)


def test_a_window_cut_from_whole_song_features_is_the_model_input_of_that_audio_chunk():
    from liveband.metrics.cocola import CocolaLocal

    song = _song(np.random.default_rng(3))
    prepare = CocolaLocal(CocolaLocalConfig(**TINY)).prepare
    start = 123  # frames: sample 19680
    window = prepare(torch.from_numpy(hpss_mel_db(song.stems[0]))[None, ..., start:start + WINDOW_FRAMES])
    chunk = torch.from_numpy(hpss_log_mel(song.stems[0][start * 160:start * 160 + 5 * SR]))[None]
    assert window.shape == (1, 2, 64, WINDOW_FRAMES - 32)
    # Equal but for bins near the floor (80 dB below the max) ...
    assert (prepare(chunk) - window).abs().max() < 0.06
    # ... while without the cut the chunk's edges (its STFT padding makes an onset) shift its levels.
    uncut = CocolaLocal(CocolaLocalConfig(**TINY, edge_frames=0)).prepare
    whole = uncut(torch.from_numpy(hpss_mel_db(song.stems[0]))[None, ..., start:start + WINDOW_FRAMES])
    assert (uncut(chunk) - whole).abs().max() > 0.1


def test_sampler_builds_real_audio_hard_negatives():
    rng = np.random.default_rng(0)
    songs = [song_features(_song(rng, label=lab), SR) for lab in ("a", "a", "b")]
    config = CocolaLocalConfig(**TINY, shift_seconds=(0.5, 0.5), augmented_probability=0.0)
    sampler = WindowSampler(songs, config, np.random.default_rng(1))
    anchors, candidates = sampler.batch(4)
    frames = WINDOW_FRAMES - 2 * config.edge_frames
    assert anchors.shape == (4, 2, 64, frames) and candidates.shape == (16, 2, 64, frames)
    assert 0.0 <= float(candidates.min()) and float(candidates.max()) <= 1.0
    positives, hard = candidates[:4], candidates[4:].reshape(4, 3, 2, 64, frames)
    for i in range(4):
        kept = anchors[i].flatten(1).amax(dim=1) > 0  # a blanked channel is all zeros in all of them
        assert torch.equal(positives[i].flatten(1).amax(dim=1) > 0, kept)
        for k in range(3):
            assert not torch.allclose(hard[i, k], positives[i])  # no negative equals its positive
    # The shift negative is the positive's stem 50 frames away: its frames reappear shifted.
    sampler = WindowSampler(songs, CocolaLocalConfig(**TINY, shift_seconds=(0.5, 0.5), hard_negatives=("shift",),
                                                     augmented_probability=0.0), np.random.default_rng(2))
    anchors, candidates = sampler.batch(1)
    pos, neg = candidates[0], candidates[1]
    keep = pos.flatten(1).amax(dim=1) > 0
    pos, neg = pos[keep], neg[keep]
    inner = slice(100, frames - 100)

    def error(s):  # each window has its own dB reference: compare up to a constant
        diff = pos[..., inner] - neg[..., inner.start + s:inner.stop + s]
        return float((diff - diff.median()).abs().mean())

    errors = sorted(error(s) for s in (-50, 50))
    assert errors[0] < 0.01 and errors[1] > 5 * errors[0], errors


def test_sampler_rejects_unknown_kinds_and_short_songs():
    rng = np.random.default_rng(0)
    songs = [song_features(_song(rng), SR) for _ in range(2)]
    with pytest.raises(LiveBandError, match="unknown hard negative 'tempo'"):
        WindowSampler(songs, CocolaLocalConfig(hard_negatives=("tempo",)), rng)
    short = [song_features(_song(rng, seconds=5.05), SR) for _ in range(2)]
    with pytest.raises(LiveBandError, match="too short to shift"):
        WindowSampler(short, CocolaLocalConfig(), rng)
    WindowSampler(short, CocolaLocalConfig(hard_negatives=("same_class",)), rng)  # no shift: fine


def test_loss_counts_own_hard_negatives():
    torch.manual_seed(0)
    from liveband.metrics.cocola import CocolaLocal

    model = CocolaLocal(CocolaLocalConfig(**TINY)).eval()
    anchors = torch.rand(2, 2, 64, WINDOW_FRAMES)
    candidates = torch.cat([anchors, torch.rand(6, 2, 64, WINDOW_FRAMES)])  # positives = anchors, 3 negatives each
    with torch.inference_mode():
        loss, stats = contrastive_loss(model, anchors, candidates)
    assert loss.ndim == 0 and np.isfinite(float(loss))
    assert 0.0 <= stats["hard_accuracy"] <= 1.0
    _, plain = contrastive_loss(model, anchors, anchors)
    assert np.isnan(plain["hard_accuracy"])


def test_gain_and_noise_changes_level_not_timing():
    x = np.zeros(SR, dtype=np.float32)
    x[SR // 2] = 1.0
    y = gain_and_noise(x, np.random.default_rng(0), gain_db=(6.0, 6.0), noise_dbfs=(-60.0, -60.0))
    assert np.argmax(np.abs(y)) == SR // 2 and y[SR // 2] == pytest.approx(10 ** 0.3, abs=0.01)
    assert np.sqrt(np.mean(np.delete(y, SR // 2) ** 2)) == pytest.approx(1e-3, rel=0.1)
