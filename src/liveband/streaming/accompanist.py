"""Step-by-step accompaniment, exactly as live use runs it: per latent frame, the streaming
encoder turns the newest hop of mix audio into a latent, the model's streaming step predicts
the accompaniment latent tau frames ahead, and the streaming decoder turns it into audio.

The same class serves LiveBand generators (noise + mix in, one step per frame, rolling KV
cache) and the SMG baseline (its own sampled tokens fed back, RVQ-decoded).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from liveband.builders import AccompanimentBundle
from liveband.data.classes import parse_instrument
from liveband.errors import LiveBandError


class Accompanist:
    """Push mix audio (B, C, n) of any size; get accompaniment audio for each finished frame.

    Output block k (``hop`` samples) is the accompaniment for latent frame k + tau of the
    input: it is produced ``tau`` frames before that part of the mix is heard.

    ``instrument`` is a class id or name ("Bass", "null", as ``parse_instrument`` reads them).
    ``instrument`` and ``seed`` are one value (a single stream, B = 1, as live use runs it) or
    one per stream of a batch. Each stream draws its noise (or its SMG samples) from its own
    generator, so a stream's output does not depend on what else shares its batch: row b of
    a batch equals a single stream with ``instrument[b]`` and ``seed[b]``.

    ``device``: where the models, their caches and the per-frame work live (the bundle's
    models are moved there). Audio goes in and comes out on the CPU; the noise and SMG
    samples are drawn on CPU generators, so a seed means the same draws on any device.
    """

    def __init__(self, bundle: AccompanimentBundle, instrument: int | str | Sequence[int | str],
                 seed: int | Sequence[int] = 0, temperature: float = 1.0, top_k: int | None = None,
                 device: torch.device | str = "cpu"):
        self.bundle, self.device = bundle, torch.device(device)
        ae = bundle.autoencoder.to(self.device)
        bundle.model.to(self.device)
        if "rvq" in bundle.extra:
            bundle.extra["rvq"].to(self.device)
        self.hop, self.channels, self.sample_rate = ae.cfg.hop, ae.cfg.channels, ae.cfg.sample_rate
        self.tau = bundle.tau_frames
        several = isinstance(instrument, Sequence) and not isinstance(instrument, str)
        instruments = [class_id(i) for i in (instrument if several else [instrument])]
        seeds = [int(s) for s in seed] if isinstance(seed, Sequence) else [int(seed)] * len(instruments)
        if not instruments or len(seeds) != len(instruments):
            raise LiveBandError(f"accompaniment: {len(instruments)} instruments for {len(seeds)} seeds")
        self.batch_size = len(instruments)
        self.instrument = torch.tensor(instruments, dtype=torch.long, device=self.device)
        self.noise_rngs = [torch.Generator().manual_seed(s) for s in seeds]
        self.encoder, self.decoder = ae.stream_encoder(self.batch_size), ae.stream_decoder(self.batch_size)
        if bundle.kind == "liveband":
            if not bundle.model.cfg.causal:
                raise LiveBandError("checkpoint: a bidirectional model cannot stream (it is the offline bound)")
            self.stream = bundle.model.stream(self.batch_size)
        else:
            self.stream = bundle.model.stream(self.batch_size, temperature=temperature, top_k=top_k,
                                              generator=self.noise_rngs)
        self.frames = 0

    @torch.inference_mode()
    def latent_step(self, mix_latent: torch.Tensor) -> torch.Tensor:
        """(B, D) raw mix latent -> (B, D) raw accompaniment latent for frame t + tau."""
        stats = self.bundle.stats
        mix = stats.normalise(mix_latent, channel_dim=-1)
        if self.bundle.kind == "liveband":
            dim = self.bundle.model.cfg.noise_dim
            noise = torch.cat([torch.randn(1, dim, generator=g) for g in self.noise_rngs]).to(self.device)
            out = self.stream.step(mix, noise, self.instrument)                      # (B, D)
        else:
            codes = self.stream.step(mix, self.instrument)                            # (B, K)
            out = self.bundle.extra["rvq"].decode(codes[:, None, :])[:, 0]            # (B, D)
        self.frames += 1
        return stats.denormalise(out, channel_dim=-1)

    @torch.inference_mode()
    def push(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, C, n) mix audio -> (B, C, k * hop) accompaniment for the k frames completed (CPU)."""
        if audio.ndim != 3 or audio.shape[0] != self.batch_size:
            raise LiveBandError(f"accompaniment: expected audio (B={self.batch_size}, C, n), got {tuple(audio.shape)}")
        latents = self.encoder.push(audio.to(self.device))                            # (B, D, k)
        if latents.shape[-1] == 0:
            return audio.new_zeros(self.batch_size, self.channels, 0)
        out = torch.stack([self.latent_step(latents[..., i]) for i in range(latents.shape[-1])], dim=-1)
        return self.decoder.push(out).cpu()                                           # (B, C, k*hop)


def class_id(instrument: int | str) -> int:
    """An instrument class id from an id or a name (``parse_instrument``'s spellings)."""
    return parse_instrument(instrument) if isinstance(instrument, str) else int(instrument)
