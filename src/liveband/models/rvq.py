"""Residual vector quantiser over autoencoder latent frames: the token space of the SMG baseline.

The baseline must predict discrete tokens, yet share LiveBand's decoder; so its tokens are
an RVQ of the very latents LiveBand generates. Level k quantises what levels < k left over,
so decoding the first k codes gives a coarser reconstruction of the same frame.
Codebooks are buffers trained by k-means, then by exponential moving averages (EMA) with
restarts of dead codes, never by gradients. Tensors are ``(B, T, D)`` latents and
``(B, T, K)`` codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from liveband.errors import LiveBandError


@dataclass(frozen=True)
class RVQConfig:
    latent_dim: int  # D: channels of one latent frame
    n_codebooks: int = 4  # K: residual levels, coarse to fine
    codebook_size: int = 256  # V: codes per level
    decay: float = 0.99  # EMA decay of code counts and sums (higher = slower codebook updates)
    epsilon: float = 1e-5  # Laplace smoothing of EMA counts, avoids dividing by zero
    dead_code_threshold: float = 1.0  # EMA count under which a code is restarted from data
    kmeans_iters: int = 20  # Lloyd iterations per level in init_from_data

    def __post_init__(self) -> None:
        for key in ("latent_dim", "n_codebooks", "codebook_size"):
            if getattr(self, key) < 1:
                raise LiveBandError(f"rvq.{key}: must be >= 1, got {getattr(self, key)}")
        if not 0.0 <= self.decay < 1.0:
            raise LiveBandError(f"rvq.decay: must be in [0, 1), got {self.decay}")
        if self.kmeans_iters < 0 or self.epsilon <= 0 or self.dead_code_threshold < 0:
            raise LiveBandError("rvq: kmeans_iters, epsilon, dead_code_threshold must be >= 0")


def nearest_code(x: torch.Tensor, codebook: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """Index of the nearest codebook row (squared L2) for each row of x: (N, D), (V, D) -> (N,)."""
    code_norms = codebook.pow(2).sum(-1)  # (V,)
    out = []
    for rows in x.split(chunk):  # bounded memory: chunk x V distances at a time
        dist = code_norms - 2.0 * rows @ codebook.T  # (n, V), |x|^2 dropped (same per row)
        out.append(dist.argmin(-1))
    return torch.cat(out) if out else x.new_zeros(0, dtype=torch.long)


def _random_rows(x: torch.Tensor, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """n rows of x drawn at random, without replacement when x has enough rows: (N, D) -> (n, D)."""
    if x.shape[0] >= n:
        idx = torch.randperm(x.shape[0], generator=generator, device="cpu")[:n]
    else:
        idx = torch.randint(x.shape[0], (n,), generator=generator, device="cpu")
    return x[idx.to(x.device)]


def kmeans(
    x: torch.Tensor, n_clusters: int, iters: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means seeded with random data rows: (N, D) -> centroids (V, D), counts (V,).

    An empty cluster is re-seeded with a random data row, so every code starts on the data.
    """
    centroids = _random_rows(x, n_clusters, generator).clone()
    for _ in range(iters):
        assign = nearest_code(x, centroids)  # (N,)
        counts = torch.bincount(assign, minlength=n_clusters).to(x.dtype)  # (V,)
        sums = torch.zeros_like(centroids).index_add_(0, assign, x)  # (V, D)
        empty = counts == 0
        centroids = sums / counts.clamp(min=1.0)[:, None]
        if empty.any():
            centroids[empty] = _random_rows(x, int(empty.sum()), generator)
    counts = torch.bincount(nearest_code(x, centroids), minlength=n_clusters).to(x.dtype)
    return centroids, counts


class ResidualVQ(nn.Module):
    """K-level residual VQ with k-means init, EMA updates in train mode and dead-code restarts."""

    def __init__(self, config: RVQConfig):
        super().__init__()
        self.config = config
        k, v, d = config.n_codebooks, config.codebook_size, config.latent_dim
        # Until init_from_data runs, codes are random Gaussian vectors with a count of one.
        codebooks = torch.randn(k, v, d)
        self.register_buffer("codebooks", codebooks)  # (K, V, D)
        self.register_buffer("ema_count", torch.ones(k, v))  # (K, V) EMA of code usage
        self.register_buffer("ema_sum", codebooks.clone())  # (K, V, D) EMA of assigned vectors
        self.register_buffer("initialised", torch.tensor(False))  # set by init_from_data
        self.generator: torch.Generator | None = None  # optional RNG for dead-code restarts

    # ---------------------------------------------------------------- checks and shapes
    def _frames(self, latents: torch.Tensor, name: str = "latents") -> torch.Tensor:
        """Flatten (..., D) latents into frames (N, D), checking D."""
        if latents.shape[-1] != self.config.latent_dim:
            raise LiveBandError(
                f"{name}: last dim must be latent_dim={self.config.latent_dim}, "
                f"got shape {tuple(latents.shape)}"
            )
        return latents.reshape(-1, self.config.latent_dim).to(self.codebooks.dtype)

    # ---------------------------------------------------------------- initialisation
    @torch.no_grad()
    def init_from_data(
        self, latents: torch.Tensor, generator: torch.Generator | None = None
    ) -> None:
        """Fit each level by k-means on the residual the previous levels leave: (..., D)."""
        residual = self._frames(latents).clone()  # (N, D)
        for level in range(self.config.n_codebooks):
            centroids, counts = kmeans(
                residual, self.config.codebook_size, self.config.kmeans_iters, generator
            )
            self.codebooks[level] = centroids
            self.ema_count[level] = counts
            self.ema_sum[level] = centroids * counts[:, None]
            residual -= centroids[nearest_code(residual, centroids)]
        self.initialised.fill_(True)

    # ---------------------------------------------------------------- encode / decode
    @torch.no_grad()
    def encode(self, latents: torch.Tensor, n_codebooks: int | None = None) -> torch.Tensor:
        """Greedy residual codes: latents (B, T, D) -> codes (B, T, k) long, k = n_codebooks."""
        n = self._levels(n_codebooks)
        residual = self._frames(latents).clone()  # (N, D)
        codes = []
        for level in range(n):
            idx = nearest_code(residual, self.codebooks[level])  # (N,)
            residual -= self.codebooks[level, idx]
            codes.append(idx)
        return torch.stack(codes, -1).reshape(*latents.shape[:-1], n)

    def decode(self, codes: torch.Tensor, n_codebooks: int | None = None) -> torch.Tensor:
        """Sum of the first n_codebooks levels' vectors: codes (B, T, k) -> latents (B, T, D)."""
        n = self._levels(n_codebooks if n_codebooks is not None else codes.shape[-1])
        if codes.shape[-1] < n:
            raise LiveBandError(f"codes: has {codes.shape[-1]} levels, asked to decode {n}")
        if codes.numel() and (codes.min() < 0 or codes.max() >= self.config.codebook_size):
            raise LiveBandError(f"codes: values must lie in [0, {self.config.codebook_size})")
        out = codes.new_zeros(*codes.shape[:-1], self.config.latent_dim, dtype=self.codebooks.dtype)
        for level in range(n):
            out = out + self.codebooks[level][codes[..., level]]  # (B, T, D)
        return out

    def _levels(self, n_codebooks: int | None) -> int:
        n = self.config.n_codebooks if n_codebooks is None else int(n_codebooks)
        if not 1 <= n <= self.config.n_codebooks:
            raise LiveBandError(f"n_codebooks: must be in [1, {self.config.n_codebooks}], got {n}")
        return n

    # ---------------------------------------------------------------- training
    def forward(self, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Quantise (B, T, D) -> quantised (B, T, D) straight-through, codes (B, T, K), commit loss.

        In train mode each level's codebook then takes one EMA step towards the residuals it
        was assigned (codes and output use the codebooks from before that step).
        """
        frames = self._frames(latents)  # (N, D)
        residual = frames.detach().clone()
        quantised = torch.zeros_like(residual)
        codes = []
        for level in range(self.config.n_codebooks):
            idx = nearest_code(residual, self.codebooks[level])  # (N,)
            chosen = self.codebooks[level, idx].clone()  # (N, D), before the EMA step
            if self.training:
                self._ema_step(level, residual, idx)
            residual -= chosen
            quantised += chosen
            codes.append(idx)
        commit_loss = F.mse_loss(frames, quantised)
        out = frames + (quantised - frames).detach()  # straight-through estimator
        codes_t = torch.stack(codes, -1).reshape(*latents.shape[:-1], self.config.n_codebooks)
        return out.reshape(latents.shape).to(latents.dtype), codes_t, commit_loss

    @torch.no_grad()
    def _ema_step(self, level: int, residual: torch.Tensor, idx: torch.Tensor) -> None:
        """One EMA update of a level's counts and sums, then restart codes that fell out of use."""
        cfg = self.config
        counts = torch.bincount(idx, minlength=cfg.codebook_size).to(residual.dtype)  # (V,)
        sums = torch.zeros_like(self.ema_sum[level]).index_add_(0, idx, residual)  # (V, D)
        self.ema_count[level].mul_(cfg.decay).add_(counts, alpha=1 - cfg.decay)
        self.ema_sum[level].mul_(cfg.decay).add_(sums, alpha=1 - cfg.decay)
        total = self.ema_count[level].sum()
        smoothed = (
            (self.ema_count[level] + cfg.epsilon)
            / (total + cfg.codebook_size * cfg.epsilon)
            * total
        )  # (V,) Laplace-smoothed counts
        self.codebooks[level] = self.ema_sum[level] / smoothed[:, None]
        dead = self.ema_count[level] < cfg.dead_code_threshold  # (V,)
        n_dead = int(dead.sum())
        if n_dead and residual.shape[0]:
            fresh = _random_rows(residual, n_dead, self.generator)  # (n_dead, D)
            self.codebooks[level, dead] = fresh
            self.ema_count[level, dead] = max(cfg.dead_code_threshold, 1.0)
            self.ema_sum[level, dead] = fresh * self.ema_count[level, dead][:, None]
