"""Reading and writing audio with one-line errors, and sample-rate / channel conversion."""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
from collections.abc import Iterator
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from liveband.errors import LiveBandError
from liveband.utils.atomic import atomic_path

OUTPUT_FORMATS = {".wav": "WAV", ".flac": "FLAC"}  # what liveband writes (16-bit PCM); by suffix
READ_BLOCK = 65536  # frames per block when decoding


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    """soundfile's header info; one-line errors for a missing, unreadable or truncated WAV file."""
    path = Path(path)
    if not path.is_file():
        raise LiveBandError(f"{path}: audio file not found")
    try:
        info = sf.info(str(path))
    except Exception as exc:
        raise LiveBandError(f"{path}: not a readable audio file ({_short(exc)})") from None
    if info.format in ("WAV", "WAVEX", "RF64"):
        _check_wav_data(path)
    return info


def _check_wav_data(path: Path) -> None:
    """libsndfile shortens a WAV whose data chunk runs past the end of the file without a word:
    compare the size the header declares with the bytes present."""
    with open(path, "rb") as f:
        head = f.read(12)
        order = ">" if head[:4] == b"RIFX" else "<"
        ds64_data = None
        for _ in range(10_000):  # chunks before the data chunk
            chunk = f.read(8)
            if len(chunk) < 8:
                return  # no data chunk: libsndfile would not have opened it
            cid, size = chunk[:4], struct.unpack(order + "I", chunk[4:])[0]
            if cid == b"ds64" and size >= 16:
                ds64_data = struct.unpack("<Q", f.read(16)[8:])[0]  # RF64: 64-bit RIFF and data sizes
                f.seek(size - 16 + (size & 1), os.SEEK_CUR)
            elif cid == b"data":
                declared = ds64_data if size == 0xFFFFFFFF and ds64_data is not None else size
                present = os.fstat(f.fileno()).st_size - f.tell()
                if declared not in (0, 0xFFFFFFFF) and present < declared:  # 0 / -1: size left open
                    raise LiveBandError(f"{path}: truncated audio (the header declares {declared} bytes "
                                        f"of samples, {present} are present)")
                return
            else:
                f.seek(size + (size & 1), os.SEEK_CUR)


def read_blocks(path: str | os.PathLike, block: int = READ_BLOCK) -> Iterator[np.ndarray]:
    """Decode a file block by block to float32 (C, n) at its own rate and channel count.

    Memory is one block whatever the length. A truncated or corrupt file (a decoder error,
    or fewer frames than the header declares) or non-finite samples raise LiveBandError, at
    the block where it shows (a truncated WAV already when it is opened).
    """
    path = Path(path)
    info = audio_info(path)
    frames = 0
    try:
        with sf.SoundFile(str(path)) as f:
            for data in f.blocks(blocksize=block, dtype="float32", always_2d=True):
                if not np.isfinite(data).all():
                    raise LiveBandError(f"{path}: contains NaN or inf samples")
                frames += data.shape[0]
                yield np.ascontiguousarray(data.T)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise LiveBandError(f"{path}: corrupt or truncated audio ({_short(exc)})") from None
    if info.frames > 0 and frames < info.frames:
        raise LiveBandError(f"{path}: truncated audio ({frames} of {info.frames} frames)")


def read_audio(
    path: str | os.PathLike,
    expected_sr: int | None = None,
    expected_channels: int | None = None,
) -> tuple[np.ndarray, int]:
    """Decode a whole file to float32 (C, T); errors name the file.

    A truncated or corrupt file, a wrong rate or channel count, or non-finite samples each
    raise LiveBandError (see ``read_blocks``). Decoding the whole file is what catches
    truncation in FLAC.
    """
    path = Path(path)
    info = audio_info(path)
    if expected_sr is not None and info.samplerate != expected_sr:
        raise LiveBandError(f"{path}: sample rate {info.samplerate} Hz, expected {expected_sr} Hz")
    if expected_channels is not None and info.channels != expected_channels:
        raise LiveBandError(f"{path}: {info.channels} channels, expected {expected_channels}")
    blocks = [np.zeros((info.channels, 0), np.float32), *read_blocks(path, max(info.frames, READ_BLOCK))]
    return np.concatenate(blocks, axis=1), info.samplerate


def output_format(path: str | os.PathLike, flag: str | None = None) -> str:
    """soundfile's format name for an output path, from its suffix: only .wav and .flac (16-bit
    PCM) are written; anything else (.mp3, .ogg, .txt, none) is a one-line error naming ``flag``."""
    fmt = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise LiveBandError(f"{_named(flag, path)}: cannot write audio as '{Path(path).suffix or 'no suffix'}' "
                            "(use .wav or .flac)")
    return fmt


class AudioWriter:
    """An audio file written block by block to a temporary file beside ``path`` (``atomic_path``),
    renamed onto ``path`` by ``commit``; ``abort`` (or an error) removes it. A reader never sees
    a partial file and a previous file stays intact until the commit. Any write failure (a full
    disk, a vanished folder) is a one-line error naming ``path``, with the temporary removed.
    """

    def __init__(self, path: str | os.PathLike, sample_rate: int, channels: int, subtype: str = "PCM_16",
                 flag: str | None = None):
        self.path, self.flag = Path(path), flag
        fmt = output_format(self.path, flag)
        self._atomic = self._file = None
        atomic = atomic_path(self.path)
        with self._errors():
            self.tmp = atomic.__enter__()  # a hand-driven atomic_path: the file outlives this call
            self._atomic = atomic
            self._file = sf.SoundFile(str(self.tmp), "w", samplerate=sample_rate, channels=channels,
                                      format=fmt, subtype=subtype)
        self.frames = 0

    def write(self, audio: np.ndarray) -> None:
        """Append (C, n) float audio."""
        with self._errors():
            self._file.write(np.ascontiguousarray(np.asarray(audio, np.float32).T))
        self.frames += audio.shape[-1]

    def commit(self) -> None:
        with self._errors():
            self._file.close()
            self._file = None
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(None, None, None)  # permissions from the umask, then rename into place

    def abort(self) -> None:
        """Remove the temporary file (safe to call again, or after a failed commit)."""
        if self._file is not None:
            with contextlib.suppress(Exception):
                self._file.close()
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            stop = LiveBandError(f"{self.path}: aborted")
            atomic.__exit__(type(stop), stop, None)  # atomic_path removes the temporary file

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except LiveBandError:
            self.abort()
            raise
        # soundfile reports a short write with an AssertionError, libsndfile errors as RuntimeError
        except (OSError, RuntimeError, AssertionError) as exc:
            self.abort()
            reason = _short(exc)
            with contextlib.suppress(OSError):  # libsndfile says only "System error." on a full disk
                if not isinstance(exc, OSError) and shutil.disk_usage(self.path.parent).free < 2**20:
                    reason += "; the disk is full"
            raise LiveBandError(f"{_named(self.flag, self.path)}: cannot write ({reason})") from None


def write_audio(path: str | os.PathLike, audio: np.ndarray, sr: int, subtype: str | None = None) -> None:
    """Write (C, T) or (T,) float audio atomically; format from the suffix (.flac, .wav)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None]
    if not np.isfinite(audio).all():
        raise LiveBandError(f"{path}: refusing to write NaN or inf samples")
    with AudioWriter(path, sr, audio.shape[0], subtype or "PCM_16") as writer:
        writer.write(audio)


def resample(audio: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Polyphase resampling along the last axis (band-limited, no phase shift)."""
    if sr_from == sr_to:
        return audio
    g = gcd(sr_from, sr_to)
    return resample_poly(audio, sr_to // g, sr_from // g, axis=-1).astype(np.float32)


def to_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """(C, T) -> (channels, T): mono is duplicated, stereo downmixed by averaging."""
    if audio.shape[0] == channels:
        return audio
    if channels == 1:
        return audio.mean(axis=0, keepdims=True)
    if audio.shape[0] == 1:
        return np.repeat(audio, channels, axis=0)
    raise LiveBandError(f"cannot map {audio.shape[0]} channels to {channels}")


def load_for_model(path: str | os.PathLike, sr: int, channels: int) -> tuple[np.ndarray, list[str]]:
    """Any rate / channel count in, (channels, T) at ``sr`` out, with notes on what changed."""
    audio, file_sr = read_audio(path)
    notes = []
    if file_sr != sr:
        notes.append(f"resampled {file_sr} -> {sr} Hz")
        audio = resample(audio, file_sr, sr)
    if audio.shape[0] != channels:
        notes.append(f"{audio.shape[0]} -> {channels} channels")
        audio = to_channels(audio, channels)
    return audio, notes


def _named(flag: str | None, path) -> str:
    return f"{flag}: {path}" if flag else str(path)


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__
