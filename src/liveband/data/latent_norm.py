"""Per-channel latent normalisation (paper 4.2): zero mean, unit variance over the training
split. One function normalises and one inverts; every stage uses these two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from liveband.errors import LiveBandError
from liveband.utils.atomic import write_json


@dataclass(frozen=True)
class LatentStats:
    mean: torch.Tensor  # (D,)
    std: torch.Tensor   # (D,)

    def normalise(self, latents: torch.Tensor, channel_dim: int = 1) -> torch.Tensor:
        """(B, D, T) with channel_dim=1, or (B, T, D) with channel_dim=-1."""
        return (latents - self._shape(self.mean, latents, channel_dim)) / self._shape(self.std, latents, channel_dim)

    def denormalise(self, latents: torch.Tensor, channel_dim: int = 1) -> torch.Tensor:
        return latents * self._shape(self.std, latents, channel_dim) + self._shape(self.mean, latents, channel_dim)

    @staticmethod
    def _shape(v: torch.Tensor, like: torch.Tensor, channel_dim: int) -> torch.Tensor:
        shape = [1] * like.dim()
        shape[channel_dim] = -1
        return v.to(device=like.device, dtype=like.dtype).reshape(shape)

    def save(self, path: str | Path, **extra) -> None:
        write_json(path, {"mean": self.mean.tolist(), "std": self.std.tolist(), **extra})

    @classmethod
    def load(cls, path: str | Path) -> LatentStats:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            stats = cls(torch.tensor(data["mean"], dtype=torch.float32), torch.tensor(data["std"], dtype=torch.float32))
        except FileNotFoundError:
            raise LiveBandError(f"{path}: normalisation stats not found (run the norm_stats stage)") from None
        except (ValueError, KeyError, TypeError):
            raise LiveBandError(f"{path}: malformed normalisation stats") from None
        if stats.mean.shape != stats.std.shape or not bool((stats.std > 0).all()):
            raise LiveBandError(f"{path}: std must be positive and match mean's shape")
        return stats


class RunningMoments:
    """Per-channel mean and variance accumulated over (D, T) chunks (Chan's parallel update)."""

    def __init__(self, dim: int):
        self.n = 0
        self.mean = torch.zeros(dim, dtype=torch.float64)
        self.m2 = torch.zeros(dim, dtype=torch.float64)

    def update(self, chunk: torch.Tensor) -> None:
        x = chunk.to(torch.float64)  # (D, T)
        n_b = x.shape[1]
        if n_b == 0:
            return
        mean_b = x.mean(dim=1)
        m2_b = ((x - mean_b[:, None]) ** 2).sum(dim=1)
        delta = mean_b - self.mean
        total = self.n + n_b
        self.mean = self.mean + delta * n_b / total
        self.m2 = self.m2 + m2_b + delta**2 * self.n * n_b / total
        self.n = total

    def stats(self, eps: float = 1e-5) -> LatentStats:
        if self.n < 2:
            raise LiveBandError("norm_stats: fewer than two training latent frames")
        std = (self.m2 / (self.n - 1)).sqrt().clamp_min(eps)
        return LatentStats(self.mean.float(), std.float())
