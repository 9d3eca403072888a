"""Accompanying a whole file through the streaming path, with timing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from liveband.builders import AccompanimentBundle
from liveband.data.audio_io import AudioWriter, read_blocks
from liveband.streaming.accompanist import Accompanist
from liveband.streaming.file_io import FileSink, MixStream, dbfs, open_mix


@dataclass
class AccompanimentResult:
    """What ``accompany_file`` wrote (the audio is on disk, not in memory)."""

    samples: int             # output length = input length at the model's rate
    sample_rate: int
    wall_seconds: float      # compute time of the streaming pass
    notes: list[str]
    peak_dbfs: float = 0.0   # the generated stem's peak after --gain, before clipping or normalising
    warnings: list[str] = field(default_factory=list)  # e.g. a near-silent or clipped output

    @property
    def audio_seconds(self) -> float:
        return self.samples / self.sample_rate

    @property
    def real_time_factor(self) -> float:
        """Audio seconds produced per second of compute (> 1 is faster than real time)."""
        return self.audio_seconds / max(self.wall_seconds, 1e-9)


def accompany_array(bundle: AccompanimentBundle, mix: np.ndarray, instrument: int | str, seed: int = 0,
                    chunk: int = 1024, **sampling) -> tuple[np.ndarray, float]:
    """Stream (C, T) mix audio (or mono (T,)) at the bundle's sample rate and channel count
    through ``bundle`` in ``chunk``-sample pieces; -> ((C, T), compute seconds).

    The first tau frames of the result are silence (nothing is predicted for them), so the
    accompaniment lines up with the mix sample for sample.
    """
    out, seconds = accompany_batch(bundle, np.atleast_2d(mix)[None], [instrument], [seed], chunk, **sampling)
    return out[0], seconds


def accompany_batch(bundle: AccompanimentBundle, mixes: np.ndarray, instruments: list[int | str], seeds: list[int],
                    chunk: int = 1024, **sampling) -> tuple[np.ndarray, float]:
    """Stream B equal-length mixes ``(B, C, T)`` side by side through one batched
    :class:`Accompanist`; -> ``((B, C, T), seconds)``. Row b equals
    ``accompany_array(bundle, mixes[b], instruments[b], seeds[b])`` (up to float rounding):
    batching only shares the per-frame work, as an evaluation over many files wants.
    """
    acc = Accompanist(bundle, instruments, seed=seeds, **sampling)
    x = torch.from_numpy(np.ascontiguousarray(mixes, dtype=np.float32))                # (B, C, T)
    pieces = [torch.zeros(x.shape[0], acc.channels, acc.tau * acc.hop)]
    start = time.perf_counter()
    for i in range(0, x.shape[-1], chunk):
        pieces.append(acc.push(x[..., i:i + chunk]))
    seconds = time.perf_counter() - start
    out = torch.cat(pieces, dim=-1).numpy()
    n = mixes.shape[-1]
    if out.shape[-1] < n:
        out = np.pad(out, ((0, 0), (0, 0), (0, n - out.shape[-1])))
    return out[..., :n], seconds


def accompany_file(bundle: AccompanimentBundle, mix_path: str | Path, instrument: int | str, out: str | Path,
                   preview: str | Path | None = None, seed: int = 0, block: int = 16384,
                   gain_db: float = 0.0, normalize_dbfs: float | None = None, **sampling) -> AccompanimentResult:
    """Stream a mix file through ``bundle`` into ``out`` (and ``preview``) in fixed memory.

    The mix is decoded, converted and pushed ``block`` samples at a time; the accompaniment is
    written as it comes (``FileSink``, aligned with the input). Same audio as ``accompany_array``
    on the whole converted mix, up to float rounding and 16-bit PCM. The preview (left = input,
    right = the written accompaniment, both divided by ``max(1, peak)``) is written in a second
    pass that decodes the mix again beside the finished ``out``: the peak is known only at the end.

    Level: every generated sample is multiplied by ``gain_db`` (dB); or, with ``normalize_dbfs``,
    the finished stem is scaled so its peak is that many dBFS, in a second pass over the stream's
    temporary float file before the rename (``FileSink``), so memory stays fixed.
    """
    ae = bundle.autoencoder.cfg
    mix = open_mix(mix_path, ae.sample_rate, ae.channels, block)
    acc = Accompanist(bundle, instrument, seed=seed, **sampling)
    sink = FileSink(out, ae.sample_rate, ae.channels, lead=acc.tau * acc.hop, normalize_dbfs=normalize_dbfs)
    gain = 10.0 ** (gain_db / 20.0)
    samples, peak, seconds, ok = 0, 0.0, 0.0, False
    try:
        for chunk in mix:
            samples += chunk.shape[-1]
            peak = max(peak, float(np.abs(chunk).max()))
            start = time.perf_counter()
            generated = acc.push(torch.from_numpy(chunk)[None])[0].numpy()          # (C, k * hop)
            seconds += time.perf_counter() - start
            sink.write(generated * gain if gain != 1.0 else generated, samples)
        ok = True
    finally:
        sink.close(samples, ok=ok)
    if preview is not None:
        write_preview(mix, out, preview, scale=1.0 / max(1.0, peak))
    return AccompanimentResult(samples, ae.sample_rate, seconds, mix.notes, dbfs(sink.peak), sink.warnings)


def write_preview(mix: MixStream, accompaniment: str | Path, preview: str | Path, scale: float) -> None:
    """Stereo listening file: left = the mix (mono), right = the accompaniment file (clipped to
    [-1, 1] when written), both times ``scale``; block by block, beside each other."""
    with AudioWriter(preview, mix.sample_rate, 2, flag="--preview") as writer:
        for left, right in zip(mix, read_blocks(accompaniment, mix.block), strict=True):
            writer.write(scale * np.stack([left.mean(0), right.mean(0)]))
