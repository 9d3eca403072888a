"""Self-describing checkpoints: weights, optimizer states, config, step, RNG; atomic on disk.

Saved with ``torch.save`` (every tensor on the CPU) to a temporary file that is renamed into place, and loaded with
``weights_only=True`` so a checkpoint can never execute code. Only plain containers,
tensors and numbers are stored (configs as dicts). Every checkpoint carries the SHA-256 of
its content (``sha256``: tensors' bytes, dtypes and shapes, and every other value), checked
on load: a flipped bit fails with a one-line error. Files from before the checksum load
with a warning.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from liveband.errors import LiveBandError
from liveband.utils.atomic import atomic_path
from liveband.utils.device import to_cpu

log = logging.getLogger("liveband.checkpoint")
CHECKSUM_KEY = "sha256"


def rng_state() -> dict[str, Any]:
    """The process RNG states (torch CPU, numpy, python) as weights-only-safe tensors."""
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "python": torch.tensor(random.getstate()[1], dtype=torch.int64),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    keys = state["numpy_keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, state["numpy_pos"], 0, 0.0))
    py = tuple(int(x) for x in state["python"].tolist())
    random.setstate((3, py, None))


def _feed(digest, obj: Any) -> None:
    """Hash ``obj`` canonically: type tags, lengths, sorted dict keys, tensor dtype/shape/bytes."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous().reshape(-1)
        digest.update(f"T{t.dtype}{tuple(obj.shape)}".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, dict):
        digest.update(f"D{len(obj)}".encode())
        for key in sorted(obj, key=repr):
            _feed(digest, key)
            _feed(digest, obj[key])
    elif isinstance(obj, (list, tuple)):
        digest.update(f"{type(obj).__name__[0]}{len(obj)}".encode())
        for item in obj:
            _feed(digest, item)
    else:
        text = repr(obj).encode()
        digest.update(f"{type(obj).__name__}:{len(text)}:".encode() + text)


def content_checksum(payload: dict[str, Any]) -> str:
    """SHA-256 of everything in ``payload`` but its own checksum field."""
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in payload.items() if k != CHECKSUM_KEY})
    return digest.hexdigest()


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write ``payload`` (must include 'kind', 'config' and 'step') atomically, with its checksum.
    Tensors are stored on the CPU, whatever device trained them, so the file loads anywhere."""
    for key in ("kind", "config", "step"):
        if key not in payload:
            raise ValueError(f"checkpoint payload lacks '{key}'")
    payload = to_cpu(payload)
    payload = {**payload, CHECKSUM_KEY: content_checksum(payload)}
    with atomic_path(path, suffix=".tmp") as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; one-line error if missing, corrupt or of another kind."""
    path = Path(path)
    if not path.is_file():
        raise LiveBandError(f"{path}: checkpoint not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for truncated/corrupt files
        raise LiveBandError(f"{path}: not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or "kind" not in payload:
        raise LiveBandError(f"{path}: not a liveband checkpoint (no 'kind' field)")
    if CHECKSUM_KEY not in payload:
        log.warning("%s: no weights checksum (written before liveband stored one); loaded unverified", path)
    elif payload[CHECKSUM_KEY] != content_checksum(payload):
        raise LiveBandError(f"{path}: weights checksum mismatch (the file is corrupt or was altered)")
    if kind is not None and payload["kind"] != kind:
        raise LiveBandError(f"{path}: checkpoint kind is '{payload['kind']}', expected '{kind}'")
    return payload
