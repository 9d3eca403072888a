"""The `liveband` command: streaming accompaniment from the command line."""

from __future__ import annotations

import argparse
import json
import sys

from liveband.errors import LiveBandError


def _accompany(args: argparse.Namespace) -> int:
    from liveband.builders import load_bundle
    from liveband.data.classes import CLASS_VOCAB, parse_instrument
    from liveband.models.generator import seconds_to_frames
    from liveband.streaming.files import accompany_file, write_result

    import torch

    torch.set_num_threads(args.threads)
    bundle = load_bundle(args.checkpoint)
    instrument = parse_instrument(args.instrument)
    if args.tau is not None:
        frames = seconds_to_frames(args.tau, bundle.autoencoder.cfg.frame_rate)
        if frames != bundle.tau_frames:
            raise LiveBandError(f"--tau: {args.tau} s is {frames} frames, but {args.checkpoint} was trained "
                                f"for {bundle.tau_frames} frames")
    sampling = dict(bundle.extra.get("sampling") or {})
    if args.temperature is not None:
        sampling["temperature"] = args.temperature
    if args.top_k is not None:
        sampling["top_k"] = args.top_k
    result = accompany_file(bundle, args.mix, instrument, seed=args.seed, **sampling)
    write_result(result, args.out, args.preview)
    summary = {
        "input": str(args.mix), "output": str(args.out), "model": bundle.kind,
        "instrument": CLASS_VOCAB[instrument], "tau_frames": bundle.tau_frames,
        "tau_seconds": round(bundle.tau_frames / bundle.autoencoder.cfg.frame_rate, 4),
        "audio_seconds": round(result.audio.shape[-1] / result.sample_rate, 3),
        "wall_seconds": round(result.wall_seconds, 3), "real_time_factor": round(result.real_time_factor, 2),
        "notes": result.notes,
    }
    print(json.dumps(summary, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liveband", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    acc = sub.add_parser("accompany", help="stream a mix file through a model, frame by frame",
                         description="Stream MIX through the streaming encoder, the model's step and the "
                                     "streaming decoder, exactly as live use would; write the accompaniment.")
    acc.add_argument("mix", help="input mix (any sample rate / channel count; converted with a note)")
    acc.add_argument("--checkpoint", required=True, help="a generator.pt (LiveBand) or smg.pt bundle")
    acc.add_argument("--instrument", required=True, help="Slakh class to generate, e.g. Bass, Drums, Piano, or null")
    acc.add_argument("--tau", type=float, default=None, help="anticipation in seconds; must match the checkpoint")
    acc.add_argument("--out", required=True, help="accompaniment WAV/FLAC, aligned with the input")
    acc.add_argument("--preview", default=None, help="optional stereo file: left = input, right = generated")
    acc.add_argument("--seed", type=int, default=0, help="noise / sampling seed")
    acc.add_argument("--temperature", type=float, default=None,
                     help="SMG sampling temperature, 0 = greedy (default: the checkpoint's smg.sampling)")
    acc.add_argument("--top-k", type=int, default=None, help="SMG top-k (default: the checkpoint's smg.sampling)")
    acc.add_argument("--threads", type=int, default=1,
                     help="torch CPU threads (default 1: batch-1 streaming is latency-bound, and more "
                          "threads oversubscribe a busy machine)")
    acc.set_defaults(func=_accompany)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LiveBandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
