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
  :func:`liveband.metrics.cocola_training.train_cocola_local` (a few minutes on CPU). Two
  departures, so that it measures timing and not only "same song": its embedding keeps coarse
  time cells instead of pooling over the whole 5 s, and its training adds hard negatives (the
  true stem shifted in time, another section of the same song, a same-class stem of another
  song). Its numbers are not comparable to the paper's COCOLA numbers and are never labelled COCOLA.

The score is COCOLA's raw bilinear similarity (not a percentage: the released model gives
values around 60-70 for real pairs because of its learned scale); COCOLA-local reports the
same quantity for its own weights.
"""

from __future__ import annotations

import importlib
import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from liveband.errors import LiveBandError
from liveband.metrics._weights import read_state_dict
from liveband.metrics.loudness import resample
from liveband.metrics.spectral import hpss, mel_filterbank, stft

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


def hpss_mel_db(audio: np.ndarray) -> np.ndarray:
    """``(2, 64, frames)`` absolute log-mel power (dB, floor -100) of the harmonic (channel 0) and
    percussive (1) parts of 16 kHz mono audio, one frame every 10 ms (frame t centred on sample
    160 t). :func:`relative_db` of a window of it is that window's model input.
    """
    spectrum = stft(np.asarray(audio, dtype=np.float64), _N_FFT, _HOP, _WIN)
    harmonic, percussive = hpss(spectrum)
    return np.stack([10.0 * np.log10(np.maximum(_MEL @ np.abs(part) ** 2, 1e-10)) for part in (harmonic, percussive)]
                    ).astype(np.float32)


def relative_db(features_db: torch.Tensor) -> torch.Tensor:
    """Each channel of ``(..., 2, M, T)`` dB features relative to its own max, floored at -80 dB."""
    peak = features_db.amax(dim=(-2, -1), keepdim=True)
    return (features_db - peak).clamp(min=-TOP_DB)


def hpss_log_mel(audio: np.ndarray) -> np.ndarray:
    """``(2, 64, frames)`` log-mel (dB, max 0, floor -80) of the harmonic and percussive parts of
    16 kHz mono audio; channel 0 is harmonic, 1 percussive (each relative to its own max).
    """
    return relative_db(torch.from_numpy(hpss_mel_db(audio))).numpy()


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
    def pair_scores(self, mix_features: torch.Tensor, stem_features: torch.Tensor, mode: str) -> torch.Tensor:
        """Score ``(B,)`` of each aligned chunk pair; features ``(B, 2, 64, frames)`` in dB."""

    def score(self, mix: np.ndarray, stem: np.ndarray, sr: int, mode: str = "full") -> float:
        """Mean score over 5 s chunks (2.5 s hop) of a mono mix and its generated stem."""
        mix_feats, stem_feats = paired_chunk_features(mix, stem, sr)
        with torch.inference_mode():
            return float(self.pair_scores(mix_feats, stem_feats, mode).mean())

    def score_all_modes(self, mix: np.ndarray, stem: np.ndarray, sr: int) -> dict[str, float]:
        """``{mode: score}`` for full, harmonic and percussive, computing the features once."""
        return self.score_features(*paired_chunk_features(mix, stem, sr))

    def score_features(self, mix_features: torch.Tensor, stem_features: torch.Tensor) -> dict[str, float]:
        """``{mode: mean score}`` over aligned chunk features (as :func:`paired_chunk_features`
        gives them); when the counts differ, the chunks both have (the shorter clip's) are scored.
        """
        n = min(len(mix_features), len(stem_features))
        with torch.inference_mode():
            return {m: float(self.pair_scores(mix_features[:n], stem_features[:n], m).mean()) for m in MODES}


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


HARD_NEGATIVES = ("shift", "section", "same_class")


@dataclass(frozen=True)
class CocolaLocalConfig:
    widths: tuple[int, ...] = (16, 32, 48, 64, 96)  # channels of the stem and each stride-2 block
    expansion: int = 2  # inverted-bottleneck expansion factor of each block
    embedding_dim: int = 128  # size of the projected embedding fed to the bilinear similarity
    dropout: float = 0.1  # before the projection, as in COCOLA
    time_bins: int = 15  # time cells the embedding keeps (1 = COCOLA's global pooling, blind to timing)
    edge_frames: int = 16  # cut at each end of a chunk: there its STFT padding and HPSS medians differ from the song's
    learning_rate: float = 1e-3  # Adam
    batch_size: int = 32  # anchors per contrastive batch (the other anchors' stems are negatives too)
    seed: int = 0
    hard_negatives: tuple[str, ...] = HARD_NEGATIVES  # per anchor, a subset of HARD_NEGATIVES
    shift_seconds: tuple[float, float] = (0.05, 1.0)  # |shift| of the "shift" negative, log-uniform
    section_gap_seconds: float = 5.0  # the "section" negative starts at least this far away
    augmented_probability: float = 0.5  # an anchor uses an augmented version of its stem


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
    """Small COCOLA: HPSS log-mel (2, 64, T) -> conv encoder -> ``time_bins`` time cells (averaged
    over frequency) -> projection -> tanh(LayerNorm). COCOLA pools over time as well; keeping coarse
    time cells lets the bilinear similarity compare *when* things happen in the mix and the stem.
    """

    def __init__(self, config: CocolaLocalConfig):
        super().__init__()
        self.config = config
        w = config.widths
        self.stem = nn.Sequential(nn.Conv2d(2, w[0], 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(w[0]), nn.ReLU6(inplace=True))
        self.blocks = nn.Sequential(*[_InvertedBottleneck(a, b, config.expansion) for a, b in zip(w[:-1], w[1:], strict=True)])
        self.dropout = nn.Dropout(config.dropout)
        self.projection = nn.Linear(w[-1] * config.time_bins, config.embedding_dim)
        self.layer_norm = nn.LayerNorm(config.embedding_dim)
        self.similarity = BilinearSimilarity(config.embedding_dim)

    @staticmethod
    def scale_input(features_db: torch.Tensor) -> torch.Tensor:
        """dB in [-80, 0] -> [0, 1], so a blanked (zero) channel reads as silence."""
        return (features_db + TOP_DB) / TOP_DB

    def prepare(self, features_db: torch.Tensor) -> torch.Tensor:
        """Chunk features in dB ``(B, 2, 64, 501)`` -> model input: ``edge_frames`` cut at each end,
        each channel re-referenced to the max of what is left (floor -80 dB), scaled to [0, 1].

        The cut edges are where a chunk's features depend on the chunk's borders (the STFT's zero
        padding makes an onset there, the HPSS medians mirror), so the input of a chunk equals that
        of the same window cut from a whole song's features (up to bins 80 dB below its max).
        """
        e = self.config.edge_frames
        return self.scale_input(relative_db(features_db[..., e:features_db.shape[-1] - e] if e else features_db))

    def embed(self, features: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.stem(features))  # (B, C, 64 / 2^k, T / 2^k)
        x = F.adaptive_avg_pool1d(x.mean(dim=2), self.config.time_bins)  # (B, C, time_bins)
        x = self.dropout(x.flatten(1))  # (B, C * time_bins): where in the 5 s things happen survives
        return torch.tanh(self.layer_norm(self.projection(x)))  # (B, D)


class CocolaLocalScorer(AdherenceScorer):
    name = "COCOLA-local"

    def __init__(self, model: CocolaLocal):
        self.model = model.eval()

    def pair_scores(self, mix_features, stem_features, mode):
        mix_in = _mask_mode(self.model.prepare(mix_features), mode, 0.0)
        stem_in = _mask_mode(self.model.prepare(stem_features), mode, 0.0)
        return self.model.similarity.pairwise(self.model.embed(mix_in), self.model.embed(stem_in))

    @classmethod
    def from_checkpoint(cls, path: str | Path | None) -> CocolaLocalScorer:
        return cls(load_cocola_local(path))


def _detail(exc: Exception) -> str:
    """The informative line of a ``load_state_dict`` error (its second line when it has several)."""
    lines = str(exc).splitlines()
    return lines[1].strip() if len(lines) > 1 else str(exc)


def save_cocola_local(path: str | Path, model: CocolaLocal, step: int, extra: dict | None = None) -> None:
    """Write a self-describing checkpoint (kind ``cocola_local``) atomically."""
    from liveband.training.checkpoint import save_checkpoint

    config = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(model.config).items()}
    save_checkpoint(path, {"kind": "cocola_local", "config": config, "step": int(step),
                           "model": model.state_dict(), **(extra or {})})


def load_cocola_local(path: str | Path | None) -> CocolaLocal:
    from liveband.training.checkpoint import load_checkpoint

    if path is None or str(path).strip() == "":
        raise LiveBandError(f"{LOCAL_KEY}: not configured; COCOLA-local needs a checkpoint written by train_cocola_local")
    payload = load_checkpoint(path, kind="cocola_local")
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in payload["config"].items()}
    config.setdefault("time_bins", 1)  # checkpoints written before time cells pooled over all time,
    config.setdefault("edge_frames", 0)  # ... saw whole chunks
    config.setdefault("hard_negatives", ())  # ... and were trained on in-batch negatives only
    try:
        model = CocolaLocal(CocolaLocalConfig(**config))
    except TypeError as exc:
        raise LiveBandError(f"{LOCAL_KEY}: {path} has an unknown COCOLA-local config ({exc})") from None
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as exc:
        raise LiveBandError(f"{LOCAL_KEY}: {path} does not match its own COCOLA-local config ({_detail(exc)})") from None
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
            raise LiveBandError(f"{COCOLA_KEY}: {checkpoint} does not match the COCOLA architecture ({_detail(exc)})") from None
        self.model = net.eval()

    def pair_scores(self, mix_features, stem_features, mode):
        # COCOLA blanks a channel with zeros in its dB input, and so do we here.
        mix_in, stem_in = _mask_mode(mix_features, mode, 0.0), _mask_mode(stem_features, mode, 0.0)
        return self.model.similarity.pairwise(self.model.embed(mix_in), self.model.embed(stem_in))


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
