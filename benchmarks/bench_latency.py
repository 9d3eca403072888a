"""Table 5 on this machine: per-step latency of the whole streaming path (encoder + generator +
decoder, batch 1), eager and torch.compile, for the default and the paper-size models, beside
the paper's RTX 3090 rows; and the generator's KV-cache speedup over recomputing the window.

The default model is ``--checkpoint`` (e.g. artifacts/gan/tau01/generator.pt) or, without one,
the default-profile architecture with random weights; the paper-size model always has random
weights. Timing does not depend on the weights' values; the table says which were used.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_latency.py --threads 1
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_latency.py --sizes paper --dtypes bfloat16 --steps 100
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging

from liveband.builders import load_bundle
from liveband.models.autoencoder import AutoencoderConfig
from liveband.streaming import latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="a trained bundle for the default row")
    parser.add_argument("--sizes", nargs="+", default=["default", "paper"], choices=["default", "paper"])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"], choices=list(latency.DTYPES))
    parser.add_argument("--steps", type=int, default=300, help="timed streaming steps per row")
    parser.add_argument("--warmup", type=int, default=30, help="untimed steps first (compilation included)")
    parser.add_argument("--kv-steps", type=int, default=30, help="window recomputations for the KV speedup")
    parser.add_argument("--no-compile", action="store_true", help="eager rows only")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--json", default=None, help="also write the rows here")
    parser.add_argument("--figure", default=None, help="also write the CDF figure here (PNG)")
    args = parser.parse_args()
    import torch  # after liveband, which sets OMP_WAIT_POLICY before torch loads OpenMP

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    device = latency.pick_device(args.device)
    settings = latency.LatencySettings(steps=args.steps, warmup=args.warmup, compile=not args.no_compile,
                                       dtypes=tuple(args.dtypes), kv_steps=args.kv_steps)
    env = latency.environment(device)
    rows = []
    if "default" in args.sizes:
        if args.checkpoint:
            bundle, weights = load_bundle(args.checkpoint), f"checkpoint {args.checkpoint}"
        else:
            ae = dataclasses.asdict(AutoencoderConfig())  # the default profile's sizes
            bundle, weights = latency.random_bundle(ae, {}, tau_frames=1), "random (timing only)"
        rows += latency.measure_model("default", weights, bundle, settings, device)
    if "paper" in args.sizes:
        bundle = latency.random_bundle(settings.paper_autoencoder, settings.paper_generator, tau_frames=1)
        rows += latency.measure_model("paper size", "random (timing only)", bundle, settings, device)
    env["load_average_end"] = latency.environment(device)["load_average"]
    frame_ms = rows[0]["frame_ms"]
    print(latency.caption(env, frame_ms, rows))
    print(f"load average at the end: {env['load_average_end']}")
    print(latency.table(rows, env).drop(columns=["Hardware"]).to_markdown(index=False))
    for r in rows:
        if r.get("kv_cache"):
            kv = r["kv_cache"]
            print(f"KV cache [{r['model']}, {r['generator_dtype']}]: stream step {kv['stream_step_ms']:.2f} ms vs "
                  f"recompute {kv['window_frames']} frames {kv['recompute_window_ms']:.2f} ms -> "
                  f"{kv['speedup']:.1f}x")
        if "first_step_s" in r and r["mode"] == "compile":
            print(f"first compiled step [{r['model']}, {r['generator_dtype']}]: {r['first_step_s']:.1f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(latency.report(rows, env, settings), f, indent=2)
    if args.figure:
        latency.plot(rows, args.figure, frame_ms)


if __name__ == "__main__":
    main()
