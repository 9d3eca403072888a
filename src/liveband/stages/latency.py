"""Stage `latency`: Table 5, per-step streaming latency of the trained default model and of the
paper-size architecture (random weights), eager and torch.compile, beside the paper's RTX 3090.

Outputs ``results/table5.{csv,md,tex}``, ``results/latency.json`` (every row, the KV-cache
speedup, the environment) and ``results/figures/latency.png`` (per-step time CDF against the
frame budget). Settings: ``LatencySettings`` defaults, overridden by a ``latency`` params
section when there is one. Machine settings (device, threads) are flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

import torch

from liveband.builders import load_bundle
from liveband.errors import LiveBandError
from liveband.reports.tables import write_table
from liveband.stages.runner import run_stage
from liveband.streaming import latency
from liveband.utils.atomic import write_json

log = logging.getLogger("liveband.latency")


def run(params, args: argparse.Namespace) -> None:
    settings = latency.LatencySettings.from_params(params)
    if args.checkpoint is not None:
        settings = dataclasses.replace(settings, checkpoint=args.checkpoint)
    device = args.device
    if args.threads < 1:
        raise LiveBandError(f"--threads: must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    trained = load_bundle(settings.checkpoint)
    env = latency.environment(device)
    log.info("latency on %s, %d thread(s), torch %s", env["device_name"], env["threads"], env["torch"])
    variant = trained.extra.get("variant")
    weights = f"trained ({variant})" if variant else "checkpoint without a training record"
    rows = latency.measure_model(f"{params.profile} profile", weights, trained, settings, device)
    if settings.paper_size:
        paper = latency.random_bundle(settings.paper_autoencoder, settings.paper_generator,
                                      tau_frames=trained.tau_frames, seed=settings.seed)
        rows += latency.measure_model("paper size", "random (timing only)", paper, settings, device)
    env["load_average_end"] = latency.environment(device)["load_average"]
    results = Path(args.results)
    frame_ms = 1e3 * trained.autoencoder.cfg.hop / trained.autoencoder.cfg.sample_rate
    write_table(latency.table(rows, env), results / "table5", latency.caption(env, frame_ms, rows))
    write_json(results / "latency.json", latency.report(rows, env, settings))
    latency.plot(rows, results / "figures" / "latency.png", frame_ms)


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: batch-1 streaming on a shared 2-core machine)")
    parser.add_argument("--checkpoint", default=None,
                        help="the trained bundle to time (default: latency.checkpoint, the tau 0.1 s model)")


def main(argv: list[str] | None = None) -> int:
    return run_stage("latency", run, add_args, argv)


if __name__ == "__main__":
    sys.exit(main())
