"""The project's one error type for bad input: its message is one line naming the file or key."""

from __future__ import annotations


class LiveBandError(Exception):
    """Bad input (file, param, tensor): the CLI prints ``error: <message>`` and exits 2."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))  # always one line


def check_finite(name: str, tensor) -> None:
    """Raise LiveBandError if a tensor or array holds NaN or inf."""
    import numpy as np
    import torch

    ok = bool(torch.isfinite(tensor).all()) if isinstance(tensor, torch.Tensor) else bool(
        np.isfinite(np.asarray(tensor)).all()
    )
    if not ok:
        raise LiveBandError(f"{name}: contains NaN or inf")
