"""Adherence of a generated stem to its input mix: COCOLA and the offline COCOLA-local.

COCOLA (Ciranni et al., 2024) embeds 5 s, 16 kHz excerpts from a two-channel input, the
log-mel spectrograms of the harmonic and percussive parts of an HPSS split, and scores a
(mix, stem) pair by a bilinear similarity of the tanh(LayerNorm(.)) embeddings. It was
trained contrastively so that a mix scores high with its own stem and low with stems of
other excerpts. The paper scores 5 s chunks with a 2.5 s hop, averaged, in three modes:

- ``full``: both channels; ``harmonic``: the percussive channel zeroed; ``percussive``:
  the harmonic channel zeroed (one model serves all three: it is trained with random channel
  masking).

Two backends share :class:`AdherenceScorer` (``.name``, ``.score(mix, stem, sr, mode)``):

- ``COCOLA``: the released model, from a local checkpoint (``metrics.cocola.checkpoint``).
  Expected format: the authors' Lightning checkpoint (``.ckpt``: ``{"state_dict": ...}``
  with keys ``encoder.encoder.model.0.*`` (EfficientNet-B0, 2 input channels),
  ``encoder.projection.*``, ``layer_norm.*``, ``similarity.w``) or a bare state_dict with
  those keys. It is read with ``weights_only=True``; a Lightning file whose metadata names
  foreign classes is refused until converted with ``python -m liveband.metrics.convert_weights``
  (no pickled code ever runs). Needs the optional package ``efficientnet_pytorch``.
- ``COCOLA-local``: the same recipe at a small size, trained here by
  :func:`train_cocola_local` (a few minutes on CPU). Its numbers are not comparable to the
  paper's COCOLA numbers and are never labelled COCOLA.

The score is COCOLA's raw bilinear similarity (not a percentage: the released model gives
values around 60-70 for real pairs because of its learned scale); COCOLA-local reports the
same quantity for its own weights.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from liveband.errors import LiveBandError
from liveband.metrics._weights import read_state_dict
from liveband.metrics.loudness import resample
from liveband.metrics.spectral import hpss, mel_filterbank, power_to_db, stft

COCOLA_KEY = "metrics.cocola.checkpoint"
LOCAL_KEY = "metrics.cocola.local_checkpoint"
MODES = ("full", "harmonic", "percussive")
SAMPLE_RATE = 16_000
CHUNK_SECONDS = 5.0
HOP_SECONDS = 2.5
TOP_DB = 80.0

# COCOLA's front end: 1024-point FFT of a 400-sample (25 ms) Hann window every 10 ms,
# HPSS with 31-bin median filters, 64 Slaney mel bands 60-7800 Hz, dB relative to the max.
_N_FFT, _WIN, _HOP, _N_MELS, _FMIN, _FMAX = 1024, 400, 160, 64, 60.0, 7800.0
_MEL = mel_filterbank(SAMPLE_RATE, _N_FFT, _N_MELS, _FMIN, _FMAX)


# --------------------------------------------------------------------------- features


def hpss_log_mel(audio: np.ndarray) -> np.ndarray:
    """``(2, 64, frames)`` log-mel (dB, max 0, floor -80) of the harmonic and percussive parts of
    16 kHz mono audio; channel 0 is harmonic, 1 percussive (each relative to its own max).
    """
    spectrum = stft(np.asarray(audio, dtype=np.float64), _N_FFT, _HOP, _WIN)
    harmonic, percussive = hpss(spectrum)
    return np.stack([power_to_db(_MEL @ np.abs(part) ** 2, TOP_DB) for part in (harmonic, percussive)]
                    ).astype(np.float32)


def chunk_starts(n_samples: int, chunk: int, hop: int) -> list[int]:
    """Start samples of ``chunk``-long windows every ``hop``; one window if the audio is shorter."""
    if n_samples <= chunk:
        return [0]
    return list(range(0, n_samples - chunk + 1, hop))


def _chunk(x: np.ndarray, start: int, chunk: int) -> np.ndarray:
    piece = x[start:start + chunk]
    return np.pad(piece, (0, chunk - len(piece))) if len(piece) < chunk else piece


def chunk_features(audio: np.ndarray, sr: int, hop_seconds: float = HOP_SECONDS) -> torch.Tensor:
    """HPSS log-mel features of the 5 s chunks (every ``hop_seconds``) of mono audio: ``(n, 2, 64, 501)``."""
    x = resample(_mono(audio, "input"), sr, SAMPLE_RATE)
    if len(x) == 0:
        raise LiveBandError("COCOLA: empty audio")
    chunk, hop = int(CHUNK_SECONDS * SAMPLE_RATE), int(hop_seconds * SAMPLE_RATE)
    return torch.from_numpy(np.stack([hpss_log_mel(_chunk(x, i, chunk)) for i in chunk_starts(len(x), chunk, hop)]))


def paired_chunk_features(mix: np.ndarray, stem: np.ndarray, sr: int,
                          hop_seconds: float = HOP_SECONDS) -> tuple[torch.Tensor, torch.Tensor]:
    """Aligned chunk features of ``mix`` and ``stem`` (both cut to the shorter): two ``(n, 2, 64, 501)``."""
    n = min(len(_mono(mix, "mix")), len(_mono(stem, "stem")))
    return chunk_features(mix[:n], sr, hop_seconds), chunk_features(stem[:n], sr, hop_seconds)


def _mono(audio: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1:
        raise LiveBandError(f"COCOLA: expected mono (N,) {what} audio, got shape {x.shape}")
    return x


def _mask_mode(features: torch.Tensor, mode: str, fill: float) -> torch.Tensor:
    """Blank the channel a mode leaves out (COCOLA's embedding modes); features ``(B, 2, M, T)``."""
    if mode not in MODES:
        raise LiveBandError(f"metrics.cocola.modes: unknown mode '{mode}' (choose from {', '.join(MODES)})")
    out = features.clone()
    if mode == "harmonic":
        out[:, 1] = fill
    elif mode == "percussive":
        out[:, 0] = fill
    return out


# --------------------------------------------------------------------------- scorers


class AdherenceScorer(ABC):
    name: str  # label printed in tables

    @abstractmethod
    def embed_mode(self, features: torch.Tensor, mode: str) -> torch.Tensor:
        """Embeddings ``(B, D)`` of chunk features ``(B, 2, 64, frames)`` in dB, seen in ``mode``."""

    @abstractmethod
    def pairwise(self, mix_embeddings: torch.Tensor, stem_embeddings: torch.Tensor) -> torch.Tensor:
        """Score ``(B,)`` of each aligned pair of embeddings."""

    def pair_scores(self, mix_features: torch.Tensor, stem_features: torch.Tensor, mode: str) -> torch.Tensor:
        """Score ``(B,)`` of each aligned chunk pair; features ``(B, 2, 64, frames)`` in dB."""
        return self.pairwise(self.embed_mode(mix_features, mode), self.embed_mode(stem_features, mode))

    def score(self, mix: np.ndarray, stem: np.ndarray, sr: int, mode: str = "full") -> float:
        """Mean score over 5 s chunks (2.5 s hop) of a mono mix and its generated stem."""
        mix_feats, stem_feats = paired_chunk_features(mix, stem, sr)
        with torch.inference_mode():
            return float(self.pair_scores(mix_feats, stem_feats, mode).mean())

    def score_all_modes(self, mix: np.ndarray, stem: np.ndarray, sr: int) -> dict[str, float]:
        """``{mode: score}`` for full, harmonic and percussive, computing the features once."""
        return self.score_features(*paired_chunk_features(mix, stem, sr))

    def embed_modes(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{mode: (B, D)}``: one clip's chunk embeddings in every mode, to score against several
        partners without embedding it again (:meth:`score_embedded`)."""
        with torch.inference_mode():
            return {m: self.embed_mode(features, m) for m in MODES}

    def score_embedded(self, mix: dict[str, torch.Tensor], stem: dict[str, torch.Tensor]) -> dict[str, float]:
        """``{mode: mean score}`` of :meth:`embed_modes` outputs; when the chunk counts differ, the
        chunks both have (the shorter clip's) are scored."""
        with torch.inference_mode():
            return {m: float(self.pairwise(mix[m][:len(stem[m])], stem[m][:len(mix[m])]).mean()) for m in MODES}

    def score_features(self, mix_features: torch.Tensor, stem_features: torch.Tensor) -> dict[str, float]:
        """``{mode: mean score}`` over aligned chunk features (as :func:`paired_chunk_features`
        gives them); when the counts differ, the chunks both have (the shorter clip's) are scored.
        """
        n = min(len(mix_features), len(stem_features))
        return self.score_embedded(self.embed_modes(mix_features[:n]), self.embed_modes(stem_features[:n]))


class BilinearSimilarity(nn.Module):
    """``s(x, y) = x^T W y``: COCOLA's learned, asymmetric similarity."""

    def __init__(self, dim: int):
        super().__init__()
        self.w = nn.Parameter(torch.randn(dim, dim) * 0.05)

    def matrix(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x @ self.w @ y.T  # (Bx, By)

    def pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((x @ self.w) * y).sum(dim=-1)  # (B,)


# ----- COCOLA-local


@dataclass(frozen=True)
class CocolaLocalConfig:
    widths: tuple[int, ...] = (16, 32, 48, 64, 96)  # channels of the stem and each stride-2 block
    expansion: int = 2  # inverted-bottleneck expansion factor of each block
    embedding_dim: int = 128  # size of the projected embedding fed to the bilinear similarity
    dropout: float = 0.1  # before the projection, as in COCOLA
    learning_rate: float = 1e-3  # Adam
    batch_size: int = 32  # pairs per contrastive batch (the other stems are the negatives)
    seed: int = 0


class _InvertedBottleneck(nn.Module):
    """EfficientNet-lite block: 1x1 expand, 3x3 depthwise (stride 2), 1x1 project, BN, ReLU6."""

    def __init__(self, c_in: int, c_out: int, expansion: int):
        super().__init__()
        hidden = c_in * expansion
        self.body = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride=2, padding=1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class CocolaLocal(nn.Module):
    """Small COCOLA: HPSS log-mel (2, 64, T) -> conv encoder -> projection -> tanh(LayerNorm)."""

    def __init__(self, config: CocolaLocalConfig):
        super().__init__()
        self.config = config
        w = config.widths
        self.stem = nn.Sequential(nn.Conv2d(2, w[0], 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(w[0]), nn.ReLU6(inplace=True))
        self.blocks = nn.Sequential(*[_InvertedBottleneck(a, b, config.expansion) for a, b in zip(w[:-1], w[1:], strict=True)])
        self.dropout = nn.Dropout(config.dropout)
        self.projection = nn.Linear(w[-1], config.embedding_dim)
        self.layer_norm = nn.LayerNorm(config.embedding_dim)
        self.similarity = BilinearSimilarity(config.embedding_dim)

    @staticmethod
    def scale_input(features_db: torch.Tensor) -> torch.Tensor:
        """dB in [-80, 0] -> [0, 1], so a blanked (zero) channel reads as silence."""
        return (features_db + TOP_DB) / TOP_DB

    def embed(self, features: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(features))  # (B, C, 64 / 2^k, T / 2^k)
        x = self.dropout(x.mean(dim=(2, 3)))  # (B, C)
        return torch.tanh(self.layer_norm(self.projection(x)))  # (B, D)


class CocolaLocalScorer(AdherenceScorer):
    name = "COCOLA-local"

    def __init__(self, model: CocolaLocal):
        self.model = model.eval()

    def embed_mode(self, features, mode):
        return self.model.embed(_mask_mode(self.model.scale_input(features), mode, 0.0))

    def pairwise(self, mix_embeddings, stem_embeddings):
        return self.model.similarity.pairwise(mix_embeddings, stem_embeddings)

    @classmethod
    def from_checkpoint(cls, path: str | Path | None) -> CocolaLocalScorer:
        return cls(load_cocola_local(path))


def contrastive_loss(model: CocolaLocal, mix: torch.Tensor, stem: torch.Tensor) -> tuple[torch.Tensor, float]:
    """InfoNCE: each mix chunk must pick ITS OWN stem among the batch's stems. Returns (loss, accuracy)."""
    logits = model.similarity.matrix(model.embed(mix), model.embed(stem))  # (B, B), row = mix
    target = torch.arange(len(mix), device=mix.device)
    accuracy = float((logits.argmax(dim=1) == target).float().mean())
    return F.cross_entropy(logits, target), accuracy


def _random_channel_mask(batch: int, generator: torch.Generator) -> torch.Tensor:
    """Per-pair channel keep-mask ``(B, 2, 1, 1)``: both, harmonic only or percussive only."""
    choice = torch.randint(0, 3, (batch,), generator=generator)
    keep = torch.ones(batch, 2)
    keep[choice == 1, 1] = 0.0  # harmonic mode
    keep[choice == 2, 0] = 0.0  # percussive mode
    return keep[:, :, None, None]


def pair_features(pairs: Iterable[tuple[np.ndarray, np.ndarray]], sr: int,
                  hop_seconds: float = CHUNK_SECONDS) -> tuple[torch.Tensor, torch.Tensor]:
    """Training chunks of (mix, stem) pairs: 5 s windows every ``hop_seconds``, features in dB."""
    mixes, stems = [], []
    for mix, stem in pairs:
        m, s = paired_chunk_features(mix, stem, sr, hop_seconds)
        mixes.append(m)
        stems.append(s)
    if not mixes:
        raise LiveBandError("COCOLA-local: no training pairs")
    return torch.cat(mixes), torch.cat(stems)


def train_cocola_local(pairs: Iterable[tuple[np.ndarray, np.ndarray]], config: CocolaLocalConfig,
                       steps: int, sr: int = SAMPLE_RATE,
                       log: Callable[[dict], None] | None = None, log_every: int = 50,
                       device: torch.device | str = "cpu") -> tuple[CocolaLocal, list[dict]]:
    """Train COCOLA-local on aligned (mix, stem) mono pairs at ``sr``; pure apart from ``log``.

    Every pair is cut into non-overlapping 5 s chunks whose features are computed once. Each
    step draws ``batch_size`` chunk pairs, blanks the same random channel choice in both
    sides of a pair (so one model learns the three modes), and minimises :func:`contrastive_loss`.
    Returns the model (eval mode, on the CPU) and the logged history (step, loss, accuracy, seconds).
    Trains on ``device``; the draws stay on a CPU generator, so they do not depend on it.
    Threads are the caller's choice; on the shared 2-core machine one torch thread was fastest
    (0.35 s per batch-32 step, against 3.5 s with two threads competing with other jobs).
    """
    mix_feats, stem_feats = pair_features(pairs, sr)
    n = len(mix_feats)
    if n < 2:
        raise LiveBandError(f"COCOLA-local: need at least 2 chunk pairs to contrast, got {n}")
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = CocolaLocal(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    mix_feats, stem_feats = model.scale_input(mix_feats.to(device)), model.scale_input(stem_feats.to(device))
    batch = min(config.batch_size, n)
    history, started = [], time.perf_counter()
    model.train()
    for step in range(1, steps + 1):
        idx = torch.randperm(n, generator=generator)[:batch]
        keep = _random_channel_mask(batch, generator).to(device)
        loss, accuracy = contrastive_loss(model, mix_feats[idx] * keep, stem_feats[idx] * keep)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % log_every == 0 or step == steps:
            record = {"step": step, "loss": float(loss.detach()), "accuracy": accuracy,
                      "chance_loss": math.log(batch), "seconds": time.perf_counter() - started}
            history.append(record)
            if log is not None:
                log(record)
    return model.cpu().eval(), history


def save_cocola_local(path: str | Path, model: CocolaLocal, step: int, extra: dict | None = None) -> None:
    """Write a self-describing checkpoint (kind ``cocola_local``) atomically."""
    from liveband.utils.checkpoint import save_checkpoint

    config = asdict(model.config)
    config["widths"] = list(config["widths"])
    save_checkpoint(path, {"kind": "cocola_local", "config": config, "step": int(step),
                           "model": model.state_dict(), **(extra or {})})


def load_cocola_local(path: str | Path | None) -> CocolaLocal:
    from liveband.utils.checkpoint import load_checkpoint

    if path is None or str(path).strip() == "":
        raise LiveBandError(f"{LOCAL_KEY}: not configured; COCOLA-local needs a checkpoint written by train_cocola_local")
    payload = load_checkpoint(path, kind="cocola_local")
    config = dict(payload["config"])
    config["widths"] = tuple(config["widths"])
    model = CocolaLocal(CocolaLocalConfig(**config))
    model.load_state_dict(payload["model"])
    return model.eval()


# ----- COCOLA (released model)


class CocolaNet(nn.Module):
    """The released COCOLA network around an injected image encoder (EfficientNet-B0 by default)."""

    def __init__(self, encoder: nn.Module, encoder_dim: int, embedding_dim: int):
        super().__init__()
        self.encoder = encoder
        self.projection = nn.Linear(encoder_dim, embedding_dim)
        self.layer_norm = nn.LayerNorm(embedding_dim)
        self.similarity = BilinearSimilarity(embedding_dim)

    def embed(self, features_db: torch.Tensor) -> torch.Tensor:
        x = self.encoder(features_db).flatten(1)  # (B, encoder_dim)
        return torch.tanh(self.layer_norm(self.projection(x)))


def _efficientnet_b0() -> tuple[nn.Module, int]:
    if importlib.util.find_spec("efficientnet_pytorch") is None:
        raise LiveBandError(f"{COCOLA_KEY}: COCOLA needs the optional package efficientnet_pytorch (pip install efficientnet_pytorch)")
    efficientnet = importlib.import_module("efficientnet_pytorch")
    return efficientnet.EfficientNet.from_name("efficientnet-b0", include_top=False, in_channels=2), 1280


class CocolaScorer(AdherenceScorer):
    name = "COCOLA"

    def __init__(self, checkpoint: str | Path | None,
                 encoder_factory: Callable[[], tuple[nn.Module, int]] = _efficientnet_b0):
        state = read_state_dict(checkpoint, COCOLA_KEY, "COCOLA (the released checkpoint)")
        if "similarity.w" not in state:
            raise LiveBandError(f"{COCOLA_KEY}: {checkpoint} lacks 'similarity.w'; not a COCOLA checkpoint")
        encoder, encoder_dim = encoder_factory()
        net = CocolaNet(encoder, encoder_dim, state["similarity.w"].shape[0])
        remapped = {}
        for k, v in state.items():
            if k.startswith("encoder.encoder.model.0."):
                remapped["encoder." + k[len("encoder.encoder.model.0."):]] = v
            elif k.startswith("encoder.projection."):
                remapped["projection." + k[len("encoder.projection."):]] = v
            elif k.startswith(("layer_norm.", "similarity.")):
                remapped[k] = v
        try:
            net.load_state_dict(remapped, strict=True)
        except RuntimeError as exc:
            detail = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
            raise LiveBandError(f"{COCOLA_KEY}: {checkpoint} does not match the COCOLA architecture ({detail})") from None
        self.model = net.eval()

    def embed_mode(self, features, mode):
        # COCOLA blanks a channel with zeros in its dB input, and so do we here.
        return self.model.embed(_mask_mode(features, mode, 0.0))

    def pairwise(self, mix_embeddings, stem_embeddings):
        return self.model.similarity.pairwise(mix_embeddings, stem_embeddings)


def make_adherence_scorer(name: str, checkpoint: str | Path | None = None) -> AdherenceScorer:
    """``cocola`` (released model, ``metrics.cocola.checkpoint``) or ``cocola-local``
    (a checkpoint from :func:`save_cocola_local`, ``metrics.cocola.local_checkpoint``).
    """
    if name == "cocola":
        return CocolaScorer(checkpoint)
    if name == "cocola-local":
        return CocolaLocalScorer.from_checkpoint(checkpoint)
    raise LiveBandError(f"metrics.cocola.backend: unknown adherence backend '{name}' (choose cocola or cocola-local)")


def score(mix: np.ndarray, stem: np.ndarray, sr: int, mode: str, scorer: AdherenceScorer) -> float:
    """Mean chunk score of ``stem`` against ``mix`` under ``mode`` (full/harmonic/percussive)."""
    return scorer.score(mix, stem, sr, mode)
