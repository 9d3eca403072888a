"""Data-parallel training over ``torch.distributed`` ranks, launched by ``torchrun``.

Every rank holds the whole model, optimiser, EMA and AdaGP state (replicated, never split), so a
checkpoint is the same whatever the number of ranks and a run resumes on any number of them.
Each step, every rank draws the *global* batch from the one seeded data stream (crops, class
dropout, noise) and keeps its own contiguous slice; after each backward pass the gradients are
averaged over ranks with one ``all_reduce``, before clipping and the optimiser step. Losses are
batch means of per-sample terms, so N ranks x B/N samples give the gradient of one process with
B samples (up to float rounding), and the optimisers keep every replica equal.

Gradients are reduced by hand rather than through the ``DistributedDataParallel`` wrapper, as
R3GAN's and StyleGAN's training loops do: the discriminator's R1/R2 penalties differentiate D
twice (``create_graph``) and the generator step runs D with frozen parameters, neither of which
DDP's reducer hooks support; one explicit reduction serves the three training loops alike.

Without a launcher (``WORLD_SIZE`` unset or 1) :data:`SINGLE` is used: every method below is
the identity and no collective runs, so single-process training is bit for bit what it was.
Backends: NCCL on CUDA, gloo on the CPU. Rank 0 alone writes checkpoints, curves and outputs.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os

import torch
import torch.distributed as dist

from liveband.errors import LiveBandError

log = logging.getLogger("liveband.distributed")


@dataclasses.dataclass(frozen=True)
class Ranks:
    """This process's place in a data-parallel run (``rank`` of ``world``); collectives run on ``device``."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes checkpoints, curves, logs' outputs and artifacts."""
        return self.rank == 0

    def local(self, batch):
        """This rank's contiguous share of a global batch (a tensor, or a tuple/list of tensors
        with the batch first); the batch itself with one rank."""
        if self.world == 1:
            return batch
        if isinstance(batch, (tuple, list)):
            return type(batch)(self.local(item) for item in batch)
        size = batch.shape[0]
        if size % self.world:
            raise LiveBandError(f"batch_size: {size} does not split over {self.world} ranks "
                                "(use a multiple of the number of ranks)")
        share = size // self.world
        return batch[self.rank * share:(self.rank + 1) * share]

    def average_gradients(self, *modules: torch.nn.Module) -> None:
        """Replace each parameter gradient of ``modules`` by its mean over ranks (one all_reduce)."""
        if self.world == 1:
            return
        grads = [p.grad for module in modules for p in module.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world
        for grad, mean in zip(grads, flat.split([g.numel() for g in grads]), strict=True):
            grad.copy_(mean.view_as(grad))

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """A 0-dim (or any) tensor averaged over ranks; ``value`` itself with one rank."""
        if self.world == 1:
            return value
        total = value.detach().to(self.device, torch.float64).clone()
        dist.all_reduce(total)
        return (total / self.world).to(value.dtype)

    def mean_stats(self, stats: dict[str, float]) -> dict[str, float]:
        """A step's logged numbers averaged over ranks (one all_reduce); ``stats`` with one rank."""
        if self.world == 1:
            return stats
        values = self.mean(torch.tensor(list(stats.values()), dtype=torch.float64))
        return dict(zip(stats, values.tolist(), strict=True))

    def same_everywhere(self, *modules: torch.nn.Module) -> bool:
        """True when every rank holds bit-identical parameters and buffers in ``modules``."""
        return self.identical([t for m in modules for t in (*m.parameters(), *m.buffers())])

    def identical(self, tensors: list[torch.Tensor]) -> bool:
        """True when every rank holds the same values in ``tensors`` (same shapes on every rank)."""
        if self.world == 1:
            return True
        flat = torch.cat([t.detach().reshape(-1).double().to(self.device) for t in tensors])
        low, high = flat.clone(), flat.clone()
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        return bool(torch.equal(low, high))


SINGLE = Ranks()


def world_size() -> int:
    """Processes in this run, from the launcher's environment (``torchrun`` sets WORLD_SIZE); 1 without one."""
    value = os.environ.get("WORLD_SIZE", "1")
    try:
        return max(1, int(value))
    except ValueError:
        raise LiveBandError(f"WORLD_SIZE: not a number ({value!r})") from None


def launched_rank() -> int:
    """This process's rank as the launcher set it (RANK); 0 without a launcher."""
    return int(os.environ.get("RANK", "0")) if world_size() > 1 else 0


def join(device: torch.device) -> tuple[Ranks, torch.device]:
    """Join the process group ``torchrun`` describes (NCCL on CUDA, gloo on the CPU) and return
    this rank with its device (``cuda:LOCAL_RANK`` on CUDA). Without a launcher: (SINGLE, device)."""
    world = world_size()
    if world == 1:
        return SINGLE, device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        atexit.register(dist.destroy_process_group)
    if dist.get_world_size() != world:
        raise LiveBandError(f"WORLD_SIZE: {world}, but the process group has {dist.get_world_size()} ranks")
    ranks = Ranks(dist.get_rank(), world, device)
    log.info("data parallel: rank %d of %d on %s (%s)", ranks.rank, world, device, dist.get_backend())
    return ranks, device
