"""Run a training function on N gloo ranks spawned from a test (torch.multiprocessing), CPU only.

``spawn(world, tmp, job, *args, **kwargs)`` starts ``world`` processes; each joins one process
group (a file rendezvous in ``tmp``), calls ``job(*args, compute=Compute(ranks=...), **kwargs)``
(a training function returning ``(model, run)``) and saves what that rank holds: the
returned model and every attached state (``run.state_dicts()``). Returns one dict per rank.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from liveband.training.compute import Compute
from liveband.training.distributed import Ranks


def _rank(rank: int, world: int, rendezvous: str, out: str, job, args, kwargs) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    try:
        ranks = Ranks(rank, world)
        model, run = job(*args, compute=Compute(ranks=ranks), **kwargs)
        same = ranks.same_everywhere(model)
        torch.save({"model": model.state_dict(), "state": run.state_dicts(), "step": run.step,
                    "same_everywhere": same, "rows": run.rows}, Path(out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def spawn(world: int, tmp: Path, job, *args, **kwargs) -> list[dict]:
    """Train with ``job`` on ``world`` gloo ranks; each rank's final state (see module doc)."""
    out = Path(tmp) / f"ranks-{uuid.uuid4().hex[:8]}"
    out.mkdir(parents=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    mp.spawn(_rank, args=(world, str(out / "rendezvous"), str(out), job, args, kwargs), nprocs=world, join=True)
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(world)]


def flat_tensors(state, prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor or number in a nested state dict, by dotted name (numbers as 0-dim tensors)."""
    if isinstance(state, torch.Tensor):
        return {prefix: state}
    if isinstance(state, (int, float)) and not isinstance(state, bool):
        return {prefix: torch.tensor(float(state), dtype=torch.float64)}
    found: dict[str, torch.Tensor] = {}
    if isinstance(state, dict):
        for key, value in state.items():
            found |= flat_tensors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(state, (list, tuple)):
        for i, value in enumerate(state):
            found |= flat_tensors(value, f"{prefix}.{i}")
    return found


def assert_close(a, b, atol: float = 1e-5, exact: bool = False, skip: tuple[str, ...] = ()) -> None:
    """Two nested states hold the same tensors (bitwise with ``exact``); names in ``skip`` are ignored."""
    fa, fb = flat_tensors(a), flat_tensors(b)
    assert fa.keys() == fb.keys()
    for name in fa:
        if any(s in name for s in skip):
            continue
        x, y = fa[name], fb[name]
        if exact:
            assert torch.equal(x, y), name
        elif x.is_floating_point():
            assert torch.allclose(x.double(), y.double(), rtol=0, atol=atol), (name, (x - y).abs().max())
        else:
            assert torch.equal(x, y), name
