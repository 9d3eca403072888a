"""StreamMusicGen-style (SMG) baseline: a teacher-forced next-token model over RVQ tokens.

The published SMG predicts the 4 RVQ codebooks of a causal DAC-style codec at 50 Hz. Here
the tokens are instead an RVQ (``liveband.models.rvq``) of the shared causal autoencoder's
10.77 Hz latents, so the baseline and LiveBand are decoded by the same decoder and differ
only in how they are trained and sampled. Like SMG, this model is trained with teacher
forcing (it sees ground-truth previous tokens) and streams on its own samples, which is
exactly the exposure-bias set-up LiveBand is compared against.

Anticipation is the same as LiveBand's: position t sees mix frames <= t and outputs the
accompaniment frame t + tau. Its token input is the frame before, t + tau - 1, which a
stream has only generated if t >= 1; position 0 gets a learned BOS embedding instead (for
tau = 0 that is "frame index -1"; for tau > 0 the frames before the first output were never
generated, so training uses BOS there too and matches streaming). The mix frame
(projected) and an instrument-class embedding are added to the token embedding.
Training targets arrive already shifted by tau, as for LiveBand's generator (mix frames
[s, s+T), accompaniment frames [s+tau, s+tau+T)); ``liveband.models.anticipation`` builds such
pairs from aligned sequences, and ``tau_frames`` records the offset the model was trained for.

The K codebooks of one frame come out of one transformer step, through a small
coarse-to-fine depth head: codebook k is predicted from the step's hidden state plus
embeddings of the frame's codes < k. We do not use MusicGen's delay pattern: at 10.77 Hz
it would hold back codebook k by k frames (93 ms each), either delaying the frame or
letting finer codebooks see mix frames beyond t, which would break the anticipation.
Codes are ``(B, T, K)`` long, mix latents ``(B, T, D)``, logits ``(B, T, K, V)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from liveband.errors import LiveBandError
from liveband.modules.transformer import CausalTransformer, TransformerCache

BOS = -1  # token value meaning "no previous generated frame" in tokens_prev


@dataclass(frozen=True)
class SMGConfig:
    latent_dim: int = 64  # D: channels of a mix latent frame (the conditioning)
    n_codebooks: int = 4  # K: RVQ levels predicted per frame
    codebook_size: int = 256  # V: codes per RVQ level
    d_model: int = 256  # transformer width
    n_layers: int = 4  # transformer blocks
    n_heads: int = 4  # attention heads (d_model / n_heads must be even, for RoPE)
    context_frames: int = 64  # N: attention window and KV cache length (train on crops <= N)
    n_classes: int = 19  # instrument categories including the null class
    tau_frames: int = 0  # anticipation: position t outputs accompaniment frame t + tau
    ff_mult: int = 4  # MLP hidden width as a multiple of d_model
    dropout: float = 0.0  # dropout in attention and MLP (training only)

    def __post_init__(self) -> None:
        for key in (
            "latent_dim",
            "n_codebooks",
            "codebook_size",
            "d_model",
            "n_layers",
            "n_heads",
            "context_frames",
            "n_classes",
            "ff_mult",
        ):
            if getattr(self, key) < 1:
                raise LiveBandError(f"smg.{key}: must be >= 1, got {getattr(self, key)}")
        if self.tau_frames < 0:
            raise LiveBandError(f"smg.tau_frames: must be >= 0, got {self.tau_frames}")
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise LiveBandError(
                f"smg.n_heads: d_model / n_heads must be an even integer, "
                f"got {self.d_model} / {self.n_heads}"
            )


def sample_logits(
    logits: torch.Tensor,
    temperature: float,
    top_k: int | None,
    generator: torch.Generator | Sequence[torch.Generator] | None,
) -> torch.Tensor:
    """One code per row: logits (B, V) -> (B,) long; temperature 0 is greedy (argmax).

    ``generator`` may be one generator for the batch, or one per row (so a row's draws do not
    depend on which other rows share its batch). Draws happen on the generator's device (a
    CPU generator gives the same codes for a model on any device).
    """
    if temperature == 0:
        return logits.argmax(-1)
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits.float(), dim=-1)
    if isinstance(generator, Sequence):
        if len(generator) != len(probs):
            raise LiveBandError(f"sampling: {len(generator)} generators for a batch of {len(probs)}")
        return torch.cat([_draw(p[None], g) for p, g in zip(probs, generator)])
    return _draw(probs, generator)


def _draw(probs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """(B, V) probabilities -> (B,) codes drawn with ``generator`` on its device, on probs' device."""
    if generator is None or generator.device == probs.device:
        return torch.multinomial(probs, 1, generator=generator)[:, 0]
    return torch.multinomial(probs.to(generator.device), 1, generator=generator)[:, 0].to(probs.device)


class CoarseToFineHead(nn.Module):
    """Logits for a frame's K codebooks; codebook k also sees the frame's codes < k."""

    def __init__(self, d_model: int, n_codebooks: int, codebook_size: int):
        super().__init__()
        self.code_embeddings = nn.ModuleList(
            nn.Embedding(codebook_size, d_model) for _ in range(n_codebooks - 1)
        )
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.LayerNorm(d_model),
                nn.Linear(d_model, d_model),
                nn.GELU(),
                nn.Linear(d_model, codebook_size),
            )
            for _ in range(n_codebooks)
        )
        for emb in self.code_embeddings:
            nn.init.normal_(emb.weight, std=0.02)

    def forward(self, hidden: torch.Tensor, frame_codes: torch.Tensor) -> torch.Tensor:
        """Teacher-forced: hidden (B, T, d), the frame's codes (B, T, K) -> logits (B, T, K, V)."""
        z, logits = hidden, []
        for k, head in enumerate(self.heads):
            logits.append(head(z))  # (B, T, V)
            if k < len(self.code_embeddings):
                z = z + self.code_embeddings[k](frame_codes[..., k])
        return torch.stack(logits, dim=2)

    def sample(
        self, hidden: torch.Tensor, pick: Callable[[torch.Tensor], torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes one level at a time: hidden (B, d) -> codes (B, K), logits (B, K, V)."""
        z, codes, logits = hidden, [], []
        for k, head in enumerate(self.heads):
            logits.append(head(z))  # (B, V)
            codes.append(pick(logits[-1]))  # (B,)
            if k < len(self.code_embeddings):
                z = z + self.code_embeddings[k](codes[-1])
        return torch.stack(codes, dim=1), torch.stack(logits, dim=1)


class SMG(nn.Module):
    """Decoder-only transformer, one step per latent frame, over accompaniment RVQ tokens."""

    def __init__(self, config: SMGConfig):
        super().__init__()
        self.config = c = config
        self.token_embeddings = nn.ModuleList(  # summed over codebooks of the previous frame
            nn.Embedding(c.codebook_size, c.d_model) for _ in range(c.n_codebooks)
        )
        self.bos = nn.Parameter(torch.zeros(c.d_model))  # stands in for "no previous frame"
        self.mix_projection = nn.Sequential(
            nn.LayerNorm(c.latent_dim), nn.Linear(c.latent_dim, c.d_model)
        )
        self.instrument_embedding = nn.Embedding(c.n_classes, c.d_model)
        self.transformer = CausalTransformer(
            c.d_model, c.n_layers, c.n_heads, c.context_frames, c.ff_mult, c.dropout
        )
        self.depth_head = CoarseToFineHead(c.d_model, c.n_codebooks, c.codebook_size)
        for emb in [*self.token_embeddings, self.instrument_embedding]:
            nn.init.normal_(emb.weight, std=0.02)
        nn.init.normal_(self.bos, std=0.02)

    # ---------------------------------------------------------------- inputs
    def _check(self, tokens_prev: torch.Tensor, mix: torch.Tensor, instrument: torch.Tensor):
        c = self.config
        if mix.dim() != 3 or mix.shape[-1] != c.latent_dim:
            raise LiveBandError(f"mix: expected (B, T, {c.latent_dim}), got {tuple(mix.shape)}")
        b, t = mix.shape[:2]
        if tokens_prev.shape != (b, t, c.n_codebooks):
            raise LiveBandError(
                f"tokens_prev: expected {(b, t, c.n_codebooks)}, got {tuple(tokens_prev.shape)}"
            )
        if instrument.shape != (b,):
            raise LiveBandError(f"instrument: expected shape ({b},), got {tuple(instrument.shape)}")

    def embed_inputs(
        self, tokens_prev: torch.Tensor, mix: torch.Tensor, instrument: torch.Tensor
    ) -> torch.Tensor:
        """Transformer input: previous-frame tokens (B, T, K) (BOS rows = -1), mix (B, T, D),
        instrument (B,) -> (B, T, d_model)."""
        self._check(tokens_prev, mix, instrument)
        tokens = tokens_prev.clamp(min=0)
        x = sum(emb(tokens[..., k]) for k, emb in enumerate(self.token_embeddings))  # (B, T, d)
        x = torch.where((tokens_prev[..., :1] == BOS), self.bos, x)
        x = x + self.mix_projection(mix)  # (B, T, d)
        return x + self.instrument_embedding(instrument)[:, None, :]

    # ---------------------------------------------------------------- training
    def hidden(
        self,
        tokens_prev: torch.Tensor,
        mix: torch.Tensor,
        instrument: torch.Tensor,
        start_position: int = 0,
    ) -> torch.Tensor:
        """Transformer states (B, T, d_model); position t has seen mix <= t and tokens_prev <= t."""
        x = self.embed_inputs(tokens_prev, mix, instrument)
        return self.transformer(x, start_position)

    def forward(
        self,
        tokens_prev: torch.Tensor,
        mix: torch.Tensor,
        instrument: torch.Tensor,
        frame_codes: torch.Tensor,
    ) -> torch.Tensor:
        """Teacher-forced logits (B, T, K, V) for the frames output at each position.

        tokens_prev (B, T, K): codes of frame t + tau - 1 at position t (BOS = -1 rows);
        frame_codes (B, T, K): codes of the output frame t + tau, read only by the depth head
        (codebook k sees levels < k); mix (B, T, D); instrument (B,) long.
        """
        if frame_codes.shape != tokens_prev.shape:
            raise LiveBandError(
                f"frame_codes: expected {tuple(tokens_prev.shape)}, got {tuple(frame_codes.shape)}"
            )
        h = self.hidden(tokens_prev, mix, instrument)  # (B, T, d)
        return self.depth_head(h, frame_codes)

    def teacher_forced_logits(
        self, target_codes: torch.Tensor, mix: torch.Tensor, instrument: torch.Tensor
    ) -> torch.Tensor:
        """Logits (B, T, K, V) with ground-truth history, for targets already shifted by tau.

        ``target_codes[:, t]`` (B, T, K) is the accompaniment frame output at position t, i.e.
        frame t + tau of a crop whose mix (B, T, D) starts at frame 0: the convention of
        ``liveband.data.latent_store.CropSampler`` (or use ``models.anticipation``). Position t
        reads the ground-truth frame before its target (BOS at t = 0).
        """
        if target_codes.dim() != 3 or target_codes.shape[:2] != mix.shape[:2]:
            raise LiveBandError(
                f"target_codes: expected (B, T, K) with the (B, T) of mix, got "
                f"{tuple(target_codes.shape)} and mix {tuple(mix.shape)}"
            )
        bos = torch.full_like(target_codes[:, :1], BOS)
        tokens_prev = torch.cat([bos, target_codes[:, :-1]], dim=1)  # (B, T, K)
        return self(tokens_prev, mix, instrument, target_codes)

    def loss(
        self, target_codes: torch.Tensor, mix: torch.Tensor, instrument: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced cross-entropy (mean over frames and codebooks) and token accuracy.

        Same inputs as ``teacher_forced_logits``: targets shifted by tau, aligned with mix.
        """
        logits = self.teacher_forced_logits(target_codes, mix, instrument)
        ce = F.cross_entropy(logits.flatten(0, 2), target_codes.flatten())
        accuracy = (logits.argmax(-1) == target_codes).float().mean()
        return ce, accuracy.detach()

    # ---------------------------------------------------------------- sampling
    def stream(
        self,
        batch_size: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | Sequence[torch.Generator] | None = None,
    ) -> SMGStream:
        """A streaming sampler: call ``.step(mix_frame, instrument)`` once per mix frame.

        Temperature 0 is greedy; ``top_k`` keeps the k most likely codes of each level. Put
        the model in eval mode first (dropout).
        """
        return SMGStream(self, batch_size, temperature, top_k, generator)

    @torch.no_grad()
    def generate(
        self,
        mix: torch.Tensor,
        instrument: torch.Tensor,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Stream over a whole mix (B, T, D) -> codes (B, T, K); row t is frame t + tau."""
        stream = self.stream(mix.shape[0], temperature, top_k, generator)
        return torch.stack([stream.step(mix[:, t], instrument) for t in range(mix.shape[1])], 1)

    @torch.no_grad()
    def sample_reference(
        self,
        mix: torch.Tensor,
        instrument: torch.Tensor,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Uncached sampler for tests: recomputes the whole prefix at every step.

        Returns codes (B, T, K) and the logits they were drawn from (B, T, K, V); must equal
        ``generate`` with the same generator seed, for any T (the window bounds both).
        """
        b, n_steps = mix.shape[:2]
        bos = torch.full((b, 1, self.config.n_codebooks), BOS, dtype=torch.long, device=mix.device)
        codes = bos[:, :0]  # (B, 0, K): nothing generated yet
        all_logits = []
        pick = lambda lg: sample_logits(lg, temperature, top_k, generator)  # noqa: E731
        for t in range(n_steps):
            tokens_prev = torch.cat([bos, codes], dim=1)  # (B, t + 1, K)
            h = self.hidden(tokens_prev, mix[:, : t + 1], instrument)[:, -1]  # (B, d)
            new, logits = self.depth_head.sample(h, pick)
            codes = torch.cat([codes, new[:, None]], dim=1)
            all_logits.append(logits)
        return codes, torch.stack(all_logits, dim=1)


class SMGStream:
    """Streaming state of one SMG rollout: the KV cache and the last frame it generated.

    Each ``step`` feeds back the codes sampled at the previous step (BOS at the first step),
    so the model runs on its own history, as in deployment.
    """

    def __init__(
        self,
        model: SMG,
        batch_size: int,
        temperature: float,
        top_k: int | None,
        generator: torch.Generator | Sequence[torch.Generator] | None,
    ):
        if temperature < 0 or (top_k is not None and top_k < 1):
            raise LiveBandError(
                f"sampling: temperature >= 0 and top_k >= 1, got {temperature}, {top_k}"
            )
        self.model, self.batch_size = model, batch_size
        self.temperature, self.top_k, self.generator = temperature, top_k, generator
        self.cache: TransformerCache = model.transformer.new_cache(batch_size)
        k = model.config.n_codebooks
        device = model.bos.device
        self.prev_codes = torch.full((batch_size, k), BOS, dtype=torch.long, device=device)
        self.last_logits: torch.Tensor | None = None  # (B, K, V) of the latest step

    @property
    def steps(self) -> int:
        """Mix frames consumed so far (the next step outputs frame steps + tau)."""
        return self.cache.position

    @torch.no_grad()
    def step(
        self,
        mix_frame: torch.Tensor,
        instrument: torch.Tensor,
        prev_codes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mix frame t (B, D) -> codes (B, K) of accompaniment frame t + tau.

        ``prev_codes`` (B, K), if given, replaces the fed-back previous frame for this step
        (e.g. ground truth, to measure exposure bias); by default the stream's own sample.
        """
        fed = self.prev_codes if prev_codes is None else prev_codes
        x = self.model.embed_inputs(fed[:, None], mix_frame[:, None], instrument)  # (B, 1, d)
        h = self.model.transformer.step(x[:, 0], self.cache)  # (B, d)
        codes, logits = self.model.depth_head.sample(
            h, lambda lg: sample_logits(lg, self.temperature, self.top_k, self.generator)
        )
        self.prev_codes, self.last_logits = codes, logits
        return codes
