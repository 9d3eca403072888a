"""Read third-party weight files (VGGish, LAION-CLAP, COCOLA) from local paths, safely.

A plain ``torch.load(weights_only=True)`` is tried first. Training checkpoints of other
projects (Lightning ``.ckpt`` files, optimizer states, hyper-parameter objects) name classes
we do not import; for those a second pass resolves only torch's weights-only allowlist and
turns every other class into an inert placeholder, so no code named by the file can run.
Errors are one line and start with the param key that holds the path.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from types import ModuleType

import torch

from liveband.errors import LiveBandError


class _Placeholder(dict):
    """Inert stand-in for a class a foreign checkpoint names but we do not import."""

    def __new__(cls, *args, **kwargs):
        return dict.__new__(cls)

    def __init__(self, *args, **kwargs):
        super().__init__()

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass


def _placeholder_pickle_module() -> ModuleType:
    from torch import _weights_only_unpickler

    allowed = _weights_only_unpickler._get_allowed_globals()

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            target = allowed.get(f"{module}.{name}")
            if target is not None:
                return target
            return type(name, (_Placeholder,), {"__module__": "liveband.placeholder"})

    module = ModuleType("liveband_placeholder_pickle")
    module.Unpickler = Unpickler
    module.load = pickle.load
    return module


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
    except Exception:
        try:
            payload = torch.load(path, map_location="cpu", weights_only=False,
                                 pickle_module=_placeholder_pickle_module())
        except Exception as exc:
            raise LiveBandError(f"{key}: {path} is not a readable torch checkpoint ({type(exc).__name__})") from None
    state = payload.get("state_dict", payload) if isinstance(payload, dict) else None
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise LiveBandError(f"{key}: {path} holds no state_dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}
