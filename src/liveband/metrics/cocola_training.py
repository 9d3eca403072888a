"""Contrastive training of COCOLA-local with hard negatives, so that it scores timing, not only
"same song".

COCOLA's recipe contrasts a mix chunk with the stems of the other chunks in the batch. Those
come from other songs, so a model can win by recognising the song (key, tempo, timbre) and
ignore whether the stem is *in time* with the mix. Here each anchor (a 5 s mix window) also
meets, among its candidates, hard negatives built from real audio (never a roll or pad of the
feature map, which a model could detect by its edges):

- ``shift``: its own stem, the window moved by 50 ms to 1 s (log-uniform, either direction);
- ``section``: its own stem from another part of the same song;
- ``same_class``: a stem of the same instrument class from another song.

Positives (and the anchor's hard negatives with them, so the version never gives the answer
away) come, with ``augmented_probability``, from an augmented version of the stem: the
caller's choice, e.g. the stem through the project's autoencoder with a gain change and a
low-level noise floor, so that decoder artefacts are not read as a mismatch.

Every song's features are computed once over its whole length (:func:`hpss_mel_db`, absolute
dB); a window is a slice of them at any 10 ms frame. Model input drops the window's edge frames
and re-references what is left (:meth:`CocolaLocal.prepare`), so a slice at frame f gives the
model the same input as the audio chunk starting at sample 160 f would in evaluation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from liveband.errors import LiveBandError
from liveband.metrics.cocola import (
    CHUNK_SECONDS,
    HARD_NEGATIVES,
    SAMPLE_RATE,
    CocolaLocal,
    CocolaLocalConfig,
    hpss_mel_db,
)
from liveband.metrics.loudness import resample

FRAME_RATE = 100  # feature frames per second (10 ms hop)
WINDOW_FRAMES = int(CHUNK_SECONDS * FRAME_RATE) + 1  # 501: the frames of one 5 s chunk


@dataclass(frozen=True)
class TrainingSong:
    """One training song: its mix (the other stems), versions of one stem and the stem's class.

    ``stems[0]`` is the stem as it is; any further versions are augmentations of it with the same
    timing (e.g. through the autoencoder, gain, noise). Mono audio at the caller's rate.
    """

    mix: np.ndarray
    stems: tuple[np.ndarray, ...]
    label: str


@dataclass(frozen=True)
class SongFeatures:
    mix: torch.Tensor  # (2, 64, T) absolute dB, float16
    stems: torch.Tensor  # (V, 2, 64, T): the stem's versions
    label: str


def song_features(song: TrainingSong, sr: int) -> SongFeatures:
    """Whole-song features of the mix and every stem version, cut to the shortest of them."""
    if not song.stems:
        raise LiveBandError("COCOLA-local: a training song has no stem")
    audio = [resample(np.asarray(x, dtype=np.float32), sr, SAMPLE_RATE) for x in (song.mix, *song.stems)]
    n = min(len(x) for x in audio)
    feats = torch.from_numpy(np.stack([hpss_mel_db(x[:n]) for x in audio])).to(torch.float16)
    return SongFeatures(feats[0], feats[1:], song.label)


def gain_and_noise(audio: np.ndarray, rng: np.random.Generator, gain_db: tuple[float, float] = (-6.0, 6.0),
                   noise_dbfs: tuple[float, float] = (-70.0, -40.0)) -> np.ndarray:
    """``audio`` with a random gain, plus white noise at a random RMS level (dBFS): the levels a
    decoder's noise floor and a generator's loudness errors produce."""
    gain = 10 ** (rng.uniform(*gain_db) / 20)
    noise_rms = 10 ** (rng.uniform(*noise_dbfs) / 20)
    return (audio * gain + noise_rms * rng.standard_normal(len(audio))).astype(np.float32)


class WindowSampler:
    """Draws training batches: anchors, their positives and their hard negatives, as model input."""

    def __init__(self, songs: Sequence[SongFeatures], config: CocolaLocalConfig, rng: np.random.Generator):
        unknown = set(config.hard_negatives) - set(HARD_NEGATIVES)
        if unknown:
            raise LiveBandError(f"COCOLA-local: unknown hard negative '{sorted(unknown)[0]}' "
                                f"(choose from {', '.join(HARD_NEGATIVES)})")
        short = [i for i, s in enumerate(songs) if s.mix.shape[-1] < WINDOW_FRAMES]
        if short:
            raise LiveBandError(f"COCOLA-local: training song {short[0]} is shorter than {CHUNK_SECONDS:g} s")
        if len(songs) < 2:
            raise LiveBandError(f"COCOLA-local: need at least 2 training songs to contrast, got {len(songs)}")
        room = 2 * int(round(config.shift_seconds[0] * FRAME_RATE))
        tight = [i for i, s in enumerate(songs) if s.mix.shape[-1] - WINDOW_FRAMES < room]
        if "shift" in config.hard_negatives and tight:
            raise LiveBandError(f"COCOLA-local: training song {tight[0]} is too short to shift a 5 s window by "
                                f"{config.shift_seconds[0]:g} s both ways; give songs of at least "
                                f"{CHUNK_SECONDS + 2 * config.shift_seconds[0]:g} s")
        self.songs, self.config, self.rng = songs, config, rng
        self.prepare = CocolaLocal(config).prepare  # a function of the config only: no weights are used
        self.by_label: dict[str, list[int]] = {}
        for i, s in enumerate(songs):
            self.by_label.setdefault(s.label, []).append(i)

    def _window(self, features: torch.Tensor, start: int) -> torch.Tensor:
        """The 5 s window at frame ``start`` as model input (:meth:`CocolaLocal.prepare`)."""
        return self.prepare(features[..., start:start + WINDOW_FRAMES].float())

    def _shifted_start(self, start: int, last: int) -> int:
        """``start`` moved by a log-uniform shift in a random direction; when the song has no room
        for it, the other direction, else the largest shift it has room for (at least the minimum)."""
        lo, hi = self.config.shift_seconds
        shift = max(1, int(round(math.exp(self.rng.uniform(math.log(lo), math.log(hi))) * FRAME_RATE)))
        direction = 1 if self.rng.random() < 0.5 else -1
        for d in (direction, -direction):
            if 0 <= start + d * shift <= last:
                return start + d * shift
        return last if last - start >= start else 0

    def _section_start(self, start: int, last: int) -> int:
        gap = int(self.config.section_gap_seconds * FRAME_RATE)
        options = np.concatenate([np.arange(0, max(0, start - gap + 1)), np.arange(min(last + 1, start + gap), last + 1)])
        if len(options) == 0:  # a short song: the farthest window from the anchor
            return 0 if start > last - start else last
        return int(self.rng.choice(options))

    def _other_song(self, i: int) -> int:
        same = [j for j in self.by_label[self.songs[i].label] if j != i]
        pool = same or [j for j in range(len(self.songs)) if j != i]
        return int(self.rng.choice(pool))

    def _version(self, song: SongFeatures) -> int:
        n = song.stems.shape[0]
        if n > 1 and self.rng.random() < self.config.augmented_probability:
            return int(self.rng.integers(1, n))
        return 0

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(anchors (B, 2, 64, F), candidates (B * (1 + K), 2, 64, F))`` as model input: candidate
        i is anchor i's positive, then come the K hard negatives of each anchor (anchor-major).
        Each anchor and its own candidates share one random mode mask."""
        kinds = self.config.hard_negatives
        anchors, positives, negatives = [], [], []
        for i in self.rng.integers(0, len(self.songs), size):
            song = self.songs[i]
            last = song.mix.shape[-1] - WINDOW_FRAMES
            start, version = int(self.rng.integers(0, last + 1)), self._version(song)
            stem = song.stems[version]
            keep = _mode_mask(int(self.rng.integers(0, 3)))
            anchors.append(self._window(song.mix, start) * keep)
            positives.append(self._window(stem, start) * keep)
            for kind in kinds:
                if kind == "shift":
                    window = self._window(stem, self._shifted_start(start, last))
                elif kind == "section":
                    window = self._window(stem, self._section_start(start, last))
                else:
                    other = self.songs[self._other_song(i)]
                    other_start = int(self.rng.integers(0, other.mix.shape[-1] - WINDOW_FRAMES + 1))
                    window = self._window(other.stems[self._version(other)], other_start)
                negatives.append(window * keep)
        return torch.stack(anchors), torch.stack(positives + negatives)


def _mode_mask(choice: int) -> torch.Tensor:
    """``(2, 1, 1)`` keep-mask of a mode on the model's input scale (0 = silence, as the scorer
    blanks a channel): 0 full, 1 harmonic only, 2 percussive only."""
    keep = torch.ones(2, 1, 1)
    if choice:
        keep[2 - choice] = 0.0
    return keep


def contrastive_loss(model: CocolaLocal, anchors: torch.Tensor, candidates: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """InfoNCE: anchor i must pick candidate i (its positive) among all candidates: every other
    anchor's positive and hard negatives, and its own hard negatives. Returns the loss and
    ``accuracy`` (positive ranked first) and ``hard_accuracy`` (positive above each of its own
    hard negatives; nan without hard negatives)."""
    b = len(anchors)
    logits = model.similarity.matrix(model.embed(anchors), model.embed(candidates))  # (B, B (1 + K))
    target = torch.arange(b)
    with torch.no_grad():
        accuracy = float((logits.argmax(dim=1) == target).float().mean())
        k = (len(candidates) - b) // b
        own = logits[:, b:].reshape(b, b, k)[target, target] if k else logits[:, :0]  # (B, K)
        hard = float((logits[target, target][:, None] > own).float().mean()) if k else float("nan")
    return F.cross_entropy(logits, target), {"accuracy": accuracy, "hard_accuracy": hard}


def train_cocola_local(songs: Sequence[TrainingSong], config: CocolaLocalConfig, steps: int, sr: int = SAMPLE_RATE,
                       log: Callable[[dict], None] | None = None, log_every: int = 50) -> tuple[CocolaLocal, list[dict]]:
    """Train COCOLA-local on songs (mono audio at ``sr``); pure apart from ``log``.

    Each step draws ``batch_size`` anchors (random song, random 5 s window, random mode mask)
    with their positives and ``config.hard_negatives`` (see the module notes) and minimises
    :func:`contrastive_loss`. Returns the model (eval mode) and the logged history (step, loss,
    accuracy, hard_accuracy, chance_loss, seconds). Threads are the caller's choice; on the
    shared 2-core machine one torch thread was fastest.
    """
    if not songs:
        raise LiveBandError("COCOLA-local: no training songs")
    return train_on_features([song_features(s, sr) for s in songs], config, steps, log, log_every)


def train_on_features(features: Sequence[SongFeatures], config: CocolaLocalConfig, steps: int,
                      log: Callable[[dict], None] | None = None, log_every: int = 50) -> tuple[CocolaLocal, list[dict]]:
    """:func:`train_cocola_local` on features already computed by :func:`song_features`."""
    sampler = WindowSampler(features, config, np.random.default_rng(config.seed))
    torch.manual_seed(config.seed)
    model = CocolaLocal(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    history, started = [], time.perf_counter()
    model.train()
    for step in range(1, steps + 1):
        anchors, candidates = sampler.batch(config.batch_size)
        loss, stats = contrastive_loss(model, anchors, candidates)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % log_every == 0 or step == steps:
            record = {"step": step, "loss": float(loss.detach()), **stats,
                      "chance_loss": math.log(len(candidates)), "seconds": time.perf_counter() - started}
            history.append(record)
            if log is not None:
                log(record)
    return model.eval(), history
