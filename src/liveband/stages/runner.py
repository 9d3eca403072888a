"""What every stage entry point shares: arguments, params loading, logging, timing, errors.

A stage is ``python -m liveband.stages.<name> --profile P [--variant V]``; Snakemake and
DVC run exactly that. Its log goes to ``results/logs/<name>[-<variant>].log`` and stderr;
its wall time, with the environment it ran in (CPU, torch, threads, commit) and the device, is
added to ``results/timings/<name>[-<variant>].json``. Every stage takes ``--device`` (else
``$LIVEBAND_DEVICE``, else auto: CUDA when present); the body reads it as ``args.device``.
Under ``torchrun`` only rank 0 (``$RANK``) writes the log file and the timings.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from liveband.config import Params, load_params
from liveband.errors import LiveBandError
from liveband.schema import check_name
from liveband.utils.atomic import write_json
from liveband.utils.device import add_device_arg, resolve_device
from liveband.utils.environment import environment

log = logging.getLogger("liveband")


def setup_logging(log_path: Path | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        handlers=handlers, force=True)


def training_args(variants_key: str | None = None) -> Callable[[argparse.ArgumentParser], None]:
    """Flags every training stage takes: ``--stop-after`` (and ``--variant`` for variant stages)."""

    def add(parser: argparse.ArgumentParser) -> None:
        if variants_key:
            parser.add_argument("--variant", required=True, help=f"a key of {variants_key} in params.yaml")
        parser.add_argument("--stop-after", type=int, default=None,
                            help="stop after this many steps (as if interrupted); rerun resumes")

    return add


def run_stage(name: str, body: Callable[[Params, argparse.Namespace], None],
              add_args: Callable[[argparse.ArgumentParser], None] | None = None,
              argv: list[str] | None = None) -> int:
    """Parse the common flags, load and validate params, run ``body``; exit 2 on bad input."""
    parser = argparse.ArgumentParser(prog=f"python -m liveband.stages.{name}")
    parser.add_argument("--params", default="params.yaml", help="the params file (default: params.yaml)")
    parser.add_argument("--profile", default=None, help="profile overlay: default, ci or paper")
    parser.add_argument("--results", default="results", help="where tables, logs and timings go")
    add_device_arg(parser)
    if add_args is not None:
        add_args(parser)
    args = parser.parse_args(argv)
    if getattr(args, "variant", None) is not None:
        try:  # the variant names a log file before params are read
            check_name(args.variant, "--variant")
        except LiveBandError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    tag = name + (f"-{args.variant}" if getattr(args, "variant", None) else "")
    results = Path(args.results)
    main = os.environ.get("RANK", "0") == "0"   # torchrun's other ranks log to stderr only
    setup_logging(results / "logs" / f"{tag}.log" if main else None)
    try:
        params = load_params(args.params, args.profile)
        args.device = resolve_device(args.device)  # a machine setting: never part of params
        log.info("stage %s, profile %s, device %s", tag, params.profile, args.device)
        start = time.perf_counter()
        body(params, args)
        seconds = time.perf_counter() - start
        if main:
            write_json(results / "timings" / f"{tag}.json",
                       {"stage": tag, "profile": params.profile, "seconds": round(seconds, 2),
                        "device": str(args.device), "environment": environment()})
        log.info("stage %s done in %.1f s", tag, seconds)
    except LiveBandError as exc:
        log.error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception:
        log.exception("stage %s failed", tag)  # the traceback goes to the stage log too
        raise
    return 0
