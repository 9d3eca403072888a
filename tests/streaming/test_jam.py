"""Live jam: a paced file gives accompany's audio, deadlines are accounted, memory stays fixed."""

import json
import os
import signal
import sys
import threading
import types

import numpy as np
import pytest
import soundfile as sf

from liveband import cli
from liveband.builders import load_bundle
from liveband.streaming import jam
from liveband.streaming.files import accompany_array

SR, HOP = 22050, 2048        # the tiny bundle's autoencoder
FRAME = HOP / SR             # 92.9 ms


def noise_mix(n: int, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal((1, n))).astype(np.float32)


class CollectSink:
    """An in-memory sink for tests: keeps every block, aligned like FileSink (tau frames of lead)."""

    def __init__(self, lead: int):
        self.blocks = [np.zeros((1, lead), np.float32)]
        self.closed = None

    def write(self, block, input_samples):
        self.blocks.append(block.copy())

    def buffered_samples(self):
        return 0

    def close(self, input_samples, ok=True):
        self.closed = (input_samples, ok)

    def audio(self, n):
        out = np.concatenate(self.blocks, axis=-1)
        return np.pad(out, ((0, 0), (0, max(0, n - out.shape[-1]))))[:, :n]


def run_session(bundle, mix, before_step=None, seed=7, **kwargs):
    clock = jam.FakeClock()
    sink = CollectSink(bundle.tau_frames * HOP)
    session = jam.JamSession(bundle, 3, jam.array_source(mix, SR, HOP), sink, clock, seed=seed,
                             before_step=(lambda k: before_step(k, clock)) if before_step else None, **kwargs)
    return session, session.run(), sink


@pytest.mark.parametrize("tau", [0, 1, 3])
def test_file_paced_jam_equals_accompany(tiny_bundle, tmp_path, tau):
    bundle = load_bundle(tiny_bundle(tau))
    mix = noise_mix(HOP * 14 + 500)
    sf.write(tmp_path / "mix.wav", mix.T, SR, subtype="FLOAT")
    session = jam.open_session(bundle, 3, input_path=tmp_path / "mix.wav", out_path=tmp_path / "jam.wav",
                               clock=jam.FakeClock(), seed=7)
    report = session.run()
    expected, _ = accompany_array(bundle, mix, instrument=3, seed=7)
    played, sr = sf.read(tmp_path / "jam.wav", always_2d=True)
    assert sr == SR and played.shape == (mix.shape[-1], 1)
    assert np.abs(played.T - expected).max() <= 1.5 / 32768          # PCM_16 rounding only
    assert np.abs(expected).max() > 1e-3                               # not trivially silent
    assert report["frames"] == 14 and report["misses"] == 0
    assert report["budget_ms"] == pytest.approx(max(tau, 1) * FRAME * 1e3, abs=1e-3)
    other, _ = accompany_array(bundle, mix, instrument=3, seed=8)
    assert np.abs(other - expected).max() > 1e-3                      # the seed matters: the test bites


def test_cli_jam_writes_what_accompany_writes(tiny_bundle, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(jam, "SkipClock", jam.FakeClock)  # no real timing in a test
    path = str(tiny_bundle(1))
    mix = tmp_path / "mix.wav"
    sf.write(mix, 0.1 * np.random.default_rng(1).standard_normal((44100 * 2, 2)), 44100)  # resampled, downmixed
    base = ["--checkpoint", path, "--instrument", "Bass", "--tau", "0.1", "--seed", "5"]
    assert cli.main(["accompany", str(mix), "--out", str(tmp_path / "acc.wav"), *base]) == 0
    assert cli.main(["jam", "--input", str(mix), "--out", str(tmp_path / "jam.wav"), "--no-wait",
                     "--report", str(tmp_path / "report.json"), *base]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("jam: 21 frames") and "0 deadline misses" in summary
    accompanied, jammed = sf.read(tmp_path / "acc.wav")[0], sf.read(tmp_path / "jam.wav")[0]
    assert accompanied.shape == jammed.shape == (44100,)
    assert np.abs(accompanied - jammed).max() <= 1.5 / 32768
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["frames"] == 21 and report["misses"] == 0 and report["instrument"] == "Bass"
    assert {"p50", "p95", "p99", "max"} <= set(report["step_ms"]) and "resampled 44100 -> 22050 Hz" in report["notes"]


def test_injected_slow_frames_are_counted_and_concealed(tiny_bundle):
    bundle = load_bundle(tiny_bundle(1))
    mix = noise_mix(HOP * 40, seed=3)
    delays = {5: 0.2, 30: 0.05}  # 0.2 s > one-frame budget; 0.05 s fits in it

    def slow(k, clock):
        clock.advance(delays.get(k, 0.0))

    _, clean, reference = run_session(bundle, mix)
    session, report, sink = run_session(bundle, mix, before_step=slow, fade_ms=10.0)
    # Frame 5 ends 0.2 s after it is ready: 0.107 s past its due time. Frame 6 is ready 1 frame
    # after frame 5 but waits for it, ends 0.2 s after frame 5 was ready: 14 ms past its due time.
    # Frame 7 is due 2 frames (0.186 s) after frame 5 was ready: on time. So two misses.
    assert clean["misses"] == 0 and report["frames"] == clean["frames"] == 40
    assert report["misses"] == 2 and [m["frame"] for m in report["late_frames"]] == [5, 6]
    assert report["late_frames"][0]["late_ms"] == pytest.approx((0.2 - FRAME) * 1e3, abs=1e-3)
    assert report["late_frames"][1]["late_ms"] == pytest.approx((0.2 - 2 * FRAME) * 1e3, abs=1e-3)
    assert report["step_ms"]["max"] == pytest.approx(200.0, abs=0.01)
    got, want = np.concatenate(sink.blocks, -1), np.concatenate(reference.blocks, -1)
    block = lambda a, k: a[:, (k + 1) * HOP:(k + 2) * HOP]  # noqa: E731 - block k follows 1 frame of lead
    fade = int(round(0.010 * SR))
    for k in range(40):
        if k in (5, 6):
            continue
        lo = fade if k == 7 else 0  # the block after a concealment fades in
        np.testing.assert_array_equal(block(got, k)[:, lo:], block(want, k)[:, lo:])  # the model kept in step
    assert block(got, 5)[0, 0] == block(want, 4)[0, -1]           # concealment starts where playback stopped
    assert not block(got, 5)[:, fade:].any() and not block(got, 6).any()   # then silence
    assert block(got, 7)[0, 0] == 0.0 and np.abs(block(got, 7)[:, :fade]).max() > 0   # and a fade-in
    assert np.isfinite(got).all()


def test_long_stream_keeps_fixed_memory(tiny_bundle, tmp_path):
    """Five minutes of audio (3230 frames) with a slow frame every 50: buffers never grow."""
    bundle = load_bundle(tiny_bundle(1))
    n_frames, rng = int(300 * SR / HOP), np.random.default_rng(0)
    blocks = ((0.1 * rng.standard_normal((1, HOP))).astype(np.float32) for _ in range(n_frames))
    clock, footprint = jam.FakeClock(), {}
    session = None

    def hook(k):
        if k % 50 == 49:
            clock.advance(0.2)
        if k in (100, 2600, n_frames - 1):
            footprint[k] = session.buffer_bytes()

    sink = jam.FileSink(tmp_path / "long.flac", SR, 1, lead=HOP)
    session = jam.JamSession(bundle, 2, jam.PacedSource(blocks, SR, 1), sink, clock, before_step=hook)
    report = session.run()
    assert report["frames"] == n_frames and report["audio_seconds"] == pytest.approx(n_frames * FRAME, abs=1e-3)
    # only the list of miss records grows, up to its cap (reached at the 50th slow frame, 2500)
    assert footprint[2600] == footprint[n_frames - 1] <= footprint[100] + 64 * jam.MAX_LISTED_MISSES
    assert report["misses"] == 2 * (n_frames // 50) and len(report["late_frames"]) == jam.MAX_LISTED_MISSES
    assert sf.info(tmp_path / "long.flac").frames == n_frames * HOP
    assert not list(tmp_path.glob(".long.flac.*"))  # the temporary file was renamed


def test_ctrl_c_stops_cleanly_and_flushes(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle(1))
    sf.write(tmp_path / "mix.wav", noise_mix(HOP * 30).T, SR)

    def interrupt(k):
        if k == 9:
            os.kill(os.getpid(), signal.SIGINT)

    previous = signal.getsignal(signal.SIGINT)
    session = jam.open_session(bundle, 3, input_path=tmp_path / "mix.wav", out_path=tmp_path / "out.wav",
                               clock=jam.FakeClock(), before_step=interrupt)
    report = session.run()
    assert report["interrupted"] and report["frames"] == 10
    assert sf.info(tmp_path / "out.wav").frames == 10 * HOP     # everything up to the stop, aligned
    assert signal.getsignal(signal.SIGINT) is previous           # the handler is restored


def test_step_histogram_quantiles():
    hist = jam.StepHistogram()
    times = np.random.default_rng(0).uniform(0.001, 0.1, 5000)
    for t in times:
        hist.add(float(t))
    for q in (0.5, 0.95, 0.99):
        assert hist.quantile(q) == pytest.approx(np.quantile(times, q), rel=0.015)
    assert hist.max == times.max() and hist.mean == pytest.approx(times.mean())
    assert hist.bins.nbytes < 20_000


class FakeSoundDevice(types.SimpleNamespace):
    """Stands in for the sounddevice module: one input and one output device, streams that run
    their callbacks synchronously when started."""

    class PortAudioError(Exception):
        pass

    def __init__(self, mix=None):
        super().__init__()
        self.mix = mix
        self.played = []

    def query_devices(self, device=None, kind=None):
        names = {"input": "Fake Mic", "output": "Fake Speakers"}
        if device is None:
            return "0 Fake Mic\n1 Fake Speakers"
        if device not in (0, 1) and (not isinstance(device, str) or device.lower() not in names[kind].lower()):
            raise ValueError(f"No {kind} device matching {device!r}")
        return {"name": names[kind], "max_input_channels": 1, "max_output_channels": 2}

    def InputStream(self, callback, blocksize, channels, **kwargs):  # noqa: N802 - sounddevice's name
        fake = self

        class Stream:
            active = False

            def start(self):
                for i in range(0, fake.mix.shape[-1], blocksize):
                    callback(fake.mix[:, i:i + blocksize].T, blocksize, None, None)

            def stop(self):
                pass

            def close(self):
                pass

        return Stream()


def test_device_input_gives_the_same_audio(tiny_bundle, tmp_path, monkeypatch):
    bundle = load_bundle(tiny_bundle(1))
    mix = noise_mix(HOP * 12)
    monkeypatch.setitem(sys.modules, "sounddevice", FakeSoundDevice(mix))
    session = jam.open_session(bundle, 3, input_device="mic", out_path=tmp_path / "out.wav",
                               clock=jam.FakeClock(), seed=7)
    report = session.run()
    expected, _ = accompany_array(bundle, mix, instrument=3, seed=7)
    assert report["frames"] == 12 and report["notes"] == ["input device: Fake Mic"]
    assert np.abs(sf.read(tmp_path / "out.wav")[0] - expected[0]).max() <= 1.5 / 32768


def test_device_sink_conceals_underruns_and_stays_in_sync():
    sink = object.__new__(jam.DeviceSink)  # the ring logic without a device
    sink.ring, sink.read_pos, sink.write_pos = np.zeros((64, 1), np.float32), 0, 8
    sink.fade, sink.last, sink.underruns, sink.dropped = 4, np.zeros(1, np.float32), 0, 0
    sink.lock = threading.Lock()
    out = np.empty((16, 1), np.float32)
    sink.write(np.ones((1, 8), np.float32), 8)            # samples 8..15
    sink._callback(out, 16, None, None)                    # reads 0..15: lead silence, then the block
    assert out[:8, 0].tolist() == [0.0] * 8 and out[8:, 0].tolist() == [1.0] * 8 and sink.underruns == 0
    sink._callback(out, 16, None, None)                    # 16..31 never written: ramp down, silence
    assert sink.underruns == 1 and out[0, 0] == 1.0 and out[3, 0] == 0.0 and not out[4:].any()
    sink.write(2 * np.ones((1, 24), np.float32), 0)        # 16..39: the first 16 are too late, dropped
    sink._callback(out, 16, None, None)                    # 32..47: 8 real samples, then an underrun
    assert out[:8, 0].tolist() == [2.0] * 8 and sink.dropped == 16 and sink.read_pos == 48


@pytest.mark.parametrize("argv, message", [
    (["--checkpoint", "missing.pt"], "missing.pt: checkpoint not found"),
    (["--input", "nothere.wav"], "nothere.wav: audio file not found"),
    (["--input", "BAD"], "bad.flac: not a readable audio file"),
    (["--input-device", "nope"], "--input-device: No input device matching 'nope'"),
    (["--output-device", "nope"], "--output-device: No output device matching 'nope'"),
    (["--tau", "1.0"], "--tau: 1.0 s is 11 frames"),
    (["--budget-ms", "0"], "--budget-ms: must be > 0"),
])
def test_jam_errors_are_one_line(tiny_bundle, tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setitem(sys.modules, "sounddevice", FakeSoundDevice())
    (tmp_path / "bad.flac").write_bytes(b"fLaC" + b"\0" * 10)
    sf.write(tmp_path / "mix.wav", np.zeros(HOP * 3, np.float32), SR)
    args = {"--checkpoint": str(tiny_bundle(1)), "--instrument": "Bass", "--input": str(tmp_path / "mix.wav"),
            "--out": str(tmp_path / "o.wav")}
    if "--input-device" in argv:
        del args["--input"]
    if "--output-device" in argv:
        del args["--out"]
    args.update(dict(zip(argv[::2], argv[1::2])))
    if args.get("--input") == "BAD":
        args["--input"] = str(tmp_path / "bad.flac")
    assert cli.main(["jam", *[x for kv in args.items() for x in kv]]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not (tmp_path / "o.wav").exists() and not list(tmp_path.glob(".o.wav.*"))


def test_missing_sounddevice_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    assert cli.main(["jam", "--list-devices"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--list-devices: the 'sounddevice' package is not installed" in err and "\n" not in err


def test_a_jam_where_every_frame_is_late_says_so(tiny_bundle):
    bundle = load_bundle(tiny_bundle(1))
    mix = noise_mix(HOP * 6)
    _, report, sink = run_session(bundle, mix, before_step=lambda k, clock: clock.advance(1.0))
    assert report["misses"] == report["frames"] == 6
    assert len(report["warnings"]) == 1 and "every one of the 6 frames missed" in report["warnings"][0]
    assert not np.concatenate(sink.blocks, -1).any()  # indeed silence
    _, report, _ = run_session(bundle, mix, before_step=lambda k, clock: clock.advance(1.0 if k % 2 else 0.0))
    assert 0 < report["misses"] < report["frames"] and report["warnings"] == []


def test_jam_gain_scales_every_block(tiny_bundle):
    bundle = load_bundle(tiny_bundle(1))
    mix = noise_mix(HOP * 5)
    _, _, plain = run_session(bundle, mix)
    _, _, louder = run_session(bundle, mix, gain_db=20 * np.log10(3))
    np.testing.assert_allclose(np.concatenate(louder.blocks, -1), 3 * np.concatenate(plain.blocks, -1),
                               rtol=1e-5, atol=1e-7)
