"""A training run's compute: the device (machine setting) plus the ``compute`` params.

:func:`training_compute` checks, before any work, that the machine can do what the profile
asks (a GPU count, bfloat16, FlexAttention training) and fails with one line otherwise.
With float32 and no compile every helper here is the identity on the CPU. ``precision: auto``
trains in bfloat16 autocast where the device has native bfloat16 kernels (an Ampere-or-newer
GPU, or a CPU with AVX512-BF16/AMX such as AMD Zen 4: ~1.6x the float32 GAN steps/s there) and
in float32 elsewhere; the precision used is saved with each trained model. Random draws stay
on CPU generators whatever the device (crops, noise, class dropout), and their results are
copied to the device.
"""

from __future__ import annotations

import contextlib
import dataclasses

import torch

from liveband.config import ComputeParams
from liveband.errors import LiveBandError
from liveband.training.distributed import SINGLE, Ranks, join
from liveband.utils.device import to_device


@dataclasses.dataclass(frozen=True)
class Compute:
    device: torch.device = torch.device("cpu")
    bf16: bool = False
    compile: bool = False
    preload: bool = False
    ranks: Ranks = SINGLE

    @property
    def precision(self) -> str:
        """What the training forward passes run in (recorded with every trained model)."""
        return "bfloat16" if self.bf16 else "float32"

    def autocast(self):
        """bfloat16 autocast of a forward pass, or nothing."""
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def prepare(self, *modules: torch.nn.Module) -> None:
        """Move ``modules`` to the device (before their optimisers are built) and compile them.
        ``Module.compile`` keeps parameter names, so checkpoints are the same either way, and
        ``module.forward`` stays the eager forward (the GAN's gradient penalties need it)."""
        for module in modules:
            module.to(self.device)
            if self.compile:
                module.compile()

    def batch(self, value):
        """A CPU-sampled batch on the device (pinned, asynchronous copy on CUDA)."""
        return to_device(value, self.device, non_blocking=self.device.type == "cuda")

    def shard(self, value):
        """This rank's slice of a CPU-sampled global batch, on the device (:meth:`batch` with one rank)."""
        return self.batch(self.ranks.local(value))


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` has native bfloat16 matmul kernels: a CUDA GPU from Ampere on, or a CPU
    whose oneDNN build reports bfloat16 support (AVX512-BF16 or AMX; e.g. AMD Zen 4, Intel
    Sapphire Rapids). Elsewhere bfloat16 is emulated and slower than float32."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return torch.backends.mkldnn.is_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


CPU = Compute()  # plain float32 eager on the CPU: the training loops' default


def training_compute(compute: ComputeParams, device: torch.device, flex: bool = False) -> Compute:
    """``compute`` params on ``device``, or a one-line error if this machine cannot run them.
    Under ``torchrun``, joins the process group first (each rank on its own GPU)."""
    ranks, device = join(device)
    cuda = device.type == "cuda"
    present = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if compute.gpus > present:
        raise LiveBandError(f"compute.gpus: the profile needs {compute.gpus} CUDA GPU(s); this machine has {present}")
    if compute.gpus and not cuda:
        raise LiveBandError(f"compute.gpus: the profile needs a CUDA GPU, but the device is {device} "
                            "(--device / LIVEBAND_DEVICE)")
    if flex and not cuda:
        raise LiveBandError(f"gan.generator.attn_backend: flex trains on CUDA only; the device is {device} "
                            "(use attn_backend: sdpa on a CPU)")
    native = native_bf16(device)
    bf16 = compute.precision == "bfloat16" or (compute.precision == "auto" and native)
    if bf16 and not native:
        where = (f"{torch.cuda.get_device_name(device)} has no bfloat16" if cuda
                 else f"the device is {device} without native bfloat16 kernels (AVX512-BF16 or AMX)")
        raise LiveBandError(f"compute.precision: bfloat16 training needs a CUDA GPU with bfloat16 (Ampere or "
                            f"newer) or a CPU with native bfloat16; {where} (precision: auto falls back to float32)")
    if cuda:
        if device.index is not None:
            torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = compute.tf32
        torch.backends.cudnn.allow_tf32 = compute.tf32
    return Compute(device=device, bf16=bf16, compile=compute.compile, preload=compute.preload, ranks=ranks)
