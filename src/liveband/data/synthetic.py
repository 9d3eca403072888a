"""The embedded default data set: procedurally composed songs in Slakh2100's exact layout.

Written through the same conventions as Slakh (metadata keys, MIDI folder, mono 16-bit FLAC,
mix = sum of stems), so ``liveband.data.slakh.index_tree`` reads it exactly as it reads a
real Slakh2100 tree. The true beat times of every song are kept for validating trackers.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from tqdm import tqdm

from liveband.data.audio_io import write_audio
from liveband.data.compose import compose_song
from liveband.data.render import default_soundfont, render_part, write_midi
from liveband.data.slakh import SPLITS
from liveband.data.timbre import apply_timbre, draw_timbre
from liveband.metrics.loudness import integrated_loudness
from liveband.utils.atomic import atomic_dir

TARGET_PEAK_DB = -1.0
# Loudness each class is balanced to before the mix is normalised (LUFS), +- a random spread.
BALANCE_LUFS = {"Drums": -20.0, "Bass": -21.0}
DEFAULT_BALANCE_LUFS = -24.0


@dataclass(frozen=True)
class TrackJob:
    split: str
    name: str
    seed: int
    extra_offset: int
    song_seconds: tuple[float, float]
    tempo_bpm: tuple[float, float]
    sample_rate: int
    soundfont: str
    timbre: object | None = None  # config TimbreParams; None = no timbre variation


_SOUNDFONT_CACHE: dict[str, bytes] = {}


def _soundfont_bytes(path: str) -> bytes:
    if path not in _SOUNDFONT_CACHE:
        _SOUNDFONT_CACHE[path] = Path(path).read_bytes()
    return _SOUNDFONT_CACHE[path]


def _db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def build_track(job: TrackJob, split_dir: Path) -> dict:
    """Compose, render and write one track folder; returns its beat annotation. Each stem's
    timbre is varied before the mix is summed, so mix = sum of stems still holds."""
    song = compose_song(job.seed, job.song_seconds, job.tempo_bpm, job.extra_offset)
    rng = np.random.default_rng(job.seed + 7)
    timbre_rng = np.random.default_rng([job.seed, 11])
    sr, sf_bytes = job.sample_rate, _soundfont_bytes(job.soundfont)
    stems, timbres = [], []
    for part in song.parts:
        draw = draw_timbre(timbre_rng, job.timbre) if job.timbre is not None else None
        audio = render_part(part, song.duration, sr, sf_bytes, draw["detune_cents"] if draw else 0.0)
        if draw:
            audio = apply_timbre(audio, sr, draw)
        loud = integrated_loudness(audio[None], sr)
        target = BALANCE_LUFS.get(part.inst_class, DEFAULT_BALANCE_LUFS) + rng.uniform(-2.5, 2.5)
        gain = _db_to_gain(target - loud) if np.isfinite(loud) else 1.0
        stems.append(audio * gain * (_db_to_gain(draw["gain_db"]) if draw else 1.0))
        timbres.append(draw)
    mix = np.sum(stems, axis=0)
    peak = float(np.max(np.abs(mix))) or 1.0
    overall_gain = _db_to_gain(TARGET_PEAK_DB) / peak
    stems = [s * overall_gain for s in stems]
    mix = mix * overall_gain

    track_dir = split_dir / job.name
    (track_dir / "stems").mkdir(parents=True)
    (track_dir / "MIDI").mkdir()
    meta_stems = {}
    for i, (part, audio, draw) in enumerate(zip(song.parts, stems, timbres)):
        sid = f"S{i:02d}"
        write_audio(track_dir / "stems" / f"{sid}.flac", audio, sr)
        write_midi(song, [part], track_dir / "MIDI" / f"{sid}.mid")
        loud = integrated_loudness(audio[None], sr)
        meta_stems[sid] = {
            "audio_rendered": True,
            "inst_class": part.inst_class,
            "integrated_loudness": round(float(loud), 3) if np.isfinite(loud) else None,
            "is_drum": part.is_drum,
            "midi_program_name": "Drums" if part.is_drum else _gm_name(part.program),
            "midi_saved": True,
            "plugin_name": "TimGM6mb.sf2 (tinysoundfont)",
            "program_num": part.program,
        }
        if draw is not None:
            meta_stems[sid]["timbre"] = draw
    write_audio(track_dir / "mix.flac", mix, sr)
    write_midi(song, song.parts, track_dir / "all_src.mid")
    metadata = {
        "UUID": str(uuid.UUID(int=int(np.random.default_rng(job.seed).integers(0, 2**63)))),
        "audio_dir": "stems",
        "lmd_midi_dir": None,
        "midi_dir": "MIDI",
        "normalization_factor": round(float(20 * np.log10(overall_gain)), 4),
        "normalized": True,
        "overall_gain": round(float(overall_gain), 6),
        "stems": meta_stems,
        "target_peak": TARGET_PEAK_DB,
    }
    (track_dir / "metadata.yaml").write_text(yaml.safe_dump(metadata, sort_keys=True), encoding="utf-8")
    return {
        "split": job.split, "track": job.name, "tempo_bpm": round(song.tempo, 4),
        "beats_per_bar": song.beats_per_bar, "metre": song.metre.name, "style": song.style,
        "key": f"{song.key_root} {song.mode}",
        "beats": song.beats, "downbeats": song.downbeats,
    }


def _gm_name(program: int) -> str:
    import pretty_midi

    return pretty_midi.program_to_instrument_name(program)


def _run(args):
    job, split_dir = args
    return build_track(job, split_dir)


def plan_jobs(counts: dict[str, int], seed: int, song_seconds, tempo_bpm, sample_rate: int,
              soundfont: str | None, timbre=None) -> list[TrackJob]:
    """Jobs numbered like Slakh (Track00001... continuing across splits)."""
    sf_path = str(soundfont or default_soundfont())
    jobs, k = [], 0
    for split in SPLITS:
        for _ in range(counts[split]):
            k += 1
            jobs.append(TrackJob(split, f"Track{k:05d}", seed * 100_003 + k, k,
                                 tuple(song_seconds), tuple(tempo_bpm), sample_rate, sf_path, timbre))
    return jobs


def build_synthetic(root: str | Path, jobs: list[TrackJob], workers: int = 2) -> list[dict]:
    """Write the whole tree to ``root`` atomically (temp dir, then rename); beat annotations."""
    with atomic_dir(root) as tmp:
        for split in SPLITS:
            (tmp / split).mkdir()
        args = [(job, tmp / job.split) for job in jobs]
        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                beats = list(tqdm(pool.map(_run, args, chunksize=2), total=len(jobs),
                                  desc="render songs", unit="song"))
        else:
            beats = [_run(a) for a in tqdm(args, desc="render songs", unit="song")]
    return beats
