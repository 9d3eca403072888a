"""The converter extracts a foreign checkpoint's tensors without running anything it names."""

import os
import pickle

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.metrics.convert_weights import convert, extract_tensors, main


class _Payload:
    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return os.system, (f"touch {self.sentinel}",)


class _Stateful:
    """A foreign object restored through BUILD (``__setstate__`` / attribute writes)."""

    def __init__(self, sentinel):
        self.payload = _Payload(sentinel)


def test_malicious_zip_yields_only_its_tensors(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    state = {"net.weight": torch.randn(3, 4), "net.bias": torch.randn(3).to(torch.float16),
             "steps": torch.tensor([7]), "shared": torch.arange(10.0)[2:8:2]}
    src = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": state, "hyper_parameters": _Payload(sentinel), "callbacks": _Stateful(sentinel),
                "optimizer_states": [{"state": {0: {"exp_avg": torch.ones(2)}}}]}, src)
    assert convert(src, tmp_path / "plain.pt") == 4
    assert not sentinel.exists()
    out = torch.load(tmp_path / "plain.pt", weights_only=True)["state_dict"]
    assert out.keys() == state.keys()
    assert all(torch.equal(out[k], v) and out[k].dtype == v.dtype for k, v in state.items())


def test_module_state_dict_round_trips(tmp_path):
    net = torch.nn.Sequential(torch.nn.Conv1d(2, 3, 3), torch.nn.BatchNorm1d(3))
    torch.save({"state_dict": net.state_dict()}, tmp_path / "a.ckpt")
    tensors = extract_tensors(tmp_path / "a.ckpt")
    assert all(torch.equal(tensors[k], v) for k, v in net.state_dict().items())


def test_plain_pickle_is_refused_unread(tmp_path, capsys):
    sentinel = tmp_path / "SENTINEL"
    src = tmp_path / "evil.pkl"
    src.write_bytes(pickle.dumps({"state_dict": _Payload(sentinel)}))
    with pytest.raises(LiveBandError, match="not a torch zip checkpoint"):
        extract_tensors(src)
    assert main([str(src), str(tmp_path / "out.pt")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not sentinel.exists() and not (tmp_path / "out.pt").exists()


def test_file_without_tensors_is_refused(tmp_path):
    torch.save({"hyper_parameters": {"lr": 1.0}}, tmp_path / "empty.ckpt")
    with pytest.raises(LiveBandError, match="no state_dict of tensors"):
        extract_tensors(tmp_path / "empty.ckpt")
