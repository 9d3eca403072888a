"""The `liveband` command refuses unsafe outputs and bad numbers up front, with one-line errors.

Tests for what `accompany` and `jam` compute live in tests/streaming/; these are about what
the command does with paths and options before (and while) it computes.
"""

import errno
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from liveband import cli
from liveband.streaming import files, jam

SR = 22050


@pytest.fixture
def setup(tiny_bundle, tmp_path):
    """A tiny bundle and a 1 s mix at the model's rate; -> (checkpoint, mix) paths."""
    mix = tmp_path / "mix.wav"
    sf.write(mix, 0.1 * np.random.default_rng(0).standard_normal(SR), SR)
    return str(tiny_bundle(1)), mix


def run(argv, capsys) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    return code, capsys.readouterr().err.strip()


def accompany(checkpoint, mix, *extra):
    return ["accompany", mix, "--checkpoint", checkpoint, "--instrument", "Bass", *extra]


def jam_file(checkpoint, mix, *extra):
    return ["jam", "--input", mix, "--checkpoint", checkpoint, "--instrument", "Bass", "--no-wait", *extra]


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the command starts streaming: a check must come first."""
    def started(*args, **kwargs):
        raise AssertionError("the command started the work before refusing its output")

    monkeypatch.setattr(files, "accompany_file", started)
    monkeypatch.setattr(jam, "open_session", started)


def files_in(folder) -> list[str]:
    """What a command left in ``folder``, hidden temporaries included (the tiny bundle's .pt aside)."""
    return sorted(p for p in os.listdir(folder) if not p.endswith(".pt"))


def one_line(code: int, err: str, *parts: str) -> None:
    assert code == 2 and err.startswith("error: ") and "\n" not in err, err
    for part in parts:
        assert part in err, err


# ---------------------------------------------------------------- finding 1: never overwrite an input


@pytest.mark.parametrize("command", ["accompany", "jam"])
@pytest.mark.parametrize("spelling", ["same", "dot", "symlink", "hardlink"])
def test_out_that_is_the_input_is_refused_and_the_input_kept(setup, tmp_path, monkeypatch, capsys, no_work,
                                                              command, spelling):
    checkpoint, mix = setup
    before = mix.read_bytes()
    monkeypatch.chdir(tmp_path)
    out = {"same": mix, "dot": "./mix.wav", "symlink": tmp_path / "link.wav", "hardlink": tmp_path / "hard.wav"}[spelling]
    if spelling == "symlink":
        os.symlink(mix, out)
    if spelling == "hardlink":
        os.link(mix, out)
    argv = accompany(checkpoint, mix, "--out", out) if command == "accompany" else jam_file(checkpoint, mix, "--out", out)
    one_line(*run(argv, capsys), "--out:", "would overwrite the input")
    assert mix.read_bytes() == before


@pytest.mark.parametrize("argv, message", [
    (["accompany", "--out", "a.wav", "--preview", "a.wav"], "--preview: a.wav would overwrite --out"),
    (["accompany", "--out", "./b/../a.wav", "--preview", "a.wav"], "--preview: a.wav would overwrite --out"),
    (["accompany", "--out", "CKPT"], "would overwrite --checkpoint"),
    (["jam", "--out", "a.wav", "--report", "a.wav"], "--report: a.wav would overwrite --out"),
    (["jam", "--out", "a.wav", "--report", "MIX"], "--report: MIX would overwrite the input"),
])
def test_outputs_may_not_overwrite_each_other_or_the_checkpoint(setup, tmp_path, monkeypatch, capsys, no_work,
                                                                argv, message):
    checkpoint, mix = setup
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path)
    swap = {"CKPT": checkpoint, "MIX": "mix.wav"}
    argv = [swap.get(a, a) for a in argv]
    base = accompany(checkpoint, mix) if argv[0] == "accompany" else jam_file(checkpoint, mix)
    code, err = run(base + argv[1:], capsys)
    one_line(code, err, message.replace("MIX", "mix.wav"))
    assert files_in(tmp_path) == ["b", "mix.wav"]


# ---------------------------------------------------------------- finding 2: cut or empty inputs


@pytest.mark.parametrize("command", ["accompany", "jam"])
@pytest.mark.parametrize("name, problem", [("cut.wav", "truncated audio"), ("cut.flac", "truncated audio"),
                                           ("empty.wav", "no audio (0 frames)")])
def test_truncated_or_empty_input_is_an_error(setup, tmp_path, capsys, command, name, problem):
    checkpoint, _ = setup
    path = tmp_path / name
    seconds = 0 if name.startswith("empty") else 5
    sf.write(path, 0.1 * np.random.default_rng(1).standard_normal((SR * seconds, 1)), SR, subtype="PCM_16")
    if seconds:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # what a broken copy leaves
    out = tmp_path / "out.wav"
    argv = accompany(checkpoint, path, "--out", out) if command == "accompany" else jam_file(checkpoint, path,
                                                                                               "--out", out)
    one_line(*run(argv, capsys), name, problem)
    assert not out.exists() and not list(tmp_path.glob(".out.wav.*"))


# ---------------------------------------------------------------- finding 3: outputs checked before work


BAD_TARGETS = [
    ("x.mp3", "cannot write audio as '.mp3'"),
    ("x.ogg", "cannot write audio as '.ogg'"),
    ("x.txt", "cannot write audio as '.txt'"),
    ("folder", "is a folder"),
    ("folder/", "is a folder"),
    ("/proc/liveband-test/x.wav", "cannot write in /proc"),
    ("mix.wav/x.wav", "is not a folder"),
]


@pytest.mark.parametrize("command, flag, target, message", [
    (command, flag, target, message)
    for command, flag in (("accompany", "--out"), ("accompany", "--preview"), ("jam", "--out"), ("jam", "--report"))
    for target, message in BAD_TARGETS
    if not (flag == "--report" and target.startswith("x."))  # a report is JSON under any name
])
def test_unwritable_outputs_fail_before_any_work(setup, tmp_path, monkeypatch, capsys, no_work, command, flag,
                                                  target, message):
    checkpoint, mix = setup
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    base = accompany(checkpoint, mix) if command == "accompany" else jam_file(checkpoint, mix)
    outputs = {"--out": "out.wav", flag: target}
    argv = base + [x for kv in outputs.items() for x in kv]
    one_line(*run(argv, capsys), f"{flag}: ", message)
    assert files_in(tmp_path) == ["folder", "mix.wav"]  # no output, no hidden temporary file


@pytest.mark.parametrize("command", ["accompany", "jam"])
def test_full_disk_is_a_one_line_error_and_keeps_the_previous_output(setup, tmp_path, monkeypatch, capsys,
                                                                     command):
    checkpoint, mix = setup
    out = tmp_path / "out.wav"
    out.write_bytes(b"previous")

    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sf.SoundFile, "write", full)
    argv = accompany(checkpoint, mix, "--out", out) if command == "accompany" else jam_file(checkpoint, mix, "--out", out)
    one_line(*run(argv, capsys), f"--out: {out}: cannot write", "No space left on device")
    assert out.read_bytes() == b"previous" and files_in(tmp_path) == ["mix.wav", "out.wav"]


def test_jam_outputs_get_the_users_permissions(setup, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(jam, "SkipClock", jam.FakeClock)
    checkpoint, mix = setup
    old = os.umask(0o022)
    try:
        code, _ = run(jam_file(checkpoint, mix, "--out", tmp_path / "o.wav", "--report", tmp_path / "r.json"), capsys)
    finally:
        os.umask(old)
    assert code == 0
    for name in ("o.wav", "r.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


# ---------------------------------------------------------------- finding 4: numbers in range


@pytest.mark.parametrize("command, flag, value", [
    ("accompany", "--tau", "nan"), ("accompany", "--tau", "inf"), ("accompany", "--tau", "-0.1"),
    ("accompany", "--threads", "0"), ("accompany", "--seed", str(2**70)), ("accompany", "--seed", "-1"),
    ("accompany", "--temperature", "nan"), ("accompany", "--temperature", "-1"), ("accompany", "--top-k", "-3"),
    ("accompany", "--top-k", "0"), ("accompany", "--threads", "two"),
    ("jam", "--tau", "nan"), ("jam", "--threads", "0"), ("jam", "--seed", str(2**70)), ("jam", "--fade-ms", "nan"),
    ("jam", "--fade-ms", "-1"), ("jam", "--budget-ms", "0"), ("jam", "--budget-ms", "nan"),
    ("jam", "--budget-ms", "inf"), ("jam", "--budget-ms", "1e300"),
])
def test_numeric_options_are_checked(setup, tmp_path, capsys, no_work, command, flag, value):
    checkpoint, mix = setup
    base = accompany(checkpoint, mix) if command == "accompany" else jam_file(checkpoint, mix)
    one_line(*run(base + ["--out", tmp_path / "o.wav", flag, value], capsys), f"error: {flag}: ", repr(value))


def test_usage_errors_are_one_line(capsys):
    one_line(*run(["accompany"], capsys), "the following arguments are required", "liveband accompany --help")


# ---------------------------------------------------------------- a newcomer's first commands


def test_python_dash_m_liveband_prints_the_version():
    import subprocess
    import sys

    import liveband

    here = str(Path(liveband.__file__).parents[1])  # this checkout's src/, ahead of any installed copy
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "liveband", "--version"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"liveband {liveband.__version__}"


def test_version_flag_exits_zero(capsys):
    import liveband

    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"liveband {liveband.__version__}"


@pytest.mark.parametrize("devices, expected", [([], "no sound devices found"), (["0 Mic, ALSA (2 in, 0 out)"], "0 Mic")])
def test_list_devices_says_when_there_are_none(monkeypatch, capsys, devices, expected):
    fake = type("SoundDevice", (), {"query_devices": staticmethod(lambda: "\n".join(devices) if devices else ())})
    monkeypatch.setattr(jam, "import_sounddevice", lambda flag: fake)
    assert cli.main(["jam", "--list-devices"]) == 0
    out = capsys.readouterr().out
    assert out.strip() and expected in out


def test_info_describes_a_bundle(tiny_bundle, tiny_smg_bundle, capsys):
    import json

    from liveband.data.classes import CLASS_VOCAB

    assert cli.main(["info", str(tiny_bundle(2))]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "liveband" and info["tau_frames"] == 2 and info["sample_rate"] == SR
    assert info["tau_seconds"] == pytest.approx(2 * info["hop"] / SR, abs=1e-4)
    assert info["instrument_classes"][0] == CLASS_VOCAB[0] and "Bass" in info["instrument_classes"]
    assert info["steps"] == 0 and info["train_seconds"] is None  # the fixture saves no training record
    assert cli.main(["info", str(tiny_smg_bundle())]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "smg"


def test_info_on_a_bad_file_is_one_line(tmp_path, capsys):
    (tmp_path / "x.pt").write_bytes(b"not a checkpoint")
    one_line(*run(["info", tmp_path / "x.pt"], capsys), str(tmp_path / "x.pt"))


@pytest.mark.parametrize("command", ["accompany", "jam"])
def test_gain_and_normalize_are_checked(setup, tmp_path, capsys, no_work, command):
    checkpoint, mix = setup
    base = accompany(checkpoint, mix) if command == "accompany" else jam_file(checkpoint, mix)
    base += ["--out", tmp_path / "o.wav"]
    one_line(*run(base + ["--gain", "6", "--normalize", "-1"], capsys), "--normalize", "not allowed with")
    one_line(*run(base + ["--gain", "100"], capsys), "--gain", "'100'")
    one_line(*run(base + ["--normalize", "3"], capsys), "--normalize", "'3'")


def test_jam_normalize_needs_a_file_output(setup, capsys):
    checkpoint, mix = setup
    argv = ["jam", "--input", mix, "--checkpoint", checkpoint, "--instrument", "Bass", "--output-device", "x",
            "--normalize", "-1"]
    one_line(*run(argv, capsys), "--normalize: only for --out FILE")


def test_accompany_warns_about_a_near_silent_stem_and_normalize_fixes_it(setup, tmp_path, capsys):
    import json

    checkpoint, mix = setup
    code = cli.main([str(a) for a in accompany(checkpoint, mix, "--out", tmp_path / "q.wav", "--gain", "-60")])
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert code == 0 and summary["peak_dbfs"] < -30 and len(summary["warnings"]) == 1
    assert captured.err.startswith("warning: the accompaniment is near-silent")
    code = cli.main([str(a) for a in accompany(checkpoint, mix, "--out", tmp_path / "n.wav", "--normalize", "-1")])
    captured = capsys.readouterr()
    assert code == 0 and json.loads(captured.out)["warnings"] == [] and captured.err == ""
    assert np.abs(sf.read(tmp_path / "n.wav")[0]).max() == pytest.approx(10 ** (-1 / 20), abs=2 / 32768)


def test_accompany_on_an_explicit_cpu_device_writes_the_default_output(setup, tmp_path, capsys):
    checkpoint, mix = setup
    assert run(accompany(checkpoint, mix, "--out", tmp_path / "a.wav"), capsys)[0] == 0
    assert run(accompany(checkpoint, mix, "--out", tmp_path / "b.wav", "--device", "cpu"), capsys)[0] == 0
    assert np.array_equal(sf.read(tmp_path / "a.wav")[0], sf.read(tmp_path / "b.wav")[0])
    assert run(jam_file(checkpoint, mix, "--out", tmp_path / "c.wav", "--device", "cpu"), capsys)[0] == 0


@pytest.mark.parametrize("command", [accompany, jam_file])
def test_a_device_the_machine_lacks_fails_before_any_work(setup, tmp_path, monkeypatch, capsys, no_work, command):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    checkpoint, mix = setup
    one_line(*run(command(checkpoint, mix, "--out", tmp_path / "a.wav", "--device", "cuda"), capsys),
             "--device: 'cuda' asked for, but this machine has no CUDA GPU")
    monkeypatch.setenv("LIVEBAND_DEVICE", "tpu")
    one_line(*run(command(checkpoint, mix, "--out", tmp_path / "a.wav"), capsys), "LIVEBAND_DEVICE: 'tpu'")
