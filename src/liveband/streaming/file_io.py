"""Files in and out of a stream, in fixed memory whatever their length.

``open_mix`` decodes a mix file block by block and converts it to the model's channel count
and sample rate as it goes (``StreamResampler``); ``FileSink`` writes the accompaniment,
aligned with the input, to a temporary file renamed into place at the end.
"""

from __future__ import annotations

import collections
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from liveband.data.audio_io import AudioWriter, audio_info, read_blocks, to_channels
from liveband.errors import LiveBandError
from liveband.streaming.resample import StreamResampler


@dataclass
class MixStream:
    """A mix file as (channels, n) float32 blocks at ``sample_rate``; iterate once."""

    path: Path
    sample_rate: int
    channels: int
    block: int                       # samples per block at the model's rate (the last may differ)
    notes: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[np.ndarray]:
        """Blocks of exactly ``block`` samples (the last one shorter), in the same sizes every pass."""
        info = audio_info(self.path)
        resampler = StreamResampler(info.samplerate, self.sample_rate, self.channels)
        file_block = -(-self.block * info.samplerate // self.sample_rate)
        pending, held = [], 0
        for data in read_blocks(self.path, file_block):
            pending.append(resampler.push(to_channels(data, self.channels)))
            held += pending[-1].shape[-1]
            while held >= self.block:
                joined = np.concatenate(pending, axis=1)
                yield joined[:, : self.block]
                pending, held = [joined[:, self.block:]], held - self.block
        tail = np.concatenate([*pending, resampler.flush()], axis=1)
        for i in range(0, tail.shape[-1], self.block):
            yield tail[:, i:i + self.block]


def open_mix(path: str | Path, sample_rate: int, channels: int, block: int) -> MixStream:
    """Check a mix file up front (readable, complete WAV header, not empty, channels that map to
    ``channels``) and return its stream, with notes on the conversions it makes."""
    path = Path(path)
    info = audio_info(path)
    if info.frames == 0:
        raise LiveBandError(f"{path}: no audio (0 frames)")
    if info.channels != channels and channels != 1 and info.channels != 1:
        raise LiveBandError(f"{path}: cannot map {info.channels} channels to {channels}")
    notes = []
    if info.samplerate != sample_rate:
        notes.append(f"resampled {info.samplerate} -> {sample_rate} Hz")
    if info.channels != channels:
        notes.append(f"{info.channels} -> {channels} channels")
    return MixStream(path, sample_rate, channels, block, notes)


NEAR_SILENT_DBFS = -30.0  # an accompaniment peaking below this is reported as near-silent


def dbfs(peak: float) -> float:
    """A linear peak in dB relative to full scale (-inf for silence)."""
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


class FileSink:
    """The accompaniment aligned with the input, written incrementally to a temporary file beside
    ``path`` that is renamed onto it when the stream ends (also after Ctrl-C; removed on an error).

    Sample i of the file plays with input sample i: it starts with ``lead`` samples of silence
    (tau frames, before any prediction exists) and never runs ahead of the input consumed so far,
    so at most ``lead + hop`` samples wait in memory. Samples are clipped to [-1, 1] (16-bit PCM).

    ``normalize_dbfs``: scale the whole output so its peak is that level. The peak is known only
    at the end, so the stream is first written unclipped as 32-bit float to a second temporary
    file beside ``path``; ``close`` then reads it back block by block (fixed memory), scales,
    clips and writes the real output, renames it into place and removes the float file.
    ``peak`` is the largest |sample| the stream produced (before clipping or normalising) and
    ``warnings`` says when that is near-silent.
    """

    def __init__(self, path: str | Path, sample_rate: int, channels: int, lead: int, flag: str = "--out",
                 normalize_dbfs: float | None = None):
        self.path = Path(path)
        self.writer = self.final = AudioWriter(self.path, sample_rate, channels, flag=flag)
        self.normalize_dbfs, self.scratch = normalize_dbfs, None
        if normalize_dbfs is not None:
            fd, scratch = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".first-pass.wav",
                                           dir=self.path.parent)
            os.close(fd)
            self.scratch = Path(scratch)
            try:
                self.writer = AudioWriter(self.scratch, sample_rate, channels, subtype="FLOAT", flag=flag)
            except BaseException:
                self._remove_scratch()
                self.final.abort()
                raise
        self.channels = channels
        self.pending: collections.deque[np.ndarray] = collections.deque()
        if lead:
            self.pending.append(np.zeros((channels, lead), np.float32))
        self.pending_samples = lead
        self.written = 0
        self.peak = 0.0
        self.warnings: list[str] = []

    def write(self, block: np.ndarray, input_samples: int) -> None:
        """Queue a (C, n) block; write out everything up to ``input_samples``."""
        self.pending.append(block)
        self.pending_samples += block.shape[-1]
        self._emit(input_samples)

    def _emit(self, upto: int) -> None:
        while self.pending and self.written < upto:
            head = self.pending[0]
            n = min(head.shape[-1], upto - self.written)
            piece = head[:, :n]
            if n:
                self.peak = max(self.peak, float(np.abs(piece).max()))
            self.writer.write(piece if self.scratch is not None else np.clip(piece, -1.0, 1.0))
            self.written += n
            self.pending_samples -= n
            if n == head.shape[-1]:
                self.pending.popleft()
            else:
                self.pending[0] = head[:, n:]

    def buffered_samples(self) -> int:
        return self.pending_samples

    def close(self, input_samples: int, ok: bool = True) -> None:
        """Write up to ``input_samples`` (silence where nothing was produced), normalise if asked,
        and rename into place; with ``ok=False`` (an error) remove the temporary files instead."""
        try:
            if ok:
                self._emit(input_samples)
                if self.written < input_samples:
                    self.writer.write(np.zeros((self.channels, input_samples - self.written), np.float32))
                    self.written = input_samples
                self.writer.commit()
                if self.scratch is not None:
                    self._second_pass()
                self.warnings = level_warnings(self.peak, self.normalize_dbfs)
        finally:
            self.pending.clear()
            self.pending_samples = 0
            self.writer.abort()  # nothing left to remove after a commit
            self.final.abort()
            self._remove_scratch()

    def _second_pass(self) -> None:
        scale = 10.0 ** (self.normalize_dbfs / 20.0) / self.peak if self.peak > 0 else 1.0
        for block in read_blocks(self.scratch):
            self.final.write(np.clip(scale * block, -1.0, 1.0))
        self.final.commit()

    def _remove_scratch(self) -> None:
        if self.scratch is not None:
            self.scratch.unlink(missing_ok=True)


def level_warnings(peak: float, normalize_dbfs: float | None = None) -> list[str]:
    """Warnings about an accompaniment whose (pre-normalisation) peak is ``peak``."""
    if peak == 0:
        return ["the accompaniment is silent (every sample is 0)"]
    if dbfs(peak) < NEAR_SILENT_DBFS and normalize_dbfs is None:
        return [f"the accompaniment is near-silent (peak {dbfs(peak):.1f} dBFS); raise it with --gain DB "
                "or --normalize DBFS"]
    if peak > 1 and normalize_dbfs is None:
        return [f"the accompaniment was clipped (peak {dbfs(peak):+.1f} dBFS); lower it with --gain DB "
                "or use --normalize DBFS"]
    return []
