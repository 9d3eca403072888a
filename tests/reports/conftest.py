"""Tiny evaluated systems built inline, offered as fixtures (tests run with importlib mode)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liveband.reports.evidence import SystemEvidence


def _make_system(segments: dict[int, dict[str, np.ndarray]], embeddings: dict | None = None) -> SystemEvidence:
    """``{segment: {column: per-example values}}`` -> SystemEvidence with example ids 0..n-1."""
    rows = []
    for segment, columns in segments.items():
        n = len(next(iter(columns.values())))
        for i in range(n):
            rows.append({"example": i, "segment": segment, "inst_class": "Bass",
                         **{c: float(v[i]) for c, v in columns.items()}})
    return SystemEvidence(pd.DataFrame(rows), embeddings or {})


def _make_embeddings(rng, n: int, shift: float, segments=(0, 1), dim: int = 6, frames: int = 5,
                    key: str = "FAD-toy") -> dict:
    """``{key}/seg{k}`` frames and offsets for ``n`` examples, shifted by ``shift``."""
    out = {}
    for k in segments:
        out[f"{key}/seg{k}"] = (rng.normal(size=(n * frames, dim)) + shift).astype(np.float32)
        out[f"{key}/seg{k}/offsets"] = np.arange(0, n * frames + 1, frames)
    return out


@pytest.fixture
def make_system():
    return _make_system


@pytest.fixture
def make_embeddings():
    return _make_embeddings
