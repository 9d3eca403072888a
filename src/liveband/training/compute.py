"""A training run's compute: the device (machine setting) plus the ``compute`` params.

:func:`training_compute` checks, before any work, that the machine can do what the profile
asks (a GPU count, bfloat16, FlexAttention training) and fails with one line otherwise.
With the defaults (float32, no compile) every helper here is the identity on the CPU, so
CPU profiles train exactly as before. Random draws stay on CPU generators whatever the
device (crops, noise, class dropout), and their results are copied to the device.
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
    bf16 = compute.precision == "bfloat16"
    if bf16 and not (cuda and torch.cuda.is_bf16_supported()):
        where = f"{torch.cuda.get_device_name(device)} has no bfloat16" if cuda else f"the device is {device}"
        raise LiveBandError(f"compute.precision: bfloat16 training needs a CUDA GPU with bfloat16 (Ampere or "
                            f"newer); {where}")
    if cuda:
        if device.index is not None:
            torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = compute.tf32
        torch.backends.cudnn.allow_tf32 = compute.tf32
    return Compute(device=device, bf16=bf16, compile=compute.compile, preload=compute.preload, ranks=ranks)
