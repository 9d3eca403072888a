"""A resumable training run: what every training loop (autoencoder, GAN, baseline) shares.

The loop itself owns its models, optimizers and the maths of a step; ``TrainingRun`` owns
the bookkeeping around it: resuming from the last checkpoint (weights, optimizers, RNG,
extra state such as AdaGP, and the training curve up to that step), checkpointing
atomically every ``checkpoint_every`` steps, the curve log, a progress bar, and a NaN/inf
guard that stops with a one-line error while the last good checkpoint stays on disk.

The curve CSV is a declared pipeline output, so it is written only when the run completes
(an interrupted job must leave no output a workflow tool would flag as incomplete); until
then the curve travels inside the checkpoint, which lives outside the declared outputs.
Temporaries left beside the checkpoint by a killed save are removed on resume. In a
data-parallel run every rank keeps the same run, and only the main rank (``main=True``) writes.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import torch
from tqdm import tqdm

from liveband.errors import LiveBandError
from liveband.utils.atomic import remove_stale_temps, write_text
from liveband.utils.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state

log = logging.getLogger("liveband.training")


class Stateful(Protocol):
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict) -> Any: ...


class GeneratorState:
    """A ``torch.Generator`` (e.g. the data sampler's) as a Stateful."""

    def __init__(self, generator: torch.Generator):
        self.generator = generator

    def state_dict(self) -> dict:
        return {"state": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["state"])


def warmup_lr(step: int, base_lr: float, warmup_steps: int) -> float:
    """Constant learning rate after a linear warm-up (paper 4.7); the one schedule helper."""
    if warmup_steps <= 0:
        return base_lr
    return base_lr * min(1.0, (step + 1) / warmup_steps)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


class TrainingRun:
    def __init__(self, kind: str, config: dict, checkpoint_path: str | Path, curve_path: str | Path,
                 total_steps: int, checkpoint_every: int, desc: str | None = None,
                 stop_after: int | None = None, main: bool = True):
        self.kind, self.config = kind, config
        self.main = main  # the one process that writes the checkpoint, the curve and a progress bar
        self.checkpoint_path, self.curve_path = Path(checkpoint_path), Path(curve_path)
        self.total_steps, self.checkpoint_every = total_steps, max(1, checkpoint_every)
        self.desc = desc or kind
        self.stop_after = stop_after  # stop (as if interrupted) after this many steps in this process
        self.rows: list[dict] = []
        self.step = 0
        self._stateful: dict[str, Stateful] = {}
        self._t0 = time.perf_counter()
        self.resumed_from: int | None = None
        self.saved_step: int | None = None  # step of the checkpoint on disk, if any
        self._prior_seconds = 0.0  # training time of earlier processes, from the checkpoint
        self._loop_seconds = 0.0   # time this process spent in steps()

    def attach(self, **objects: Stateful) -> TrainingRun:
        """Register models, optimizers and other state to checkpoint and restore."""
        self._stateful.update(objects)
        return self

    # --- resume / checkpoint -------------------------------------------------------------
    def resume(self) -> int:
        """Load the last checkpoint if there is one; returns the step to continue from."""
        for stale in remove_stale_temps(self.checkpoint_path, suffix=".tmp") if self.main else ():
            log.info("removed %s, left by an interrupted save", stale)
        if not self.checkpoint_path.exists():
            return 0
        payload = load_checkpoint(self.checkpoint_path, kind=self.kind)
        if payload.get("config") != self.config:
            log.warning("%s was trained with other params: starting over", self.checkpoint_path)
            return 0
        for name, obj in self._stateful.items():
            if name not in payload["state"]:
                raise LiveBandError(f"{self.checkpoint_path}: lacks state '{name}'")
            obj.load_state_dict(payload["state"][name])
        set_rng_state(payload["rng"])
        self.step = int(payload["step"])
        self.rows = self._curve_from_tensor(payload.get("curve"))
        self.resumed_from = self.saved_step = self.step
        # checkpoints from before train_seconds was kept: the curve's last time stamp
        self._prior_seconds = float(payload.get("train_seconds",
                                                self.rows[-1].get("seconds", 0.0) if self.rows else 0.0))
        log.info("resumed %s from step %d (%s)", self.kind, self.step, self.checkpoint_path)
        return self.step

    def save(self) -> None:
        if self.main:  # the other ranks hold the same state
            payload = {
                "kind": self.kind, "config": self.config, "step": self.step, "rng": rng_state(),
                "state": self.state_dicts(),
                "curve": self._curve_as_tensor(), "train_seconds": self.train_seconds,
            }
            save_checkpoint(self.checkpoint_path, payload)
        self.saved_step = self.step

    def state_dicts(self) -> dict[str, dict]:
        """The attached state as a checkpoint holds it (in a data-parallel run, every rank's is the same)."""
        return {name: obj.state_dict() for name, obj in self._stateful.items()}

    def _columns(self) -> list[str]:
        keys: list[str] = []
        for row in self.rows:
            keys.extend(k for k in row if k not in keys)
        return keys

    def _curve_as_tensor(self) -> dict:
        """The curve travels inside the checkpoint: a tool may delete the CSV before a rerun."""
        columns = self._columns()
        values = torch.tensor([[row.get(k, math.nan) for k in columns] for row in self.rows],
                              dtype=torch.float64).reshape(len(self.rows), len(columns))
        return {"columns": columns, "values": values}

    @staticmethod
    def _curve_from_tensor(curve: dict | None) -> list[dict]:
        if not curve:
            return []
        return [{k: float(v) for k, v in zip(curve["columns"], row) if not math.isnan(float(v))}
                for row in curve["values"].tolist()]

    def _write_curve(self) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self._columns() or ["step"])
        writer.writeheader()
        writer.writerows(self.rows)
        write_text(self.curve_path, buf.getvalue())

    # --- the loop ------------------------------------------------------------------------
    def steps(self) -> Iterator[int]:
        """Yield step numbers from the resume point to ``total_steps``, checkpointing as it goes."""
        start, t0 = self.step, time.perf_counter()
        bar = tqdm(total=self.total_steps, initial=start, desc=self.desc, unit="step", mininterval=2.0,
                   disable=not self.main)
        self._bar = bar
        try:
            for step in range(start, self.total_steps):
                if self.stop_after is not None and step - start >= self.stop_after:
                    log.info("stopping after %d steps as asked (step %d)", self.stop_after, step)
                    return
                yield step
                self.step = step + 1
                self._loop_seconds = time.perf_counter() - t0
                bar.update(1)
                if self.step % self.checkpoint_every == 0 or self.step == self.total_steps:
                    self.save()
        finally:
            bar.close()
            if self.finished and self.main:  # also when resumed at the end: the CSV may have been removed
                self._write_curve()

    def record(self, step: int, stats: dict[str, float]) -> None:
        """Add a curve row; stops the run with a one-line error on NaN/inf."""
        bad = [k for k, v in stats.items() if not math.isfinite(float(v))]
        if bad:
            kept = (f"the checkpoint of step {self.saved_step} is kept at {self.checkpoint_path}"
                    if self.saved_step is not None else "no checkpoint of this run was written yet, so nothing is kept")
            raise LiveBandError(f"training diverged at step {step}: {bad[0]} is {stats[bad[0]]}; {kept}")
        row = {"step": float(step + 1), "seconds": round(time.perf_counter() - self._t0, 3)}
        row.update({k: float(v) for k, v in stats.items()})
        self.rows.append(row)
        if hasattr(self, "_bar"):
            self._bar.set_postfix({k: f"{float(v):.3g}" for k, v in list(stats.items())[:3]}, refresh=False)

    @property
    def train_seconds(self) -> float:
        """Wall time spent training, over every process of the run: a rerun of a finished run
        (a resume with nothing left to do) keeps the time recorded when it trained."""
        return round(self._prior_seconds + self._loop_seconds, 1)

    @property
    def finished(self) -> bool:
        return self.step >= self.total_steps
