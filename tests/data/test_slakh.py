"""The one Slakh loader on a hand-made tree in the real layout, and every bad-input case."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from liveband.data.slakh import INDEX_COLUMNS, index_tree, read_index
from liveband.errors import LiveBandError


def test_real_layout_tree_is_indexed(slakh_tree):
    index = index_tree(slakh_tree, 44100)
    assert list(index.columns) == list(INDEX_COLUMNS)
    assert sorted(index.split.unique()) == ["test", "train", "validation"]  # omitted/ ignored
    assert len(index) == 9 and set(index.inst_class) == {"Drums", "Bass", "Piano"}
    assert (index.duration_s == 1.0).all()
    assert (slakh_tree / index.stem_path.iloc[0]).is_file()


def _one_line(err):
    assert "\n" not in str(err.value)
    return str(err.value)


def _stem(root: Path) -> Path:
    return root / "train" / "Track00001" / "stems" / "S01.flac"


def test_truncated_flac(slakh_tree):
    path = _stem(slakh_tree)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LiveBandError) as err:
        index_tree(slakh_tree, 44100)
    assert "S01.flac" in _one_line(err)


def test_corrupt_flac(slakh_tree):
    _stem(slakh_tree).write_bytes(b"fLaC" + b"\x00" * 64)
    with pytest.raises(LiveBandError) as err:
        index_tree(slakh_tree, 44100)
    assert "S01.flac" in _one_line(err)


def test_missing_stem(slakh_tree):
    _stem(slakh_tree).unlink()
    with pytest.raises(LiveBandError, match=r"S01.flac: missing stem S01"):
        index_tree(slakh_tree, 44100)


def test_wrong_sample_rate(slakh_tree):
    sf.write(_stem(slakh_tree), np.zeros(22050, np.float32), 22050)
    with pytest.raises(LiveBandError, match=r"S01.flac: sample rate 22050 Hz, expected 44100 Hz"):
        index_tree(slakh_tree, 44100)


def test_wrong_channel_count(slakh_tree):
    sf.write(_stem(slakh_tree), np.zeros((44100, 2), np.float32), 44100)
    with pytest.raises(LiveBandError, match=r"S01.flac: 2 channels, expected 1"):
        index_tree(slakh_tree, 44100)


@pytest.mark.parametrize("text, message", [
    ("stems: [unclosed", "malformed YAML"),
    ("UUID: x\n", "no 'stems' mapping"),
    ("stems:\n  S00: {inst_class: Bass, is_drum: false, program_num: 33}\n", "stems.S00.audio_rendered missing"),
    ("stems:\n  S00: {audio_rendered: true, inst_class: Kazoo, is_drum: false, program_num: 1}\n",
     "inst_class 'Kazoo' is not a Slakh class"),
])
def test_malformed_metadata(slakh_tree, text, message):
    path = slakh_tree / "test" / "Track00003" / "metadata.yaml"
    path.write_text(text)
    with pytest.raises(LiveBandError) as err:
        index_tree(slakh_tree, 44100)
    assert "Track00003/metadata.yaml" in _one_line(err) and message in str(err.value)


def test_missing_metadata(slakh_tree):
    (slakh_tree / "validation" / "Track00002" / "metadata.yaml").unlink()
    with pytest.raises(LiveBandError, match=r"Track00002/metadata.yaml: missing metadata.yaml"):
        index_tree(slakh_tree, 44100)


def test_empty_split(slakh_tree):
    import shutil

    shutil.rmtree(slakh_tree / "test" / "Track00003")
    with pytest.raises(LiveBandError, match=r"test: empty split"):
        index_tree(slakh_tree, 44100)


def test_not_rendered_stems_are_not_required(slakh_tree):
    track = slakh_tree / "train" / "Track00001"
    meta = yaml.safe_load((track / "metadata.yaml").read_text())
    meta["stems"]["S01"]["audio_rendered"] = False
    (track / "metadata.yaml").write_text(yaml.safe_dump(meta))
    _stem(slakh_tree).unlink()
    index = index_tree(slakh_tree, 44100)
    assert len(index) == 8


def test_malformed_index(tmp_path):
    path = tmp_path / "index.csv"
    path.write_text("split,track\ntrain,Track00001\n")
    with pytest.raises(LiveBandError, match="index lacks column"):
        read_index(path)


def test_every_problem_is_reported_in_one_pass(slakh_tree):
    """Four problems in three tracks and a split: one error names them all, one line."""
    meta = slakh_tree / "test" / "Track00003" / "metadata.yaml"
    meta.write_text("stems:\n  S00: {inst_class: Kazoo, is_drum: false, program_num: 300}\n")
    (slakh_tree / "validation" / "Track00002" / "mix.flac").unlink()
    sf.write(_stem(slakh_tree), np.zeros(22050, np.float32), 22050)
    with pytest.raises(LiveBandError) as err:
        index_tree(slakh_tree, 44100)
    message = _one_line(err)
    assert "5 problems" in message
    for part in ("stems.S00.audio_rendered missing", "inst_class 'Kazoo'", "program_num must be 0-127",
                 "Track00002/mix.flac: missing mix", "S01.flac: sample rate 22050 Hz"):
        assert part in message
