import pytest
import torch

from liveband.errors import LiveBandError
from liveband.utils.checkpoint import load_checkpoint, save_checkpoint


def test_round_trip_is_weights_only(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"kind": "test", "config": {"d": 3}, "step": 7, "model": model.state_dict()})
    payload = load_checkpoint(path, kind="test")
    assert payload["step"] == 7 and payload["config"] == {"d": 3}
    assert torch.equal(payload["model"]["weight"], model.weight)


def test_bad_checkpoints_are_one_line_errors(tmp_path):
    with pytest.raises(LiveBandError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x02garbage")
    with pytest.raises(LiveBandError, match="bad.pt: not a readable checkpoint"):
        load_checkpoint(bad)
    path = tmp_path / "ok.pt"
    save_checkpoint(path, {"kind": "a", "config": {}, "step": 0})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LiveBandError, match="ok.pt: not a readable checkpoint"):
        load_checkpoint(path)
    save_checkpoint(path, {"kind": "a", "config": {}, "step": 0})
    with pytest.raises(LiveBandError, match="kind is 'a', expected 'b'"):
        load_checkpoint(path, kind="b")
