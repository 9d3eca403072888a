"""Read third-party weight files (VGGish, LAION-CLAP, COCOLA) from local paths, safely.

Only ``torch.load(weights_only=True)`` is used, so no code named by a file can run. Training
checkpoints of other projects (Lightning ``.ckpt`` files whose metadata names foreign
classes) are refused with a one-line error pointing at the converter
``python -m liveband.metrics.convert_weights IN OUT`` (which extracts their tensors without
running code). Errors are one line and start with the param key that holds the path.
"""

from __future__ import annotations

from pathlib import Path

import torch

from liveband.errors import LiveBandError

CONVERTER = "python -m liveband.metrics.convert_weights"


def read_state_dict(path: str | Path | None, key: str, what: str) -> dict[str, torch.Tensor]:
    """The tensors of a local weights file (bare state_dict or ``{"state_dict": ...}``).

    ``key`` is the param that names the path (used in errors), ``what`` the backend's label.
    """
    if path is None or str(path).strip() == "":
        raise LiveBandError(f"{key}: not configured; {what} needs a local checkpoint file (nothing can be downloaded)")
    path = Path(path)
    if not path.is_file():
        raise LiveBandError(f"{key}: checkpoint not found at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a foreign class, a plain pickle, a corrupt file
        raise LiveBandError(f"{key}: {path} does not load as plain weights ({type(exc).__name__}); "
                            f"if it is another project's training checkpoint, convert it first: "
                            f"{CONVERTER} {path} OUT.pt") from None
    state = payload.get("state_dict", payload) if isinstance(payload, dict) else None
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise LiveBandError(f"{key}: {path} holds no state_dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}
