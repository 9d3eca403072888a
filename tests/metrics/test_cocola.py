import sys

import numpy as np
import pytest
import torch
from torch import nn

from liveband.errors import LiveBandError
from liveband.metrics.cocola import (
    MODES,
    CocolaLocalConfig,
    CocolaLocalScorer,
    CocolaNet,
    CocolaScorer,
    _mask_mode,
    chunk_starts,
    hpss_log_mel,
    load_cocola_local,
    make_adherence_scorer,
    pair_features,
    save_cocola_local,
    score,
    train_cocola_local,
)
from liveband.metrics.convert_weights import convert
from liveband.metrics.spectral import hpss, stft

SR = 16_000


def _song(rng, seconds=5.0):
    """A toy (mix, stem) pair sharing a random pitch and a random tempo: the mix holds a fifth on
    f0 plus clicks, the stem the octave 2*f0 plus softer clicks on the same beats.
    """
    t = np.arange(int(seconds * SR)) / SR
    f0 = 110 * 2 ** rng.uniform(0, 3)
    period = 60 / rng.uniform(70, 170)
    n = int(0.03 * SR)
    burst = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.004 * SR))
    clicks = np.zeros_like(t)
    for beat in np.arange(rng.uniform(0, period), seconds, period):
        i = int(beat * SR)
        clicks[i:i + n] += burst[: len(t) - i]
    mix = 0.2 * np.sin(2 * np.pi * f0 * t) + 0.1 * np.sin(2 * np.pi * 1.5 * f0 * t) + 0.3 * clicks
    stem = 0.2 * np.sin(2 * np.pi * 2 * f0 * t + 1.0) + 0.15 * clicks
    return mix.astype(np.float32), stem.astype(np.float32)


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    model, history = train_cocola_local([_song(rng) for _ in range(12)],
                                        CocolaLocalConfig(batch_size=8), steps=40, log_every=20)
    return model, history, [_song(rng) for _ in range(6)]


def test_hpss_separates_a_sustained_sine_from_clicks(sine, click_track):
    tone = sine(440, 3, SR)
    clicks, _ = click_track(120, 3, SR)
    spec_tone, spec_clicks = stft(tone, 1024, 160, 400), stft(clicks, 1024, 160, 400)
    harmonic, percussive = hpss(spec_tone + spec_clicks)
    np.testing.assert_allclose(harmonic + percussive, spec_tone + spec_clicks, atol=1e-9)

    def energy(x):
        return float(np.sum(np.abs(x) ** 2))

    # Each part keeps most of its own source and little of the other.
    assert energy(harmonic - spec_tone) < 0.05 * energy(spec_tone)
    assert energy(percussive - spec_clicks) < 0.3 * energy(spec_clicks)
    assert energy(harmonic) > 10 * energy(hpss(spec_clicks)[0])
    # In the log-mel features the sine's band is loud in H and quiet in P.
    feats = hpss_log_mel(tone + clicks)
    band = int(np.argmax(feats[0].mean(axis=1)))
    assert feats[0, band].mean() > feats[1, band].mean() + 10.0


def test_chunking_and_modes():
    assert chunk_starts(10 * SR, 5 * SR, int(2.5 * SR)) == [0, 40_000, 80_000]
    assert chunk_starts(3 * SR, 5 * SR, int(2.5 * SR)) == [0]
    x = torch.ones(1, 2, 4, 5)
    assert _mask_mode(x, "full", 0.0).sum() == 40
    assert _mask_mode(x, "harmonic", 0.0)[:, 1].sum() == 0 and _mask_mode(x, "harmonic", 0.0)[:, 0].sum() == 20
    assert _mask_mode(x, "percussive", 0.0)[:, 0].sum() == 0
    with pytest.raises(LiveBandError, match="unknown mode"):
        _mask_mode(x, "vocals", 0.0)


def test_trained_cocola_local_scores_matched_pairs_above_mismatched(trained):
    model, history, held_out = trained
    assert history[-1]["loss"] < history[-1]["chance_loss"]
    mix_feats, stem_feats = pair_features(held_out, SR)
    with torch.inference_mode():
        for mode in MODES:
            mix_in = _mask_mode(model.scale_input(mix_feats), mode, 0.0)
            stem_in = _mask_mode(model.scale_input(stem_feats), mode, 0.0)
            scores = model.similarity.matrix(model.embed(mix_in), model.embed(stem_in)).numpy()  # (mix, stem)
            matched = np.diag(scores)
            mismatched = scores[~np.eye(len(scores), dtype=bool)]
            assert matched.mean() > mismatched.mean(), mode
            wins = (matched[:, None] > scores).sum() / (len(scores) * (len(scores) - 1))
            assert wins > 0.6, (mode, wins)


def test_score_api_and_checkpoint_round_trip(trained, tmp_path):
    model, _, held_out = trained
    scorer = CocolaLocalScorer(model)
    assert scorer.name == "COCOLA-local"
    mix, stem = held_out[0]
    long_mix, long_stem = np.tile(mix, 2)[: int(7.5 * SR)], np.tile(stem, 2)[: int(7.5 * SR)]  # 2 chunks
    all_modes = scorer.score_all_modes(long_mix, long_stem, SR)
    assert all(np.isfinite(v) for v in all_modes.values())
    assert score(mix, stem, SR, "harmonic", scorer) == pytest.approx(scorer.score(mix, stem, SR, "harmonic"))
    path = tmp_path / "cocola_local.pt"
    save_cocola_local(path, model, step=50)
    reloaded = make_adherence_scorer("cocola-local", path)
    assert reloaded.score(long_mix, long_stem, SR, "percussive") == pytest.approx(all_modes["percussive"], rel=1e-5)
    assert isinstance(load_cocola_local(path), type(model))


def test_scoring_features_of_clips_of_other_lengths_equals_scoring_the_audio_pair(trained):
    """A mismatched pair scored from each clip's own features = the pair scored as audio."""
    from liveband.metrics.cocola import paired_chunk_features

    model, _, held_out = trained
    scorer = CocolaLocalScorer(model)
    (mix_a, stem_a), (_, stem_b) = held_out[0], held_out[1]
    long_mix = np.tile(mix_a, 3)[: int(12.6 * SR)]                 # 4 chunks (2.5 s hop)
    short_stem = np.tile(stem_b, 2)[: int(7.6 * SR)]               # 2 chunks
    mix_feats, _ = paired_chunk_features(long_mix, np.tile(stem_a, 3)[: len(long_mix)], SR)
    _, stem_feats = paired_chunk_features(short_stem, short_stem, SR)
    assert (len(mix_feats), len(stem_feats)) == (4, 2)
    from_features = scorer.score_features(mix_feats, stem_feats)
    from_audio = scorer.score_all_modes(long_mix, short_stem, SR)
    assert from_features == pytest.approx(from_audio, rel=1e-5)
    assert from_features != pytest.approx(scorer.score_features(mix_feats, stem_feats.flip(0)), rel=1e-5)


def test_unconfigured_backends_name_their_param_keys():
    with pytest.raises(LiveBandError) as err:
        make_adherence_scorer("cocola")
    assert str(err.value).startswith("metrics.cocola.checkpoint: not configured") and "\n" not in str(err.value)
    with pytest.raises(LiveBandError) as err:
        make_adherence_scorer("cocola-local")
    assert str(err.value).startswith("metrics.cocola.local_checkpoint: not configured")
    with pytest.raises(LiveBandError, match="unknown adherence backend"):
        make_adherence_scorer("clamp")


class _TinyEncoder(nn.Module):
    """Stands in for EfficientNet-B0 so the loader can be tested without the optional package."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, stride=4)

    def forward(self, x):
        return self.conv(x).mean(dim=(2, 3))  # (B, 4)


def test_released_checkpoint_format_converts_without_running_pickled_code(tmp_path, monkeypatch):
    # A Lightning-style checkpoint whose metadata holds a class this process cannot import.
    module_dir = tmp_path / "mods"
    (module_dir / "foreign_pkg").mkdir(parents=True)
    (module_dir / "foreign_pkg" / "__init__.py").write_text(
        "import enum\nclass Mode(enum.Enum):\n    RANDOM = 'random'\n"
        "class Hparams(dict):\n    pass\n")
    monkeypatch.syspath_prepend(str(module_dir))
    import foreign_pkg

    torch.manual_seed(0)
    net = CocolaNet(_TinyEncoder(), 4, 8)
    state = {f"encoder.encoder.model.0.{k[len('encoder.'):]}": v for k, v in net.state_dict().items() if k.startswith("encoder.")}
    state.update({f"encoder.{k}": v for k, v in net.state_dict().items() if k.startswith("projection.")})
    state.update({k: v for k, v in net.state_dict().items() if k.startswith(("layer_norm.", "similarity."))})
    path = tmp_path / "cocola.ckpt"
    torch.save({"state_dict": state, "hyper_parameters": foreign_pkg.Hparams(embedding_mode=foreign_pkg.Mode.RANDOM),
                "pytorch-lightning_version": "2.2.0"}, path)
    monkeypatch.delitem(sys.modules, "foreign_pkg")
    monkeypatch.syspath_prepend(str(tmp_path / "nowhere"))
    sys.path.remove(str(module_dir))

    with pytest.raises(LiveBandError, match=r"^metrics.cocola.checkpoint: .*convert_weights"):
        CocolaScorer(path, encoder_factory=lambda: (_TinyEncoder(), 4))
    converted = tmp_path / "cocola.pt"
    convert(path, converted)
    scorer = CocolaScorer(converted, encoder_factory=lambda: (_TinyEncoder(), 4))
    assert scorer.name == "COCOLA"
    feats = torch.from_numpy(np.stack([hpss_log_mel(_song(np.random.default_rng(1))[0])]))
    with torch.inference_mode():
        expected = net.similarity.pairwise(net.embed(feats), net.embed(feats))
        assert torch.allclose(scorer.pair_scores(feats, feats, "full"), expected, atol=1e-5)
    assert "foreign_pkg" not in sys.modules  # the file's class was never imported
    with pytest.raises(LiveBandError, match="does not match the COCOLA architecture"):
        CocolaScorer(converted, encoder_factory=lambda: (nn.Conv2d(2, 4, 5), 4))
