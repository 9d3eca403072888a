"""Pre-encoded training examples: one shard per split, plus random crops for training.

A shard holds the latents of every target stem and of every conditioning mix drawn for it
(concatenated along time, with offsets), each frame's level in dB (for the silence rule),
and the target's instrument class. An *example* is one mix with its target.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from liveband.data.sampler import valid_crop_starts
from liveband.errors import LiveBandError
from liveband.utils.checkpoint import load_checkpoint, save_checkpoint


def pack(chunks: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """[(D, F_i)] -> ((D, sum F_i), offsets (n+1,))."""
    offsets = torch.zeros(len(chunks) + 1, dtype=torch.long)
    offsets[1:] = torch.cumsum(torch.tensor([c.shape[-1] for c in chunks]), 0)
    return torch.cat(chunks, dim=-1), offsets


def save_shard(path: str | Path, split: str, targets: list[torch.Tensor], target_db: list[torch.Tensor],
               target_class: list[int], mixes: list[torch.Tensor], mix_db: list[torch.Tensor],
               mix_target: list[int], config: dict) -> None:
    t_lat, t_off = pack(targets)
    m_lat, m_off = pack(mixes)
    save_checkpoint(path, {
        "kind": "latent_shard", "config": config, "step": 0, "split": split,
        "target_latents": t_lat, "target_offsets": t_off, "target_db": torch.cat(target_db),
        "target_class": torch.tensor(target_class, dtype=torch.long),
        "mix_latents": m_lat, "mix_offsets": m_off, "mix_db": torch.cat(mix_db),
        "mix_target": torch.tensor(mix_target, dtype=torch.long),
    })


@dataclass
class Example:
    target: torch.Tensor   # (D, F) target stem latents
    mix: torch.Tensor      # (D, F) conditioning mix latents
    instrument: int
    target_db: np.ndarray  # (F,)
    mix_db: np.ndarray     # (F,)


class LatentShard:
    """The examples of one split, with crops that respect anticipation and the silence rule."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        data = load_checkpoint(self.path, kind="latent_shard")
        self.split, self.config = data["split"], data["config"]
        self._d = data
        self.latent_dim = int(data["target_latents"].shape[0])
        if not torch.isfinite(data["target_latents"]).all() or not torch.isfinite(data["mix_latents"]).all():
            raise LiveBandError(f"{self.path}: latents contain NaN or inf")

    def __len__(self) -> int:
        return len(self._d["mix_target"])

    def example(self, i: int) -> Example:
        d = self._d
        t = int(d["mix_target"][i])
        ts, te = int(d["target_offsets"][t]), int(d["target_offsets"][t + 1])
        ms, me = int(d["mix_offsets"][i]), int(d["mix_offsets"][i + 1])
        n = min(te - ts, me - ms)
        return Example(d["target_latents"][:, ts:ts + n], d["mix_latents"][:, ms:ms + n],
                       int(d["target_class"][t]), d["target_db"][ts:ts + n].numpy(),
                       d["mix_db"][ms:ms + n].numpy())

    def target_latents(self) -> torch.Tensor:
        return self._d["target_latents"]

    def mix_latents(self) -> torch.Tensor:
        return self._d["mix_latents"]


class CropSampler:
    """Random aligned training windows of ``crop_frames + tau_frames`` latent frames.

    Mix and target come from the same time span, so the loop derives the generator's view
    (mix frames [0, T) -> target frames [tau, tau+T)) and the discriminator's (target
    [tau, tau+T) against the mix playing at the same time, [tau, tau+T)). Only windows where
    target and mix are each active for ``min_active_fraction`` of the window are drawn (paper
    5.1; public baseline's rule). With ``stats``, latents come out normalised.
    """

    def __init__(self, shard: LatentShard, crop_frames: int, tau_frames: int = 0,
                 silence_db: float = -60.0, min_active_fraction: float = 0.5, stats=None):
        self.shard, self.window = shard, crop_frames + tau_frames
        self.candidates: list[tuple[int, np.ndarray]] = []
        for i in range(len(shard)):
            ex = shard.example(i)
            starts = valid_crop_starts(ex.target_db, ex.mix_db, self.window, silence_db, min_active_fraction)
            if len(starts):
                self.candidates.append((i, starts))
        if not self.candidates:
            raise LiveBandError(f"{shard.path}: no example has an active window of {crop_frames} frames "
                                f"(+{tau_frames} anticipation)")
        self._examples = {}
        for i, _ in self.candidates:
            ex = shard.example(i)
            if stats is not None:
                ex.mix, ex.target = stats.normalise(ex.mix, channel_dim=0), stats.normalise(ex.target, channel_dim=0)
            self._examples[i] = ex

    def to(self, device: torch.device) -> CropSampler:
        """Keep the crops' latents on ``device`` (a GPU samples batches without host copies);
        the draws stay on the CPU ``generator``, so the windows are the same on any device."""
        for ex in self._examples.values():
            ex.mix, ex.target = ex.mix.to(device), ex.target.to(device)
        return self

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> mix (B, W, D), target (B, W, D) on the latents' device, instrument (B,) on the CPU;
        W = crop + tau, drawn with ``generator``."""
        picks = torch.randint(len(self.candidates), (batch,), generator=generator).tolist()
        mixes, targets, classes = [], [], []
        for p in picks:
            i, starts = self.candidates[p]
            s = int(starts[int(torch.randint(len(starts), (1,), generator=generator))])
            ex = self._examples[i]
            mixes.append(ex.mix[:, s:s + self.window].T)
            targets.append(ex.target[:, s:s + self.window].T)
            classes.append(ex.instrument)
        return torch.stack(mixes), torch.stack(targets), torch.tensor(classes, dtype=torch.long)
