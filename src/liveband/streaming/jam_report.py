"""What a live session reports: step-time percentiles in fixed memory, deadline misses, warnings.

``session_report`` turns a finished ``JamSession`` into the JSON report of ``liveband jam``;
``summary_line`` is the one line the CLI prints.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

MAX_LISTED_MISSES = 100
LATE_POLICY = ("late block replaced by the last played block mirrored in time under a {fade} ms "
               "raised-cosine fade-out, then silence; {fade} ms fade-in on the next on-time block; "
               "the model still runs every frame")


class StepHistogram:
    """Step times in fixed memory: count, mean, max and log-spaced bins (~1.2 % wide) for quantiles."""

    def __init__(self, low: float = 1e-6, high: float = 100.0, per_decade: int = 200):
        self.low, self.per_decade = low, per_decade
        self.bins = np.zeros(int(math.ceil(math.log10(high / low) * per_decade)) + 1, np.int64)
        self.count, self.total, self.max = 0, 0.0, 0.0

    def add(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        i = 0 if seconds <= self.low else int(math.log10(seconds / self.low) * self.per_decade) + 1
        self.bins[min(i, len(self.bins) - 1)] += 1
        self.count += 1
        self.total += seconds
        self.max = max(self.max, seconds)

    def quantile(self, q: float) -> float:
        """The q-quantile (seconds), to the bin's resolution; 0 for bin 0 (at or below ``low``)."""
        if not self.count:
            return 0.0
        i = int(np.searchsorted(np.cumsum(self.bins), q * self.count, side="left"))
        if i == 0:
            return 0.0
        centre = self.low * 10 ** ((i - 0.5) / self.per_decade)
        return min(centre, self.max)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


@dataclasses.dataclass
class Miss:
    frame: int
    late_ms: float   # finish time minus due time
    step_ms: float   # compute time of the frame itself


def tensor_bytes(obj, depth: int = 0) -> int:
    """Bytes held by the tensors and arrays inside a (nested) streaming state object."""
    if isinstance(obj, torch.Tensor):
        return obj.untyped_storage().nbytes()  # a view keeps its whole buffer alive
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if depth > 6 or obj is None or isinstance(obj, (int, float, str, bool)):
        return 0
    if isinstance(obj, (list, tuple)):
        return sum(tensor_bytes(x, depth + 1) for x in obj)
    if isinstance(obj, dict):
        return sum(tensor_bytes(x, depth + 1) for x in obj.values())
    if isinstance(obj, torch.nn.Module):
        return 0  # weights, not stream state
    fields = getattr(obj, "__dict__", None)
    return sum(tensor_bytes(x, depth + 1) for x in fields.values()) if fields else 0


def session_report(session) -> dict:
    """The report of a finished ``JamSession`` (times in ms)."""
    ms = 1e3
    steps = session.steps
    mean = steps.mean
    return {
        "frames": session.frames,
        "misses": session.misses,
        "miss_rate": round(session.misses / session.frames, 6) if session.frames else 0.0,
        "budget_ms": round(session.budget * ms, 3),
        "frame_ms": round(session.frame_seconds * ms, 3),
        "step_ms": {"mean": round(mean * ms, 3), "p50": round(steps.quantile(0.5) * ms, 3),
                    "p95": round(steps.quantile(0.95) * ms, 3), "p99": round(steps.quantile(0.99) * ms, 3),
                    "max": round(steps.max * ms, 3)},
        "real_time_factor": round(session.frame_seconds / mean, 2) if mean > 0 else None,
        "max_late_ms": round(session.max_late * ms, 3),
        "late_frames": [dataclasses.asdict(m) for m in session.listed_misses],
        "late_policy": LATE_POLICY.format(fade=session.fade_ms),
        "tau_frames": session.acc.tau,
        "hop": session.hop,
        "sample_rate": session.sample_rate,
        "audio_seconds": round(session.input_samples / session.sample_rate, 3),
        "wall_seconds": round(getattr(session, "wall_seconds", 0.0), 3),
        "clock": getattr(session.clock, "name", type(session.clock).__name__),
        "interrupted": session.interrupted,
        "input_overflows": getattr(session.source, "overflows", 0),
        "output_underruns": getattr(session.sink, "underruns", 0),
        "notes": list(getattr(session.source, "notes", [])) + list(getattr(session.sink, "notes", [])),
        "warnings": session_warnings(session.frames, session.misses, session.sink),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }


def session_warnings(frames: int, misses: int, sink) -> list[str]:
    """What a user should not miss: every frame late (the output is only concealment), and
    the file sink's level warnings (near-silent, clipped)."""
    found = []
    if frames and misses == frames:
        found.append(f"every one of the {frames} frames missed its deadline, so the output is "
                     "silence (see --budget-ms, --threads, or a larger tau)")
    return found + list(getattr(sink, "warnings", []))


def summary_line(report: dict) -> str:
    s = report["step_ms"]
    return (f"jam: {report['frames']} frames ({report['audio_seconds']:.1f} s), {report['misses']} deadline "
            f"misses; step p50 {s['p50']:.2f} ms, p99 {s['p99']:.2f} ms, max {s['max']:.2f} ms; "
            f"budget {report['budget_ms']:.1f} ms; RTF {report['real_time_factor']}"
            + (" (interrupted)" if report["interrupted"] else ""))
