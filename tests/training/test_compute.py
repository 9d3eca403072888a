"""What a profile asks of the machine is checked before any work; the defaults change nothing on the CPU."""

from pathlib import Path

import pytest
import torch

from liveband.config import ComputeParams, load_params
from liveband.errors import LiveBandError
from liveband.stages import autoencoder, train_gan, train_smg
from liveband.training import compute as compute_module
from liveband.training.compute import CPU, training_compute

CPU_DEVICE = torch.device("cpu")


def test_default_compute_is_plain_float32_eager_on_the_cpu():
    compute = training_compute(ComputeParams(), CPU_DEVICE)
    assert compute == CPU and not compute.bf16 and not compute.compile
    x = torch.ones(2)
    assert compute.batch(x) is x  # no copy: CPU training is what it was


@pytest.mark.parametrize("params, flex, message", [
    (ComputeParams(gpus=1), False, "compute.gpus: the profile needs 1 CUDA GPU(s); this machine has 0"),
    (ComputeParams(precision="bfloat16"), False, "compute.precision: bfloat16 training needs a CUDA GPU"),
    (ComputeParams(), True, "gan.generator.attn_backend: flex trains on CUDA only"),
])
def test_what_the_machine_cannot_do_is_one_line(monkeypatch, params, flex, message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(compute_module, "native_bf16", lambda device: False)
    with pytest.raises(LiveBandError) as err:
        training_compute(params, CPU_DEVICE, flex=flex)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


@pytest.mark.parametrize("native", [False, True])
def test_auto_precision_is_bfloat16_only_where_it_is_native(monkeypatch, native):
    monkeypatch.setattr(compute_module, "native_bf16", lambda device: native)
    compute = training_compute(ComputeParams(precision="auto"), CPU_DEVICE)
    assert compute.bf16 is native and compute.precision == ("bfloat16" if native else "float32")
    forced = training_compute(ComputeParams(precision="bfloat16"), CPU_DEVICE) if native else None
    assert forced is None or forced.bf16


@pytest.mark.skipif(not compute_module.native_bf16(torch.device("cpu")), reason="this CPU has no native bfloat16")
def test_bf16_autocast_on_a_cpu_with_native_bfloat16_runs_the_matmuls_in_bfloat16():
    compute = training_compute(ComputeParams(precision="bfloat16"), CPU_DEVICE)
    layer = torch.nn.Linear(8, 8)
    with compute.autocast():
        out = layer(torch.randn(4, 8))
    assert out.dtype == torch.bfloat16 and layer.weight.dtype == torch.float32
    with training_compute(ComputeParams(), CPU_DEVICE).autocast():
        assert layer(torch.randn(4, 8)).dtype == torch.float32


def test_native_bf16_asks_the_cpu_backend(monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert not compute_module.native_bf16(CPU_DEVICE)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert compute_module.native_bf16(CPU_DEVICE) is torch.backends.mkldnn.is_available()


def test_bf16_on_a_gpu_without_it_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla T4")
    with pytest.raises(LiveBandError, match="Tesla T4 has no bfloat16"):
        training_compute(ComputeParams(precision="bfloat16"), torch.device("cuda"))


def test_the_paper_profile_asks_for_the_cuda_path():
    compute = load_params("params.yaml", "paper").compute
    assert (compute.precision, compute.compile, compute.tf32, compute.gpus, compute.preload) == (
        "bfloat16", True, True, 1, True)
    assert load_params("params.yaml", "ci").compute == ComputeParams()


@pytest.mark.parametrize("stage, extra", [(autoencoder, []), (train_gan, ["--variant", "tau01"]),
                                          (train_smg, ["--variant", "tau0"])])
def test_paper_training_on_this_machine_stops_before_any_work(tmp_path, monkeypatch, capsys, stage, extra):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    params = Path(__file__).resolve().parents[2] / "params.yaml"
    monkeypatch.chdir(tmp_path)  # no data here: any work would fail on a missing file instead
    code = stage.main(["--params", str(params), "--profile", "paper", "--device", "cpu", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1] == "error: compute.gpus: the profile needs 1 CUDA GPU(s); this machine has 0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # only the stage log was written
