"""Per-example results and embeddings of the evaluated systems, and estimates with uncertainty.

Inputs (written by stage ``evaluate``, one pair per system):

- ``results/eval/<system>.examples.csv``: one row per (example, segment), columns ``example``
  (the same ids for every system, so contrasts are paired), ``segment`` (0 = first 10 s,
  1 = second), ``inst_class``, then one float column per per-example metric (NaN = not
  computable for that example).
- ``artifacts/eval/embeddings/<system>.npz``: ``"{E}/seg{k}"`` -> ``(total_frames, D)`` frames
  of embedder E in segment k, ``"{E}/seg{k}/offsets"`` -> ``(n_examples + 1,)`` row offsets,
  examples in ``example`` id order. With a fixed reference set per embedder these give the
  set-level columns (FAD, KAD, ...), see :class:`SetLevelColumn`.

An estimate is a linear contrast of (system, segment) terms, ``[(coefficient, system,
segment), ...]``: ``[(1, A, 0)]`` is A's first segment, ``[(1, A, 1), (-1, A, 0)]`` its drift,
``[(1, A, 0), (-1, B, 0)]`` A - B. Contrasts whose coefficients sum to 0 are tested against 0
(``liveband.stats.paired``); a single system's value only gets its interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from liveband.errors import LiveBandError
from liveband.stats.intervals import mean_interval, percentile_interval
from liveband.stats.paired import Comparison, bootstrap_comparison, paired_mean_test
from liveband.stats.set_level import (
    SetMetric,
    centre_replicates,
    example_draws,
    full_value,
    replicate_values,
    split_examples,
)

META_COLUMNS = ("example", "segment", "inst_class")
OPTIONAL_META = ("track", "mix_tracking_failed")  # descriptive columns that are not metrics
Term = tuple[float, str, int]  # (coefficient, system, segment)


@dataclass(frozen=True)
class BootstrapSettings:
    n_boot_mean: int = 2000  # resamples for the CI of a mean over examples
    n_boot_set: int = 200  # replicates of a set-level metric (each one recomputes the metric)
    seed: int = 0  # one seed: the same example draws serve every system (paired)
    level: float = 0.95  # confidence level of every interval
    mean_method: str = "bca"  # CI of a mean: bca | percentile
    p_method: str = "normal"  # set-level p-value: normal | centred (liveband.stats.paired)


@dataclass(frozen=True)
class SetLevelColumn:
    name: str  # the table key, e.g. "FAD-logmel"
    metric: SetMetric  # metric(reference, evaluated) -> float, optionally with .batch
    embedder: str  # embedding key E in the npz files and in the reference dict


def set_level_columns(metrics: Mapping[str, SetMetric], embedders: Iterable[str]) -> list[SetLevelColumn]:
    """One column per (metric, embedder), named ``"{metric}-{label}"``.

    ``label`` is the embedder key without a leading ``"<metric name>-"`` (so ``FAD-logmel``
    gives ``FAD-logmel`` and ``KAD-logmel``, and so does ``logmel``).
    """
    columns = []
    for embedder in embedders:
        label = embedder
        for name in metrics:
            if embedder.startswith(f"{name}-"):
                label = embedder[len(name) + 1:]
        columns += [SetLevelColumn(f"{name}-{label}", metric, embedder) for name, metric in metrics.items()]
    return columns


@dataclass(frozen=True)
class SystemEvidence:
    examples: pd.DataFrame  # one row per (example, segment); META_COLUMNS + metric columns
    embeddings: Mapping[str, np.ndarray] = field(default_factory=dict)  # npz content


def read_examples(path: str | Path) -> pd.DataFrame:
    """A ``<system>.examples.csv`` file, checked: meta columns present, (example, segment) unique."""
    path = Path(path)
    if not path.is_file():
        raise LiveBandError(f"{path}: per-example results not found")
    df = pd.read_csv(path)
    missing = [c for c in META_COLUMNS if c not in df.columns]
    if missing:
        raise LiveBandError(f"{path}: missing column(s) {missing}")
    if df.duplicated(["example", "segment"]).any():
        raise LiveBandError(f"{path}: repeated (example, segment) rows")
    metrics = [c for c in df.columns if c not in META_COLUMNS + OPTIONAL_META]
    df[metrics] = df[metrics].apply(pd.to_numeric, errors="coerce")
    return df


def read_embeddings(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of a ``<system>.npz`` embedding file."""
    path = Path(path)
    if not path.is_file():
        raise LiveBandError(f"{path}: embeddings not found")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def load_system(eval_dir: str | Path, embeddings_dir: str | Path | None, system: str) -> SystemEvidence:
    """One system's per-example CSV and (if ``embeddings_dir`` is given) its embeddings."""
    examples = read_examples(Path(eval_dir) / f"{system}.examples.csv")
    embeddings = read_embeddings(Path(embeddings_dir) / f"{system}.npz") if embeddings_dir else {}
    return SystemEvidence(examples, embeddings)


class MissingEvidence(Exception):
    """A contrast cannot be estimated (system, segment or column absent); ``str()`` says why."""


class Evidence:
    """Every system's evidence plus the set-level setup; estimates are cached per input."""

    def __init__(self, systems: Mapping[str, SystemEvidence], reference: Mapping[str, np.ndarray] | None = None,
                 set_columns: Sequence[SetLevelColumn] = (), settings: BootstrapSettings = BootstrapSettings()):
        self.systems = dict(systems)
        self.reference = dict(reference or {})
        self.set_columns = {c.name: c for c in set_columns}
        self.settings = settings
        self._replicates: dict[tuple[str, str, int], tuple[float, np.ndarray]] = {}
        self._points: dict[tuple[str, str, int], float] = {}
        self._draws: dict[int, np.ndarray] = {}
        self._segments: dict[tuple[str, int], pd.DataFrame] = {}

    def columns(self) -> list[str]:
        """Set-level columns, then per-example ones (beat alignment first), first-seen order."""
        seen: list[str] = list(self.set_columns)
        for system in self.systems.values():
            seen += [c for c in system.examples.columns if c not in META_COLUMNS + OPTIONAL_META and c not in seen]
        group = lambda c: 0 if c in self.set_columns else 1 if c.startswith("BA") else 2  # noqa: E731
        return sorted(seen, key=lambda c: (group(c), seen.index(c)))

    def estimate(self, column: str, terms: Sequence[Term]) -> Comparison:
        """The contrast's estimate, CI and (if its coefficients sum to 0) test; see the module doc."""
        tested = abs(sum(coef for coef, _, _ in terms)) < 1e-12
        if column in self.set_columns:
            return self._set_level(column, terms, tested)
        return self._per_example(column, terms, tested)

    def point(self, column: str, system: str, segment: int) -> float:
        """One system's value on one segment (no interval): mean over examples or set-level value."""
        if column not in self.set_columns:
            return float(np.nanmean(self._example_values(column, system, segment)))
        key = (column, system, segment)
        if key in self._replicates:
            return self._replicates[key][0]
        if key not in self._points:
            spec = self.set_columns[column]
            self._points[key] = full_value(spec.metric, self._reference(spec), self._examples(spec, system, segment))
        return self._points[key]

    # ----- per-example columns

    def _example_values(self, column: str, system: str, segment: int) -> pd.Series:
        key = (system, segment)
        if key not in self._segments:
            df = self._system(system).examples
            self._segments[key] = df[df["segment"] == segment].set_index("example")
        rows = self._segments[key]
        if column not in rows.columns:
            raise MissingEvidence(f"{system} has no column {column!r}")
        if rows.empty:
            raise MissingEvidence(f"{system} has no segment {segment}")
        return rows[column]

    def _per_example(self, column: str, terms: Sequence[Term], tested: bool) -> Comparison:
        sides = pd.concat([self._example_values(column, s, k) for _, s, k in terms], axis=1, join="inner").dropna()
        if sides.empty:
            raise MissingEvidence(f"no example has {column!r} on every side")
        values = sides.to_numpy() @ np.array([coef for coef, _, _ in terms], dtype=np.float64)
        st = self.settings
        if tested:
            return paired_mean_test(values, st.n_boot_mean, st.seed, st.level, st.mean_method)
        ci = mean_interval(values, st.n_boot_mean, st.seed, st.level, st.mean_method)
        return Comparison(ci.estimate, ci.low, ci.high, np.nan, "", np.nan, ci.n)

    # ----- set-level columns

    def _set_level(self, column: str, terms: Sequence[Term], tested: bool) -> Comparison:
        sides = [(coef, *self._set_replicates(column, s, k)) for coef, s, k in terms]
        sizes = sorted({n for _, _, _, n in sides})
        if len(sizes) > 1:
            raise MissingEvidence(f"{column}: the systems have different numbers of examples {sizes}; "
                                  "a paired bootstrap needs the same test items")
        point = sum(coef * value for coef, value, _, _ in sides)
        reps = centre_replicates(point, sum(coef * r for coef, _, r, _ in sides))
        st = self.settings
        if tested:
            return bootstrap_comparison(point, reps, sizes[0], st.level, st.p_method)
        ci = percentile_interval(point, reps, st.level, sizes[0])
        return Comparison(ci.estimate, ci.low, ci.high, np.nan, "", np.nan, sizes[0])

    def _set_replicates(self, column: str, system: str, segment: int) -> tuple[float, np.ndarray, int]:
        spec = self.set_columns[column]
        examples = self._examples(spec, system, segment)
        key = (column, system, segment)
        if key not in self._replicates:
            draws = self._draws_for(len(examples))
            self._replicates[key] = replicate_values(spec.metric, self._reference(spec), examples, draws)
        value, reps = self._replicates[key]
        return value, reps, len(examples)

    def _draws_for(self, n: int) -> np.ndarray:
        if n not in self._draws:
            self._draws[n] = example_draws(n, self.settings.n_boot_set, self.settings.seed)
        return self._draws[n]

    def _examples(self, spec: SetLevelColumn, system: str, segment: int) -> list[np.ndarray]:
        emb = self._system(system).embeddings
        key = f"{spec.embedder}/seg{segment}"
        if key not in emb or f"{key}/offsets" not in emb:
            raise MissingEvidence(f"{system} has no embeddings {key!r}")
        return split_examples(emb[key], emb[f"{key}/offsets"], what=f"{system} {key}")

    def _reference(self, spec: SetLevelColumn) -> np.ndarray:
        if spec.embedder not in self.reference:
            raise MissingEvidence(f"no reference embeddings for {spec.embedder!r}")
        return self.reference[spec.embedder]

    def _system(self, system: str) -> SystemEvidence:
        if system not in self.systems:
            raise MissingEvidence(f"system {system} was not evaluated")
        return self.systems[system]
