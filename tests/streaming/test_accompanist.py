"""The streaming accompaniment path equals the models' offline passes, and fails cleanly."""

import numpy as np
import pytest
import soundfile as sf
import torch

from liveband import cli
from liveband.builders import load_bundle
from liveband.streaming.files import accompany_array


def offline_reference(bundle, mix: np.ndarray, seed: int) -> np.ndarray:
    """Encode the whole mix, run the generator's PARALLEL pass with the same noise, decode."""
    ae, gen = bundle.autoencoder, bundle.model
    with torch.inference_mode():
        latents = ae.encode(torch.from_numpy(mix)[None])                        # (1, D, F)
        frames = latents.shape[-1]
        rng = torch.Generator().manual_seed(seed)
        noise = torch.stack([torch.randn(1, gen.cfg.noise_dim, generator=rng) for _ in range(frames)], 1)
        x = bundle.stats.normalise(latents.transpose(1, 2), channel_dim=-1)     # (1, F, D)
        out = gen(x, noise, torch.tensor([3]))                                  # (1, F, D)
        audio = ae.decode(bundle.stats.denormalise(out, channel_dim=-1).transpose(1, 2))
    tau = bundle.tau_frames * ae.cfg.hop
    ref = np.concatenate([np.zeros((1, tau), np.float32), audio[0].numpy()], axis=1)
    ref = np.pad(ref, ((0, 0), (0, max(0, mix.shape[-1] - ref.shape[-1]))))
    return ref[:, : mix.shape[-1]]


@pytest.mark.parametrize("tau", [0, 1, 3])
def test_streaming_equals_parallel_pass(tiny_bundle, tau):
    bundle = load_bundle(tiny_bundle(tau))
    mix = (0.1 * np.random.default_rng(0).standard_normal((1, 2048 * 12 + 500))).astype(np.float32)
    streamed, _ = accompany_array(bundle, mix, instrument=3, seed=7, chunk=777)
    reference = offline_reference(bundle, mix, seed=7)
    assert streamed.shape == mix.shape
    assert not np.any(streamed[:, : tau * 2048])                    # nothing before tau frames
    assert np.abs(streamed - reference).max() < 1e-4
    other, _ = accompany_array(bundle, mix, instrument=3, seed=8, chunk=777)
    assert np.abs(other - streamed).max() > 1e-4                   # the noise matters


def test_cli_writes_aligned_audio(tiny_bundle, tmp_path, capsys):
    path = tiny_bundle(1)
    mix = tmp_path / "mix.wav"
    sf.write(mix, 0.1 * np.random.default_rng(1).standard_normal((44100 * 2, 2)), 44100)  # other rate, stereo
    out, preview = tmp_path / "acc.wav", tmp_path / "preview.wav"
    code = cli.main(["accompany", str(mix), "--checkpoint", str(path), "--instrument", "Bass",
                     "--tau", "0.1", "--out", str(out), "--preview", str(preview)])
    assert code == 0
    report = capsys.readouterr().out
    assert '"real_time_factor"' in report and "resampled 44100 -> 22050 Hz" in report
    audio, sr = sf.read(out)
    assert sr == 22050 and len(audio) == 44100 and sf.info(preview).channels == 2


@pytest.mark.parametrize("args, message", [
    (["--checkpoint", "missing.pt"], "missing.pt: checkpoint not found"),
    (["--instrument", "kazoo"], "--instrument: 'kazoo'"),
    (["--tau", "1.0"], "--tau: 1.0 s is 11 frames"),
])
def test_cli_errors_are_one_line(tiny_bundle, tmp_path, capsys, args, message):
    mix = tmp_path / "mix.wav"
    sf.write(mix, np.zeros(22050), 22050)
    base = {"--checkpoint": str(tiny_bundle(1)), "--instrument": "Bass"}
    base.update(dict(zip(args[::2], args[1::2])))
    argv = ["accompany", str(mix), "--out", str(tmp_path / "o.wav")] + [x for kv in base.items() for x in kv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err


def test_corrupt_input_and_bidirectional_model(tiny_bundle, tmp_path, capsys):
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"fLaC" + b"\0" * 10)
    assert cli.main(["accompany", str(bad), "--checkpoint", str(tiny_bundle(1)), "--instrument", "Bass",
                     "--out", str(tmp_path / "o.wav")]) == 2
    assert "bad.flac: not a readable audio file" in capsys.readouterr().err
    sf.write(tmp_path / "mix.wav", np.zeros(22050), 22050)
    assert cli.main(["accompany", str(tmp_path / "mix.wav"), "--checkpoint", str(tiny_bundle(0, causal=False)),
                     "--instrument", "Bass", "--out", str(tmp_path / "o.wav")]) == 2
    assert "bidirectional model cannot stream" in capsys.readouterr().err


@pytest.mark.parametrize("tau", [0, 2])
def test_smg_streaming_equals_uncached_greedy_sampling(tiny_smg_bundle, tau):
    bundle = load_bundle(tiny_smg_bundle(tau))
    ae, smg, rvq = bundle.autoencoder, bundle.model, bundle.extra["rvq"]
    mix = (0.1 * np.random.default_rng(2).standard_normal((1, 2048 * 10))).astype(np.float32)
    streamed, _ = accompany_array(bundle, mix, instrument=5, temperature=0.0)
    with torch.inference_mode():
        latents = ae.encode(torch.from_numpy(mix)[None]).transpose(1, 2)        # (1, F, D)
        codes, _ = smg.sample_reference(latents, torch.tensor([5]), temperature=0.0)
        audio = ae.decode(rvq.decode(codes).transpose(1, 2))[0].numpy()
    reference = np.concatenate([np.zeros((1, tau * 2048), np.float32), audio], axis=1)[:, : mix.shape[-1]]
    assert np.abs(streamed - reference).max() < 1e-4


def test_checkpoint_of_another_architecture_is_a_one_line_error(tiny_bundle, tmp_path):
    from liveband.errors import LiveBandError

    path = tiny_bundle(1)
    payload = torch.load(path, weights_only=True)
    payload["model"] = {k + "_renamed": v for k, v in payload["model"].items()}
    del payload["sha256"]  # an edited file would fail its checksum first
    torch.save(payload, tmp_path / "other.pt")
    with pytest.raises(LiveBandError, match="other.pt: liveband weights do not fit"):
        load_bundle(tmp_path / "other.pt")


@pytest.mark.parametrize("kind", ["liveband", "smg"])
def test_batched_streams_equal_single_streams(tiny_bundle, tiny_smg_bundle, kind):
    """Row b of a batch is the stream accompany_array plays for that mix, class and seed alone."""
    from liveband.streaming.files import accompany_batch

    bundle = load_bundle(tiny_bundle(1) if kind == "liveband" else tiny_smg_bundle(1))
    mixes = (0.1 * np.random.default_rng(3).standard_normal((3, 1, 2048 * 8 + 300))).astype(np.float32)
    instruments, seeds = [3, 5, 3], [11, 12, 13]
    sampling = {} if kind == "liveband" else {"temperature": 1.0, "top_k": 8}
    batch, _ = accompany_batch(bundle, mixes, instruments, seeds, chunk=999, **sampling)
    assert batch.shape == mixes.shape
    singles = [accompany_array(bundle, m, i, seed=s, chunk=999, **sampling)[0]
               for m, i, s in zip(mixes, instruments, seeds)]
    for row, single in zip(batch, singles):
        assert np.abs(row - single).max() < 1e-4
    assert np.abs(singles[0] - singles[2]).max() > 1e-4    # different mix and seed, different output


def test_batch_of_mismatched_sizes_is_a_one_line_error(tiny_bundle):
    from liveband.errors import LiveBandError
    from liveband.streaming.accompanist import Accompanist

    bundle = load_bundle(tiny_bundle(1))
    with pytest.raises(LiveBandError, match="2 instruments for 3 seeds"):
        Accompanist(bundle, [1, 2], seed=[1, 2, 3])
    acc = Accompanist(bundle, [1, 2], seed=[1, 2])
    with pytest.raises(LiveBandError, match=r"expected audio \(B=2"):
        acc.push(torch.zeros(1, 1, 2048))
