"""The device is chosen by --device, else LIVEBAND_DEVICE, else auto; an impossible one is a one-line error."""

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.utils.device import ENV_VAR, resolve_device, to_cpu, to_device


def test_explicit_cpu_and_auto_without_a_gpu(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "cuda")  # the flag wins over the environment
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == torch.device("cpu")


def test_environment_variable_is_read_and_named_in_errors(monkeypatch):
    monkeypatch.setenv(ENV_VAR, " CPU ")
    assert resolve_device(None) == torch.device("cpu")
    monkeypatch.setenv(ENV_VAR, "gpu")
    with pytest.raises(LiveBandError, match=f"^{ENV_VAR}: 'gpu' is not auto, cpu, cuda or cuda:N$"):
        resolve_device(None)


@pytest.mark.parametrize("name, count", [("cuda", 0), ("cuda:1", 1)])
def test_a_gpu_the_machine_lacks_is_refused(monkeypatch, name, count):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    with pytest.raises(LiveBandError, match=f"^--device: '{name}' asked for, but this machine has"):
        resolve_device(name)


def test_nested_tensors_move_and_other_values_stay():
    value = {"a": [torch.ones(2), (torch.zeros(1), 3)], "b": "text"}
    moved = to_device(value, torch.device("cpu"))
    assert moved["b"] == "text" and moved["a"][1][1] == 3 and isinstance(moved["a"][1], tuple)
    assert torch.equal(to_cpu(value)["a"][0], torch.ones(2))
