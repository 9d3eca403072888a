"""Extract the tensors of another project's training checkpoint without running any of its code.

``python -m liveband.metrics.convert_weights IN.ckpt OUT.pt`` turns a torch zip checkpoint
(a Lightning ``.ckpt`` whose metadata names classes this process cannot or must not import)
into a plain ``{"state_dict": {name: tensor}}`` file that ``torch.load(weights_only=True)``
reads, so the metric backends (``metrics.fad.*_checkpoint``, ``metrics.cocola.checkpoint``)
can use it.

Why no code can run: the pickle stream is read by a pure-Python unpickler whose
``find_class`` never imports or returns anything named by the file. It returns only
(a) two tensor-rebuilding functions and a dict type defined below, for the exact names torch
writes, or (b) a fresh subclass of the inert :class:`_Inert` for every other name. The
opcodes that call something (REDUCE, NEWOBJ, INST, OBJ) can therefore only call those,
and BUILD (``__setstate__``/attribute writes) is refused on every object but our own.
Storages come from the zip's raw data records by ``persistent_load``; nothing else is read.
Old (non-zip) torch files and plain pickles are refused unread.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import zipfile
from pathlib import Path

import torch

from liveband.errors import LiveBandError
from liveband.utils.atomic import atomic_path

_STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool, "UntypedStorage": torch.uint8,
}


class _Inert(dict):
    """Stand-in for any class the file names: accepts any arguments and items, does nothing."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def append(self, item):
        pass

    def extend(self, items):
        pass


class _StateDict(dict):
    """``collections.OrderedDict`` as written by ``state_dict()`` (its ``_metadata`` is dropped)."""

    def __init__(self, *args, **kwargs):
        super().__init__()


class _StorageType:
    __slots__ = ("dtype",)

    def __init__(self, dtype: torch.dtype):
        self.dtype = dtype


def _rebuild_tensor(storage, offset, size, stride, *_ignored):
    if not (isinstance(storage, torch.Tensor) and isinstance(offset, int)
            and all(isinstance(v, int) for v in (*size, *stride))):
        raise pickle.UnpicklingError("malformed tensor record")
    return torch.as_strided(storage, tuple(size), tuple(stride), offset).clone()


def _rebuild_parameter(data, *_ignored):
    if not isinstance(data, torch.Tensor):
        raise pickle.UnpicklingError("malformed parameter record")
    return data


_ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("collections", "OrderedDict"): _StateDict,
    **{("torch", name): _StorageType(dtype) for name, dtype in _STORAGE_DTYPES.items()},
}


def _refuse_build(unpickler) -> None:
    state = unpickler.stack.pop()
    del state
    if not isinstance(unpickler.stack[-1], (_Inert, _StateDict)):
        raise pickle.UnpicklingError("object state on a non-inert object")


class _InertUnpickler(pickle._Unpickler):  # the pure-Python one: its opcode table can be changed
    dispatch = {**pickle._Unpickler.dispatch, pickle.BUILD[0]: _refuse_build}

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str):
        import io

        super().__init__(io.BytesIO(data))
        self._archive, self._prefix, self._storages = archive, prefix, {}

    def find_class(self, module: str, name: str):
        allowed = _ALLOWED.get((module, name))
        if allowed is not None:
            return allowed
        return type(str(name)[:64], (_Inert,), {"__module__": "liveband.inert"})

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)):
            raise pickle.UnpicklingError("unsupported persistent record")
        key, dtype = pid[2], pid[1].dtype
        if key not in self._storages:
            raw = bytearray(self._archive.read(f"{self._prefix}/data/{key}"))
            self._storages[key] = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        return self._storages[key]


def extract_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """The ``state_dict`` tensors of a torch zip checkpoint, read without running its code."""
    path = Path(path)
    if not path.is_file():
        raise LiveBandError(f"{path}: file not found")
    if not zipfile.is_zipfile(path):
        raise LiveBandError(f"{path}: not a torch zip checkpoint (old torch format or plain pickle: refused)")
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
            if len(pickles) != 1:
                raise LiveBandError(f"{path}: not a torch zip checkpoint (no data.pkl)")
            prefix = pickles[0].split("/")[0]
            byteorder = f"{prefix}/byteorder"
            if byteorder in archive.namelist() and archive.read(byteorder) != b"little":
                raise LiveBandError(f"{path}: big-endian checkpoints are not supported")
            payload = _InertUnpickler(archive.read(pickles[0]), archive, prefix).load()
    except LiveBandError:
        raise
    except Exception as exc:  # malformed pickle, missing records, bad shapes
        raise LiveBandError(f"{path}: unreadable checkpoint ({type(exc).__name__}: {str(exc)[:80]})") from None
    state = payload.get("state_dict", payload) if isinstance(payload, dict) else None
    tensors = {str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)} if isinstance(state, dict) else {}
    if not tensors:
        raise LiveBandError(f"{path}: holds no state_dict of tensors")
    return tensors


def convert(src: str | Path, dst: str | Path) -> int:
    """Write the tensors of ``src`` to ``dst`` as ``{"state_dict": ...}``; returns the tensor count."""
    tensors = extract_tensors(src)
    with atomic_path(dst) as tmp:
        torch.save({"state_dict": tensors}, tmp)
    return len(tensors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m liveband.metrics.convert_weights",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("src", help="foreign torch checkpoint (.ckpt, .pt, .pth)")
    parser.add_argument("dst", help="output file of plain tensors (loads with weights_only=True)")
    args = parser.parse_args(argv)
    try:
        n = convert(args.src, args.dst)
    except LiveBandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.dst}: {n} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
