"""Slakh2100 layout: validation and indexing. One loader for the real tree and the synthetic one.

Layout: ``<root>/{train,validation,test}/TrackNNNNN/{metadata.yaml, all_src.mid,
MIDI/Sxx.mid, stems/Sxx.flac, mix.flac}``; the redux release's ``omitted/`` is ignored.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from tqdm import tqdm

from liveband.data.audio_io import audio_info, read_audio
from liveband.data.classes import INSTRUMENT_CLASSES, class_id
from liveband.errors import LiveBandError

SPLITS = ("train", "validation", "test")
log = logging.getLogger("liveband")
TRACK_RE = re.compile(r"^Track\d{5}$")
STEM_RE = re.compile(r"^S\d{2}$")
STEM_KEYS = ("audio_rendered", "inst_class", "is_drum", "program_num")
INDEX_COLUMNS = (
    "split", "track", "stem", "inst_class", "class_id", "program_num", "is_drum",
    "root", "stem_path", "mix_path", "duration_s", "sample_rate",
)


@dataclass(frozen=True)
class StemMeta:
    stem: str
    inst_class: str
    program_num: int
    is_drum: bool
    audio_rendered: bool


def _stem_problems(path: Path, name, entry) -> list[str]:
    """Every problem of one ``stems.<name>`` entry (empty when it is valid)."""
    if not isinstance(entry, dict):
        return [f"{path}: stems.{name} is not a mapping"]
    problems = [f"{path}: stems.{name}.{key} missing" for key in STEM_KEYS if key not in entry]
    if not STEM_RE.match(str(name)):
        problems.append(f"{path}: stems.{name}: stem names are S00, S01, ...")
    if "inst_class" in entry and entry["inst_class"] not in INSTRUMENT_CLASSES:
        problems.append(f"{path}: stems.{name}.inst_class '{entry['inst_class']}' is not a Slakh class")
    if "program_num" in entry and not (isinstance(entry["program_num"], int)
                                       and 0 <= entry["program_num"] <= 127):
        problems.append(f"{path}: stems.{name}.program_num must be 0-127")
    return problems


def check_metadata(track_dir: Path) -> tuple[list[StemMeta], list[str]]:
    """Parse ``metadata.yaml``: its valid stems and every problem found (each names file and key)."""
    path = track_dir / "metadata.yaml"
    if not path.is_file():
        return [], [f"{path}: missing metadata.yaml"]
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return [], [f"{path}: malformed YAML"]
    if not isinstance(meta, dict) or not isinstance(meta.get("stems"), dict) or not meta["stems"]:
        return [], [f"{path}: no 'stems' mapping"]
    stems, problems = [], []
    for name, entry in meta["stems"].items():
        found = _stem_problems(path, name, entry)
        problems.extend(found)
        if not found:
            stems.append(StemMeta(str(name), entry["inst_class"], int(entry["program_num"]),
                                  bool(entry["is_drum"]), bool(entry["audio_rendered"])))
    if not problems and not any(s.audio_rendered for s in stems):
        problems.append(f"{path}: no stem has audio_rendered: true")
    return stems, problems


def read_metadata(track_dir: Path) -> list[StemMeta]:
    """Parse and check ``metadata.yaml``; the error names the file and every bad key."""
    stems, problems = check_metadata(track_dir)
    _raise_all(problems, track_dir / "metadata.yaml")
    return stems


def _raise_all(problems: list[str], where: Path) -> None:
    """One one-line error listing every problem (each is also logged on its own line)."""
    if not problems:
        return
    for problem in problems:
        log.error("%s", problem)
    if len(problems) == 1:
        raise LiveBandError(problems[0])
    raise LiveBandError(f"{where}: {len(problems)} problems: " + "; ".join(problems))


def _find_tracks(root: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Track folders per official split, and every missing or empty split folder."""
    tracks, problems = {}, []
    for split in SPLITS:
        split_dir = root / split
        if not split_dir.is_dir():
            problems.append(f"{split_dir}: missing split folder")
            continue
        found = sorted(p for p in split_dir.iterdir() if p.is_dir() and TRACK_RE.match(p.name))
        if not found:
            problems.append(f"{split_dir}: empty split (no TrackNNNNN folders)")
        tracks[split] = found
    return tracks, problems


def find_tracks(root: Path) -> dict[str, list[Path]]:
    """Track folders per official split; missing or empty split folders are errors."""
    root = Path(root)
    if not root.is_dir():
        raise LiveBandError(f"data.slakh_root: {root} is not a directory")
    tracks, problems = _find_tracks(root)
    _raise_all(problems, root)
    return tracks


def _check_file(path: Path, sr: int, full_decode: bool) -> float:
    """Duration in seconds of a mono FLAC at ``sr``; decodes it fully when asked."""
    if full_decode:
        audio, _ = read_audio(path, expected_sr=sr, expected_channels=1)
        return audio.shape[1] / sr
    info = audio_info(path)
    if info.samplerate != sr:
        raise LiveBandError(f"{path}: sample rate {info.samplerate} Hz, expected {sr} Hz")
    if info.channels != 1:
        raise LiveBandError(f"{path}: {info.channels} channels, expected 1")
    return info.frames / sr


def index_tree(root: str | Path, sample_rate: int, full_decode: bool = True, workers: int = 2) -> pd.DataFrame:
    """Validate a Slakh-layout tree and return one row per rendered stem (INDEX_COLUMNS).

    Every stem the metadata marks ``audio_rendered`` must exist and decode at ``sample_rate``
    (mono), as must ``mix.flac``. Paths in the index are relative to ``root``. The whole tree
    is checked in one pass: the error lists every problem found (docs/DATA.md).
    """
    root = Path(root)
    if not root.is_dir():
        raise LiveBandError(f"data.slakh_root: {root} is not a directory")
    tracks, problems = _find_tracks(root)
    jobs = []  # (split, track_dir, stem meta or None for the mix)
    for split, dirs in tracks.items():
        for track_dir in dirs:
            stems, found = check_metadata(track_dir)
            problems.extend(found)
            if found:
                continue
            jobs.append((split, track_dir, None))
            jobs.extend((split, track_dir, s) for s in stems if s.audio_rendered)

    def check(job):
        split, track_dir, stem = job
        path = track_dir / "mix.flac" if stem is None else track_dir / "stems" / f"{stem.stem}.flac"
        if not path.is_file():
            what = "mix" if stem is None else f"stem {stem.stem} (metadata says audio_rendered)"
            return f"{path}: missing {what}"
        try:
            return _check_file(path, sample_rate, full_decode)
        except LiveBandError as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        durations = list(tqdm(pool.map(check, jobs), total=len(jobs), desc="validate", unit="file"))
    problems.extend(d for d in durations if isinstance(d, str))
    _raise_all(problems, root)
    mix_duration = {}
    rows = []
    for (split, track_dir, stem), duration in zip(jobs, durations):
        if stem is None:
            mix_duration[track_dir] = duration
            continue
        rows.append({
            "split": split, "track": track_dir.name, "stem": stem.stem,
            "inst_class": stem.inst_class, "class_id": class_id(stem.inst_class),
            "program_num": stem.program_num, "is_drum": stem.is_drum,
            "root": str(root),
            "stem_path": str((track_dir / "stems" / f"{stem.stem}.flac").relative_to(root)),
            "mix_path": str((track_dir / "mix.flac").relative_to(root)),
            "duration_s": round(min(duration, mix_duration[track_dir]), 4), "sample_rate": sample_rate,
        })
    return pd.DataFrame(rows, columns=list(INDEX_COLUMNS))


def read_index(path: str | Path) -> pd.DataFrame:
    """Read an index CSV written by the data stage; a malformed one is a one-line error."""
    path = Path(path)
    if not path.is_file():
        raise LiveBandError(f"{path}: index not found (run the data stage)")
    try:
        df = pd.read_csv(path)
    except Exception:
        raise LiveBandError(f"{path}: malformed index CSV") from None
    missing = [c for c in INDEX_COLUMNS if c not in df.columns]
    if missing:
        raise LiveBandError(f"{path}: index lacks column '{missing[0]}'")
    return df
