"""What each evaluated system plays for an example: real stems, the codec ceiling, a streamed
model (LiveBand or the baseline, through the same path as ``liveband accompany``), or the
bidirectional bound (offline, in windows of its training length)."""

from __future__ import annotations

import numpy as np
import torch

import liveband.models.generator  # noqa: F401  (load_bundle builds these: they are this stage's deps)
import liveband.models.rvq  # noqa: F401
import liveband.models.smg  # noqa: F401
from liveband.builders import load_autoencoder, load_bundle
from liveband.streaming.files import accompany_array

KINDS = ("ground_truth", "codec", "mismatched", "liveband", "smg")


class System:
    """``play(mix, target, partner_target, instrument, seed) -> (C, T)`` accompaniment."""

    streaming = True

    def __init__(self, kind: str, checkpoint: str):
        self.kind = kind
        self.generation_seconds = 0.0
        self.audio_seconds = 0.0
        if kind in ("liveband", "smg"):
            self.bundle = load_bundle(checkpoint)
            self.streaming = not (kind == "liveband" and not self.bundle.model.cfg.causal)
        elif kind == "codec":
            self.autoencoder = load_autoencoder(checkpoint)

    @torch.inference_mode()
    def play(self, mix: np.ndarray, target: np.ndarray, partner_target: np.ndarray, instrument: int,
             seed: int, sample_rate: int) -> np.ndarray:
        if self.kind == "ground_truth":
            return target
        if self.kind == "mismatched":  # a real stem of another song against this mix
            return partner_target
        if self.kind == "codec":
            audio = self.autoencoder.decode(self.autoencoder.encode(torch.from_numpy(target)[None]))[0].numpy()
            return np.pad(audio, ((0, 0), (0, target.shape[-1] - audio.shape[-1])))
        if not self.streaming:
            return self._bidirectional(mix, instrument, seed)
        out, seconds = accompany_array(self.bundle, mix, instrument, seed=seed, **self.bundle.extra.get("sampling", {}))
        self.generation_seconds += seconds
        self.audio_seconds += mix.shape[-1] / sample_rate
        return out

    def _bidirectional(self, mix: np.ndarray, instrument: int, seed: int) -> np.ndarray:
        """The offline upper bound: non-causal passes over windows of the training length."""
        b = self.bundle
        ae, gen, n = b.autoencoder, b.model, b.model.cfg.context_frames
        latents = ae.encode(torch.from_numpy(mix)[None]).transpose(1, 2)          # (1, F, D)
        x = b.stats.normalise(latents, channel_dim=-1)
        g = torch.Generator().manual_seed(seed)
        cls = torch.tensor([instrument])
        outs = [gen(x[:, i:i + n], gen.sample_noise(1, x[:, i:i + n].shape[1], generator=g), cls)
                for i in range(0, x.shape[1], n)]
        out = b.stats.denormalise(torch.cat(outs, dim=1), channel_dim=-1).transpose(1, 2)
        audio = ae.decode(out)[0].numpy()
        return np.pad(audio, ((0, 0), (0, mix.shape[-1] - audio.shape[-1])))
