"""Step-by-step accompaniment, exactly as live use runs it: per latent frame, the streaming
encoder turns the newest hop of mix audio into a latent, the model's streaming step predicts
the accompaniment latent tau frames ahead, and the streaming decoder turns it into audio.

The same class serves LiveBand generators (noise + mix in, one step per frame, rolling KV
cache) and the SMG baseline (its own sampled tokens fed back, RVQ-decoded).
"""

from __future__ import annotations

import torch

from liveband.builders import AccompanimentBundle
from liveband.errors import LiveBandError


class Accompanist:
    """Push mix audio (1, C, n) of any size; get accompaniment audio for each finished frame.

    Output block k (``hop`` samples) is the accompaniment for latent frame k + tau of the
    input: it is produced ``tau`` frames before that part of the mix is heard.
    """

    def __init__(self, bundle: AccompanimentBundle, instrument: int, seed: int = 0,
                 temperature: float = 1.0, top_k: int | None = None):
        self.bundle = bundle
        ae = bundle.autoencoder
        self.hop, self.channels, self.sample_rate = ae.cfg.hop, ae.cfg.channels, ae.cfg.sample_rate
        self.tau = bundle.tau_frames
        self.instrument = torch.tensor([instrument], dtype=torch.long)
        self.noise_rng = torch.Generator().manual_seed(seed)
        self.encoder, self.decoder = ae.stream_encoder(1), ae.stream_decoder(1)
        if bundle.kind == "liveband":
            if not bundle.model.cfg.causal:
                raise LiveBandError("checkpoint: a bidirectional model cannot stream (it is the offline bound)")
            self.stream = bundle.model.stream(1)
        else:
            self.stream = bundle.model.stream(1, temperature=temperature, top_k=top_k, generator=self.noise_rng)
        self.frames = 0

    @torch.inference_mode()
    def latent_step(self, mix_latent: torch.Tensor) -> torch.Tensor:
        """(1, D) raw mix latent -> (1, D) raw accompaniment latent for frame t + tau."""
        stats = self.bundle.stats
        mix = stats.normalise(mix_latent, channel_dim=-1)
        if self.bundle.kind == "liveband":
            noise = torch.randn(1, self.bundle.model.cfg.noise_dim, generator=self.noise_rng)
            out = self.stream.step(mix, noise, self.instrument)                      # (1, D)
        else:
            codes = self.stream.step(mix, self.instrument)                            # (1, K)
            out = self.bundle.extra["rvq"].decode(codes[:, None, :])[:, 0]            # (1, D)
        self.frames += 1
        return stats.denormalise(out, channel_dim=-1)

    @torch.inference_mode()
    def push(self, audio: torch.Tensor) -> torch.Tensor:
        """(1, C, n) mix audio -> (1, C, k * hop) accompaniment for the k frames completed."""
        latents = self.encoder.push(audio)                                            # (1, D, k)
        if latents.shape[-1] == 0:
            return audio.new_zeros(1, self.channels, 0)
        out = torch.stack([self.latent_step(latents[..., i]) for i in range(latents.shape[-1])], dim=-1)
        return self.decoder.push(out)                                                 # (1, C, k*hop)
