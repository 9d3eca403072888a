"""Output paths: one file under any spelling is one file; unwritable targets are named up front."""

import os

import pytest

from liveband.errors import LiveBandError
from liveband.utils.outputs import check_outputs, check_writable, same_file, write_errors


def test_same_file_under_every_spelling(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.wav").write_bytes(b"x")
    os.symlink(tmp_path / "a.wav", tmp_path / "link.wav")
    os.link(tmp_path / "a.wav", tmp_path / "hard.wav")
    for spelling in ("a.wav", "./a.wav", "sub/../a.wav", str(tmp_path / "a.wav"), "link.wav", "hard.wav"):
        assert same_file(tmp_path / "a.wav", tmp_path / spelling), spelling
    (tmp_path / "b.wav").write_bytes(b"x")
    assert not same_file(tmp_path / "a.wav", tmp_path / "b.wav")
    assert not same_file(tmp_path / "new.wav", tmp_path / "other.wav")   # neither exists yet


def test_check_outputs_names_the_clash(tmp_path):
    inputs = {"the input": tmp_path / "in.wav", "--checkpoint": None}
    check_outputs({"--out": tmp_path / "o.wav", "--preview": None}, inputs)
    with pytest.raises(LiveBandError, match=r"--out: .*in.wav would overwrite the input"):
        check_outputs({"--out": tmp_path / "in.wav"}, inputs)
    with pytest.raises(LiveBandError, match=r"--preview: .*o.wav would overwrite --out"):
        check_outputs({"--out": tmp_path / "o.wav", "--preview": tmp_path / "o.wav"}, inputs)


def test_writable_targets(tmp_path):
    check_writable("--out", tmp_path / "new" / "deeper" / "o.wav")   # folders that can be made
    assert not (tmp_path / "new").exists()                            # ... are not made by the check
    (tmp_path / "file").write_text("")
    for target, message in [(tmp_path, "is a folder"), (f"{tmp_path}/x/", "is a folder"),
                            ("/dev/null", "not a regular file"), (tmp_path / "file" / "o.wav", "is not a folder"),
                            ("/proc/o.wav", "cannot write in /proc")]:
        with pytest.raises(LiveBandError, match=message):
            check_writable("--out", target)
    assert os.listdir(tmp_path) == ["file"]  # the write probe leaves nothing


def test_write_errors_are_one_line():
    with pytest.raises(LiveBandError, match=r"^--report: r.json: cannot write \(Read-only file system\)$"):
        with write_errors("--report", "r.json"):
            raise OSError(30, "Read-only file system")
