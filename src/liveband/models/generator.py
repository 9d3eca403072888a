"""LiveBand generator: a causal transformer from (per-frame noise, mix latents) to accompaniment.

At frame t the generator sees Gaussian noise z_t and the mix frames m_<=t, and emits one
accompaniment latent frame. Previous accompaniment frames are never fed back, so the parallel
masked pass used for training computes exactly what the frame-by-frame stream computes at
inference (paper, sec. 4.4). The training target for output t is the accompaniment at t + tau
(the anticipation, see ``liveband.models.anticipation``).

Layout: latents are ``(B, T, D)`` here (transformer layout), normalised per channel.
Instrument classes: ``0 .. n_classes - 2`` are instrument categories and the null class
(conditioning dropped) is the LAST index, ``n_classes - 1`` (``GeneratorConfig.null_class``),
as in ``liveband.data.classes`` (``NULL_ID``).

Beyond ``context_frames`` (N, the training crop length) the parallel pass uses a causal sliding
window of N frames, which is what the stream's rolling KV cache of N frames sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from liveband.errors import LiveBandError
from liveband.modules.adaln import AdaLN, Modulation
from liveband.modules.attention import (
    BACKENDS,
    RollingKVCache,
    RotaryAngles,
    RotaryEmbedding,
    SelfAttention,
)
from liveband.modules.swiglu import SwiGLU, swiglu_hidden_dim
from liveband.modules.transformer import new_caches, run_blocks, step_blocks

LATENT_FRAME_RATE = 44100 / 4096  # latent frames per second of the causal autoencoder (~10.77 Hz)


@dataclass(frozen=True)
class GeneratorConfig:
    """Generator shape; defaults are the offline default profile (``liveband.config`` builds it)."""

    latent_dim: int = 32  # D: channels of the normalised autoencoder latents (mix and output)
    noise_dim: int = 32  # Z: channels of the per-frame Gaussian noise
    d_model: int = 256  # transformer width
    n_layers: int = 4  # number of transformer blocks
    n_heads: int = 4  # attention heads (head dim = d_model / n_heads, must be even)
    mlp_ratio: float = 8 / 3  # SwiGLU hidden width = mlp_ratio * d_model, rounded up to x16
    context_frames: int = 64  # N: training crop length = KV cache length = sliding window
    n_classes: int = 18  # instrument classes INCLUDING null (the last index); builders set it
    causal: bool = True  # False: bidirectional upper bound (no streaming)
    sink: bool = True  # one learned scalar attention-sink logit per head
    attn_backend: str = "sdpa"  # "explicit" | "sdpa" | "flex" ("flex" trains only on CUDA)
    rope_base: float = 10000.0  # rotary embedding base

    def __post_init__(self):
        for name in ("latent_dim", "noise_dim", "d_model", "n_layers", "n_heads", "context_frames"):
            if getattr(self, name) < 1:
                raise LiveBandError(f"generator.{name}: must be >= 1, got {getattr(self, name)}")
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise LiveBandError(
                f"generator.n_heads: d_model {self.d_model} / n_heads {self.n_heads} must be an "
                "even integer head dim"
            )
        if self.n_classes < 2:
            raise LiveBandError(f"generator.n_classes: needs >= 2 (incl. null), got {self.n_classes}")
        if self.attn_backend not in BACKENDS:
            raise LiveBandError(f"generator.attn_backend: {self.attn_backend!r} not in {BACKENDS}")

    @property
    def null_class(self) -> int:
        """Index of the null class (instrument conditioning dropped)."""
        return self.n_classes - 1


def seconds_to_frames(seconds: float, frame_rate: float = LATENT_FRAME_RATE) -> int:
    """Anticipation in latent frames: ``round(seconds * frame_rate)`` (0.1 s -> 1, 1 s -> 11)."""
    if seconds < 0:
        raise LiveBandError(f"anticipation: must be >= 0 seconds, got {seconds}")
    return int(round(seconds * frame_rate))


class GeneratorBlock(nn.Module):
    """Pre-norm block: AdaLN -> attention -> gated residual; AdaLN -> SwiGLU -> gated residual."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.attn_norm = AdaLN(cfg.d_model, cfg.d_model, gated=True)
        self.attn = SelfAttention(cfg.d_model, cfg.n_heads, sink=cfg.sink, backend=cfg.attn_backend)
        self.mlp_norm = AdaLN(cfg.d_model, cfg.d_model, gated=True)
        self.mlp = SwiGLU(cfg.d_model, swiglu_hidden_dim(cfg.d_model, cfg.mlp_ratio))

    def modulations(self, cond: torch.Tensor) -> tuple[Modulation, Modulation]:  # cond (B, d)
        return self.attn_norm.modulation(cond), self.mlp_norm.modulation(cond)

    def forward(
        self, x: torch.Tensor, rope: RotaryAngles, causal: bool, window: int | None,
        mods: tuple[Modulation, Modulation],
    ) -> torch.Tensor:  # (B, T, d)
        attn_mod, mlp_mod = mods
        h = self.attn(self.attn_norm.modulate(x, attn_mod), rope, causal, window)
        x = torch.addcmul(x, attn_mod.gate, h)
        return torch.addcmul(x, mlp_mod.gate, self.mlp(self.mlp_norm.modulate(x, mlp_mod)))

    def step(
        self, x: torch.Tensor, rope: RotaryAngles, cache: RollingKVCache,
        mods: tuple[Modulation, Modulation],
    ) -> torch.Tensor:  # (B, 1, d)
        attn_mod, mlp_mod = mods
        h = self.attn.step(self.attn_norm.modulate(x, attn_mod), rope, cache)
        x = torch.addcmul(x, attn_mod.gate, h)
        return torch.addcmul(x, mlp_mod.gate, self.mlp(self.mlp_norm.modulate(x, mlp_mod)))


class Generator(nn.Module):
    """Causal (or bidirectional) transformer generator; see the module docstring."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        self.in_proj = nn.Linear(cfg.noise_dim + cfg.latent_dim, cfg.d_model)
        self.class_embedding = nn.Embedding(cfg.n_classes, cfg.d_model)
        self.rotary = RotaryEmbedding(cfg.d_model // cfg.n_heads, cfg.rope_base)
        self.blocks = nn.ModuleList(GeneratorBlock(cfg) for _ in range(cfg.n_layers))
        self.final_norm = AdaLN(cfg.d_model, cfg.d_model, gated=False)
        self.out_proj = nn.Linear(cfg.d_model, cfg.latent_dim)

    def _check(self, mix: torch.Tensor, noise: torch.Tensor, instrument: torch.Tensor) -> None:
        cfg = self.cfg
        if mix.shape[-1] != cfg.latent_dim or noise.shape[-1] != cfg.noise_dim:
            raise LiveBandError(
                f"generator input: mix {tuple(mix.shape)} / noise {tuple(noise.shape)} must end in "
                f"latent_dim {cfg.latent_dim} / noise_dim {cfg.noise_dim}"
            )
        if mix.shape[:-1] != noise.shape[:-1] or instrument.shape != mix.shape[:1]:
            raise LiveBandError(
                f"generator input: mix {tuple(mix.shape)}, noise {tuple(noise.shape)} and "
                f"instrument {tuple(instrument.shape)} disagree on batch/frames"
            )

    def forward(
        self, mix: torch.Tensor, noise: torch.Tensor, instrument: torch.Tensor
    ) -> torch.Tensor:
        """mix (B, T, D), noise (B, T, Z), instrument (B,) long -> accompaniment (B, T, D)."""
        self._check(mix, noise, instrument)
        cond = self.class_embedding(instrument)  # (B, d)
        x = self.in_proj(torch.cat((noise, mix), dim=-1))  # (B, T, d)
        window = self.cfg.context_frames if self.cfg.causal else None
        mods = (block.modulations(cond) for block in self.blocks)  # each just before its block
        x = run_blocks(self.blocks, self.rotary, x, self.cfg.causal, window, contexts=mods)
        x = self.final_norm(x, cond)
        return self.out_proj(x)  # (B, T, D)

    def sample_noise(
        self, batch_size: int, n_frames: int, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Per-frame Gaussian noise (B, T, Z) on the model's device and dtype, drawn on the
        ``generator``'s device (a CPU generator gives the same noise for a model on any device)."""
        weight = self.in_proj.weight
        shape = (batch_size, n_frames, self.cfg.noise_dim)
        device = generator.device if generator is not None else weight.device
        return torch.randn(shape, generator=generator, device=device, dtype=weight.dtype).to(weight.device)

    def stream(self, batch_size: int) -> GeneratorStream:
        """A frame-by-frame inference state with rolling KV caches of ``context_frames`` frames."""
        if not self.cfg.causal:
            raise LiveBandError(
                "generator.causal is False: a bidirectional generator needs the whole sequence "
                "and cannot stream"
            )
        return GeneratorStream(self, batch_size)


class GeneratorStream:
    """Streaming state of one ``Generator``: one ``RollingKVCache`` per block and the position.

    Memory is fixed (N frames per layer) however long the stream runs. The class modulations are
    computed once per instrument change (into the same tensors), so rebuild (or ``reset``) the
    stream after the weights change. ``step`` runs without autograd, in the weights' dtype (e.g.
    bfloat16) whatever the inputs' dtype; the output has the inputs' dtype.

    The work of a frame (``_frame``) only reads and updates tensors: the position and the cache
    slots are tensors, so ``compile()`` turns it into one graph that serves every frame.
    """

    def __init__(self, generator: Generator, batch_size: int):
        cfg = generator.cfg
        weight = generator.in_proj.weight
        self.generator = generator
        self.batch_size = batch_size
        self.caches = new_caches(generator.blocks, batch_size, cfg.context_frames, weight.device, weight.dtype)
        self.position = 0  # absolute index of the next frame
        self._position = torch.zeros(1, dtype=torch.long, device=weight.device)  # the same, (1,)
        generator.rotary.inv_freq(weight.device)  # fill its per-device table before any compile
        self._instrument: torch.Tensor | None = None
        self._block_mods: list[tuple[Modulation, Modulation]] = []
        self._final_mod: Modulation | None = None
        self._run_frame = self._frame

    def reset(self) -> None:
        for cache in self.caches:
            cache.reset()
        self.position = 0
        self._position.zero_()
        self._instrument = None

    def compile(self, freeze: bool = True, **options) -> GeneratorStream:
        """Run frames through ``torch.compile`` (``options`` go to it); the first frame compiles.

        ``freeze`` turns on Inductor's freezing for that compilation: weights become constants
        (prepacked for the CPU's matrix kernels, the main gain at batch 1), so use it for
        inference only and rebuild the stream if the weights change.
        """
        import torch._inductor.config as inductor_config

        compiled = torch.compile(self._frame, fullgraph=True, dynamic=False, **options)

        def first_frame(inputs: torch.Tensor) -> torch.Tensor:
            with inductor_config.patch(freezing=freeze):  # read when the graph compiles, not after
                out = compiled(inputs)
            self._run_frame = compiled
            return out

        self._run_frame = first_frame
        return self

    def _modulations(self, instrument: torch.Tensor) -> None:
        if self._instrument is not None and torch.equal(instrument, self._instrument):
            return
        generator = self.generator
        cond = generator.class_embedding(instrument)  # (B, d)
        block_mods = [block.modulations(cond) for block in generator.blocks]
        final_mod = generator.final_norm.modulation(cond)
        if self._final_mod is None:
            self._block_mods, self._final_mod = block_mods, final_mod
        else:  # in place: a compiled frame keeps reading the same tensors
            for old, new in zip((*self._block_mods, (self._final_mod,)), (*block_mods, (final_mod,)), strict=True):
                for old_mod, new_mod in zip(old, new, strict=True):
                    for old_t, new_t in zip(old_mod, new_mod, strict=True):
                        if old_t is not None:
                            old_t.copy_(new_t)
        self._instrument = instrument.clone()

    def _frame(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, Z + D) noise and mix of the frame at ``_position`` -> (B, D); updates the caches."""
        generator = self.generator
        x = generator.in_proj(inputs).unsqueeze(1)  # (B, 1, d)
        rope = generator.rotary(self._position, dtype=x.dtype)
        x = step_blocks(generator.blocks, x, rope, self.caches, self._block_mods)
        x = generator.final_norm.modulate(x, self._final_mod)
        self._position.add_(1)
        return generator.out_proj(x)[:, 0]  # (B, D)

    @torch.no_grad()
    def step(
        self, mix_frame: torch.Tensor, noise: torch.Tensor, instrument: torch.Tensor
    ) -> torch.Tensor:
        """mix_frame (B, D), noise (B, Z), instrument (B,) -> accompaniment frame (B, D)."""
        generator = self.generator
        if mix_frame.shape[0] != self.batch_size:
            raise LiveBandError(
                f"generator stream: batch {mix_frame.shape[0]} != stream batch {self.batch_size}"
            )
        generator._check(mix_frame[:, None], noise[:, None], instrument)
        self._modulations(instrument)
        inputs = torch.cat((noise, mix_frame), dim=-1).to(generator.in_proj.weight.dtype)
        out = self._run_frame(inputs)
        self.position += 1
        return out.to(mix_frame.dtype)
