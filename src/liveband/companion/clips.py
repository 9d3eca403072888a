"""The page's audio: every version of each selected example, generated through the evaluation's
own path (``System.play_all`` with the evaluation's per-example seeds, so each clip is the output
the tables scored), levelled by the listening test's loudness rule, written as mono Ogg Vorbis
with a small spectrogram PNG under each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
from scipy.signal import stft  # noqa: E402
from tqdm import tqdm  # noqa: E402

from liveband.errors import LiveBandError  # noqa: E402
from liveband.evaluation.systems import System  # noqa: E402
from liveband.evaluation.test_set import EvalExample, load_example  # noqa: E402
from liveband.listening.stimuli import adherence_mix, fade, loudness_rule  # noqa: E402
from liveband.utils.atomic import atomic_path  # noqa: E402

VORBIS_LEVEL = 0.6          # libsndfile's compression level (0 best quality .. 1 smallest): ~45 kbit/s mono
BUDGET_MB = 40.0            # audio + spectrograms of the whole page (results/companion/)
SPEC_SIZE = (72, 360)       # spectrogram PNG rows x columns (pixels)
SPEC_MAX_HZ = 8000.0
SPEC_FLOOR_DB = -80.0       # full scale = 0 dB; the same scale for every clip


@dataclass(frozen=True)
class Version:
    key: str          # file stem: mix, real, or the system's name
    label: str
    with_mix: bool    # also rendered as "stem + mix"


@dataclass(frozen=True)
class Level:
    """The loudness rule of the listening kit (params listening.*)."""
    lufs: float
    peak_dbfs: float
    fade_seconds: float
    stem_offset_db: float


def generate(examples: list[EvalExample], systems: dict[str, tuple[str, str]], sr: int, channels: int,
             seconds: float, seed: int, device="cpu") -> tuple[list[np.ndarray], list[np.ndarray], dict]:
    """(mixes, real stems, {system: outputs}) over ``seconds`` from each song's start; system
    ``name`` is (kind, checkpoint); example ``ex`` plays with seed ``seed + ex.example`` as in
    stage evaluate."""
    audio = [load_example(ex, sr, channels, seconds) for ex in examples]
    mixes, targets = [a[0] for a in audio], [a[1] for a in audio]
    seeds = [seed + ex.example for ex in examples]
    outputs = {}
    for name, (kind, checkpoint) in tqdm(systems.items(), desc="companion: generate", unit="system"):
        if not Path(checkpoint).exists():
            raise LiveBandError(f"{checkpoint}: checkpoint of evaluation.systems.{name} is missing")
        outputs[name] = System(kind, checkpoint, device).play_all(mixes, targets, targets,
                                                                   [ex.class_id for ex in examples], seeds, sr)
    return mixes, targets, outputs


def level(audio: np.ndarray, sr: int, rule: Level) -> np.ndarray:
    """Mono, at the loudness rule's level, with short fades. (C, T) -> (T,)"""
    mono = np.asarray(audio, dtype=np.float32).mean(axis=0, keepdims=True)
    levelled, _ = loudness_rule(mono, sr, rule.lufs, rule.peak_dbfs)
    return fade(levelled, sr, rule.fade_seconds)[0]


def with_mix(stem: np.ndarray, mix: np.ndarray, n_stems: int, sr: int, rule: Level) -> np.ndarray:
    """The stem over the mix at the listening test's adherence level, then levelled."""
    return level(adherence_mix(stem, mix, n_stems, sr, rule.stem_offset_db), sr, rule)


def write_ogg(path: Path, audio: np.ndarray, sr: int) -> None:
    with atomic_path(path) as tmp:
        sf.write(tmp, audio, sr, format="OGG", subtype="VORBIS", compression_level=VORBIS_LEVEL)


def spectrogram(audio: np.ndarray, sr: int) -> np.ndarray:
    """Log-magnitude STFT up to SPEC_MAX_HZ pooled to SPEC_SIZE (max over each row's bins, mean over
    each column's frames), mapped from [SPEC_FLOOR_DB, 0] dBFS to [0, 1]; low frequencies at the bottom."""
    freqs, _, z = stft(audio, fs=sr, nperseg=1024, noverlap=768, boundary=None)
    mag = 2.0 * np.abs(z[freqs <= SPEC_MAX_HZ])  # scipy scales by the window's sum: a full-scale sine is ~0 dB
    db = 20.0 * np.log10(np.maximum(mag, 1e-8))
    rows, cols = SPEC_SIZE
    db = np.stack([c.max(axis=0) for c in np.array_split(db, rows, axis=0)])  # a tone stays at its level
    db = np.stack([c.mean(axis=1) for c in np.array_split(db, min(cols, db.shape[1]), axis=1)], axis=1)
    return np.clip((db - SPEC_FLOOR_DB) / -SPEC_FLOOR_DB, 0.0, 1.0)[::-1]


def write_spectrogram(path: Path, audio: np.ndarray, sr: int) -> None:
    with atomic_path(path) as tmp:
        plt.imsave(tmp, spectrogram(audio, sr), cmap="magma", vmin=0.0, vmax=1.0, format="png")


def folder_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6


def check_budget(root: Path, shown: str) -> float:
    """The folder's size in MB; a one-line error when it exceeds BUDGET_MB."""
    mb = folder_mb(root)
    if mb > BUDGET_MB:
        raise LiveBandError(f"{shown}: {mb:.1f} MB of audio and spectrograms exceeds the page's "
                            f"{BUDGET_MB:.0f} MB budget (liveband.companion.clips.BUDGET_MB)")
    return mb


@dataclass(frozen=True)
class Clip:
    version: Version
    alone: str                 # paths relative to the folder: <dir>/<key>.ogg (+ .png)
    mixed: str | None          # <dir>/<key>_mix.ogg, or None for the mix itself


def example_dir(example: int) -> str:
    return f"ex{example:04d}"


def write_clips(root: Path, examples: list[EvalExample], mixes: list[np.ndarray], targets: list[np.ndarray],
                outputs: dict[str, list[np.ndarray]], labels: dict[str, str], sr: int,
                rule: Level) -> dict[int, list[Clip]]:
    """Every version of every example under ``root/<example dir>/``: ``{example id: clips}``."""
    versions = ([Version("mix", "Input mix (the band)", False), Version("real", "Real stem", True)]
                + [Version(name, labels.get(name, name), True) for name in outputs])
    out: dict[int, list[Clip]] = {}
    for i, ex in enumerate(tqdm(examples, desc="companion: encode", unit="example")):
        folder = example_dir(ex.example)
        stems = {"mix": mixes[i], "real": targets[i], **{name: outs[i] for name, outs in outputs.items()}}
        clips = []
        for v in versions:
            alone = f"{folder}/{v.key}.ogg"
            _write_pair(root / alone, level(stems[v.key], sr, rule), sr)
            mixed = None
            if v.with_mix:
                mixed = f"{folder}/{v.key}_mix.ogg"
                _write_pair(root / mixed, with_mix(stems[v.key], mixes[i], len(ex.mix_stems) + 1, sr, rule), sr)
            clips.append(Clip(v, alone, mixed))
        out[ex.example] = clips
    return out


def _write_pair(path: Path, audio: np.ndarray, sr: int) -> None:
    write_ogg(path, audio, sr)
    write_spectrogram(path.with_suffix(".png"), audio, sr)
