"""Output paths checked before any work: never an input, never each other, and writable.

A command that computes for minutes and then fails to write (or silently overwrites the
file it read) wastes the run or the user's data; these checks turn both into a one-line
error up front. Writes that still fail later (a full disk) are reported by the writers.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from liveband.errors import LiveBandError

PathLike = str | os.PathLike


def check_outputs(outputs: dict[str, PathLike | None], inputs: dict[str, PathLike | None]) -> None:
    """Raise LiveBandError unless every output can be written without touching another path.

    ``outputs`` maps a flag (``--out``) to its path, ``inputs`` a description (``the input``,
    ``--checkpoint``) to its path; ``None`` entries are skipped. An output may not be the
    same file as an input or an earlier output (also via ``./``, ``..``, a symlink or a hard
    link), nor a folder or a device, and its folder must exist or be creatable, and be writable.
    """
    taken = [(name, Path(p)) for name, p in inputs.items() if p is not None]
    for flag, raw in outputs.items():
        if raw is None:
            continue
        path = Path(raw)
        for name, other in taken:
            if same_file(path, other):
                raise LiveBandError(f"{flag}: {raw} would overwrite {name} ({other}); choose another name")
        check_writable(flag, raw)
        taken.append((flag, path))


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: equal after resolving symlinks and ``..``, or one inode."""
    if a.resolve() == b.resolve():
        return True
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return False


def check_writable(flag: str, raw: PathLike) -> None:
    """A file can be created at ``raw``: not a folder or special file, its folder (or the nearest
    existing ancestor) is a folder this process can create files in (tried, not guessed: a
    permission check cannot see read-only mounts, /proc, or root's rights)."""
    path = Path(raw)
    if str(raw).endswith(("/", os.sep)) or path.is_dir():
        raise LiveBandError(f"{flag}: {raw} is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise LiveBandError(f"{flag}: {raw} exists and is not a regular file")
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise LiveBandError(f"{flag}: {raw}: {folder} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise LiveBandError(f"{flag}: {raw}: cannot write in {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)


@contextlib.contextmanager
def write_errors(flag: str, path: PathLike):
    """Turn an OS-level failure while writing ``path`` into a one-line error naming both."""
    try:
        yield
    except OSError as exc:
        raise LiveBandError(f"{flag}: {path}: cannot write ({exc.strerror or exc})") from None
