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
from liveband.evaluation.degradations import codec_roundtrip
from liveband.streaming.files import accompany_batch

KINDS = ("ground_truth", "codec", "mismatched", "liveband", "smg")


class System:
    """``play_all(mixes, targets, partner_targets, instruments, seeds, sr) -> [(C, T)]``: what the
    system plays against each example's mix.

    Streaming models run all examples side by side through one batched ``Accompanist`` (the
    path of ``liveband accompany``; each example keeps its own seed, so its output is the one
    ``liveband accompany`` would give it alone). Models compute on ``device``; audio stays on the CPU.
    """

    streaming = True

    def __init__(self, kind: str, checkpoint: str, device: torch.device | str = "cpu"):
        self.kind, self.device = kind, device
        self.generation_seconds = 0.0
        self.audio_seconds = 0.0
        if kind in ("liveband", "smg"):
            self.bundle = load_bundle(checkpoint)
            self.streaming = not (kind == "liveband" and not self.bundle.model.cfg.causal)
        elif kind == "codec":
            self.autoencoder = load_autoencoder(checkpoint).to(device)

    @torch.inference_mode()
    def play_all(self, mixes: list[np.ndarray], targets: list[np.ndarray], partner_targets: list[np.ndarray],
                 instruments: list[int], seeds: list[int], sample_rate: int) -> list[np.ndarray]:
        if self.kind == "ground_truth":
            return list(targets)
        if self.kind == "mismatched":  # a real stem of another song against this mix
            return list(partner_targets)
        if self.kind == "codec":
            return [codec_roundtrip(self.autoencoder, t, self.device) for t in targets]
        if not self.streaming:
            return [self._bidirectional(m, i, s) for m, i, s in zip(mixes, instruments, seeds)]
        out, seconds = accompany_batch(self.bundle, np.stack(mixes), list(instruments), list(seeds),
                                       device=self.device, **self.bundle.extra.get("sampling", {}))
        self.generation_seconds += seconds
        self.audio_seconds += sum(m.shape[-1] for m in mixes) / sample_rate
        return list(out)

    def _bidirectional(self, mix: np.ndarray, instrument: int, seed: int) -> np.ndarray:
        """The offline upper bound: non-causal passes over windows of the training length."""
        b = self.bundle
        ae, gen, n = b.autoencoder.to(self.device), b.model.to(self.device), b.model.cfg.context_frames
        latents = ae.encode(torch.from_numpy(mix)[None].to(self.device)).transpose(1, 2)  # (1, F, D)
        x = b.stats.normalise(latents, channel_dim=-1)
        g = torch.Generator().manual_seed(seed)
        cls = torch.tensor([instrument], device=self.device)
        outs = [gen(x[:, i:i + n], gen.sample_noise(1, x[:, i:i + n].shape[1], generator=g), cls)
                for i in range(0, x.shape[1], n)]
        out = b.stats.denormalise(torch.cat(outs, dim=1), channel_dim=-1).transpose(1, 2)
        audio = ae.decode(out)[0].cpu().numpy()
        return np.pad(audio, ((0, 0), (0, mix.shape[-1] - audio.shape[-1])))
