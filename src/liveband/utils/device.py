"""Where a stage or the CLI computes: a machine setting, never a param.

``--device`` (every stage, ``liveband accompany`` and ``jam``) or the ``LIVEBAND_DEVICE``
environment variable: ``auto`` (CUDA when present, else CPU; the default), ``cpu``,
``cuda`` or ``cuda:N``. The flag wins over the variable. The device changes where tensors
live, never a params key, so results keep their identity in Snakemake and DVC.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import TYPE_CHECKING, Any

from liveband.errors import LiveBandError

if TYPE_CHECKING:  # torch is imported on use: the CLI builds its parser without it
    import torch

ENV_VAR = "LIVEBAND_DEVICE"
_SPELLING = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(name: str | None = None) -> torch.device:
    """``name`` (or ``$LIVEBAND_DEVICE``, or ``auto``) as a torch device this machine has."""
    import torch

    source = "--device"
    if name is None:
        name, source = os.environ.get(ENV_VAR) or "auto", ENV_VAR
    name = name.strip().lower()
    if not _SPELLING.match(name):
        raise LiveBandError(f"{source}: '{name}' is not auto, cpu, cuda or cuda:N")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise LiveBandError(f"{source}: '{name}' asked for, but this machine has no CUDA GPU")
        if (device.index or 0) >= count:
            raise LiveBandError(f"{source}: '{name}' asked for, but this machine has {count} CUDA GPU(s)")
    return device


def add_device_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=None, metavar="DEVICE",
                        help=f"auto (CUDA when present, else CPU), cpu, cuda or cuda:N "
                             f"(default: ${ENV_VAR}, else auto); a machine setting, not a param")


def to_device(value: Any, device: torch.device, non_blocking: bool = False) -> Any:
    """Tensors in ``value`` (nested dicts, lists, tuples) moved to ``device``; CPU to CPU is a no-op."""
    import torch

    if isinstance(value, torch.Tensor):
        if device.type == "cuda" and value.device.type == "cpu" and non_blocking:
            value = value.pin_memory()
        return value.to(device, non_blocking=non_blocking)
    if isinstance(value, dict):
        return {k: to_device(v, device, non_blocking) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_device(v, device, non_blocking) for v in value)
    return value


def to_cpu(value: Any) -> Any:
    """What a checkpoint stores: every tensor on the CPU, so it loads on any machine."""
    import torch

    return to_device(value, torch.device("cpu"))
