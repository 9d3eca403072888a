"""LiveBand: real-time accompaniment generation in the latent space of a causal autoencoder.

The Python API (see README.md, "Python API")::

    import liveband
    bundle = liveband.load_bundle("artifacts/gan/tau01/generator.pt")
    liveband.accompany_file(bundle, "song.wav", "Bass", "bass.wav", normalize_dbfs=-1)
    out, seconds = liveband.accompany_array(bundle, mix, "Bass")    # (C, T) at the bundle's rate
    acc = liveband.Accompanist(bundle, "Bass"); block = acc.push(chunk)  # (1, C, n) torch chunks

The names load lazily (torch is imported on first use), so ``import liveband`` stays cheap.
"""

import os

# OpenMP threads that spin while waiting make every torch op crawl when the machine is shared
# (measured: an autoencoder training step at 0.5 s with passive waits, 5-12 s with spinning,
# on 2 cores with one other busy process). Set before torch loads; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

# public name -> the module that defines it
_API = {
    "load_bundle": "liveband.builders",
    "describe_bundle": "liveband.builders",
    "AccompanimentBundle": "liveband.builders",
    "accompany_array": "liveband.streaming.files",
    "accompany_file": "liveband.streaming.files",
    "AccompanimentResult": "liveband.streaming.files",
    "Accompanist": "liveband.streaming.accompanist",
    "parse_instrument": "liveband.data.classes",
    "LiveBandError": "liveband.errors",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'liveband' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
