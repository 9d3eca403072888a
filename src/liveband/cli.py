"""The `liveband` command: streaming accompaniment from the command line (a file, or live)."""

from __future__ import annotations

import argparse
import json
import math
import sys

from liveband.errors import LiveBandError
from liveband.utils.device import add_device_arg, resolve_device


def _accompany(args: argparse.Namespace) -> int:
    from liveband.data.audio_io import output_format
    from liveband.utils.outputs import check_outputs

    check_outputs({"--out": args.out, "--preview": args.preview},
                  {"the input": args.mix, "--checkpoint": args.checkpoint})
    output_format(args.out, "--out")
    if args.preview is not None:
        output_format(args.preview, "--preview")
    import torch

    from liveband.builders import load_bundle
    from liveband.data.classes import CLASS_VOCAB, parse_instrument
    from liveband.streaming.files import accompany_file

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    instrument = parse_instrument(args.instrument)
    bundle = load_bundle(args.checkpoint)
    _check_tau(args.tau, bundle, args.checkpoint)
    sampling = dict(bundle.extra.get("sampling") or {})
    if args.temperature is not None:
        sampling["temperature"] = args.temperature
    if args.top_k is not None:
        sampling["top_k"] = args.top_k
    result = accompany_file(bundle, args.mix, instrument, args.out, args.preview, seed=args.seed,
                            gain_db=args.gain, normalize_dbfs=args.normalize, device=device, **sampling)
    summary = {
        "input": str(args.mix), "output": str(args.out), "model": bundle.kind,
        "instrument": CLASS_VOCAB[instrument], "tau_frames": bundle.tau_frames, "device": str(device),
        "tau_seconds": round(bundle.tau_frames / bundle.autoencoder.cfg.frame_rate, 4),
        "audio_seconds": round(result.audio_seconds, 3),
        "wall_seconds": round(result.wall_seconds, 3), "real_time_factor": round(result.real_time_factor, 2),
        "peak_dbfs": round(result.peak_dbfs, 2) if math.isfinite(result.peak_dbfs) else None,
        "notes": result.notes, "warnings": result.warnings,
    }
    print(json.dumps(summary, indent=2))
    _warn(result.warnings)
    return 0


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _check_tau(tau: float | None, bundle, checkpoint: str) -> None:
    from liveband.models.generator import seconds_to_frames

    frames = None if tau is None else seconds_to_frames(tau, bundle.autoencoder.cfg.frame_rate)
    if frames is not None and frames != bundle.tau_frames:
        raise LiveBandError(f"--tau: {tau} s is {frames} frames, but {checkpoint} was trained "
                            f"for {bundle.tau_frames} frames")


def _jam(args: argparse.Namespace) -> int:
    from liveband.streaming import jam

    if args.list_devices:
        devices = jam.import_sounddevice("--list-devices").query_devices()
        print(devices if len(devices) else "no sound devices found (PortAudio sees no input or output device)")
        return 0
    for flag, value in (("--checkpoint", args.checkpoint), ("--instrument", args.instrument)):
        if value is None:
            raise LiveBandError(f"{flag}: required (see liveband jam --help)")
    if args.input is None and args.input_device is None:
        raise LiveBandError("jam: give --input FILE or --input-device NAME")
    if args.out is None and args.output_device is None:
        raise LiveBandError("jam: give --out FILE or --output-device NAME")
    if args.no_wait and (args.input is None or args.out is None):
        raise LiveBandError("--no-wait: only for --input FILE with --out FILE (a device runs in real time)")
    from liveband.data.audio_io import output_format
    from liveband.utils.outputs import check_outputs, write_errors

    check_outputs({"--out": args.out, "--report": args.report},
                  {"the input": args.input, "--checkpoint": args.checkpoint})
    if args.out is not None:
        output_format(args.out, "--out")
    import torch

    from liveband.builders import load_bundle
    from liveband.data.classes import CLASS_VOCAB, parse_instrument
    from liveband.utils.atomic import write_json

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    instrument = parse_instrument(args.instrument)
    bundle = load_bundle(args.checkpoint)
    _check_tau(args.tau, bundle, args.checkpoint)
    clock = jam.SkipClock() if args.no_wait else jam.WallClock()
    session = jam.open_session(bundle, instrument, input_path=args.input, input_device=args.input_device,
                               out_path=args.out, output_device=args.output_device, clock=clock,
                               seed=args.seed, budget_ms=args.budget_ms, fade_ms=args.fade_ms,
                               sampling=dict(bundle.extra.get("sampling") or {}), gain_db=args.gain,
                               normalize_dbfs=args.normalize, device=device)
    report = session.run()
    report = {"input": args.input or f"device:{args.input_device}",
              "output": args.out or f"device:{args.output_device}", "checkpoint": str(args.checkpoint),
              "model": bundle.kind, "instrument": CLASS_VOCAB[instrument],
              "tau_seconds": round(bundle.tau_frames / bundle.autoencoder.cfg.frame_rate, 4),
              "seed": args.seed, **report}
    if args.report is not None:
        with write_errors("--report", args.report):
            write_json(args.report, report)
    print(jam.summary_line(report))
    _warn(report["warnings"])
    return 0


def _info(args: argparse.Namespace) -> int:
    from liveband.builders import describe_bundle, load_bundle

    print(json.dumps({"checkpoint": str(args.checkpoint), **describe_bundle(load_bundle(args.checkpoint))}, indent=2))
    return 0


def _listen(args: argparse.Namespace) -> int:
    from liveband.listening.server import serve

    return serve(args.kit, port=args.port, host=args.host, responses_dir=args.responses)


class _Parser(argparse.ArgumentParser):
    """Usage errors (a bad or missing option) are one-line LiveBandErrors like every other error."""

    def error(self, message: str):
        raise LiveBandError(f"{message.removeprefix('argument ')} (see {self.prog} --help)")


def _number(low: float, high: float, *, integer: bool = False, above: bool = False):
    """An argparse type: a finite number (or an integer) in [low, high], or (low, high] with ``above``."""
    def parse(text: str):
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {'an integer' if integer else 'a number'}: '{text}'") from None
        if not (math.isfinite(value) and (value > low if above else value >= low) and value <= high):
            kind, bounds = ("an integer ", (low, high)) if integer else ("", (f"{low:g}", f"{high:g}"))
            raise argparse.ArgumentTypeError(f"must be {kind}{'>' if above else '>='} {bounds[0]} and <= {bounds[1]}, "
                                             f"got '{text}'")
        return value

    parse.__name__ = "int" if integer else "float"
    return parse


SEED = _number(0, 2**63 - 1, integer=True)        # torch.Generator.manual_seed's range
THREADS = _number(1, 1024, integer=True)
TAU = _number(0, 60)                              # seconds; the checkpoint's tau decides
MILLISECONDS = _number(0, 60_000, above=True)     # a frame budget: positive, at most a minute
FADE_MS = _number(0, 1000)
TEMPERATURE = _number(0, 1e6)
TOP_K = _number(1, 2**31 - 1, integer=True)
PORT = _number(0, 65535, integer=True)
GAIN_DB = _number(-60, 60)
PEAK_DBFS = _number(-60, 0)


def _add_level(parser: argparse.ArgumentParser, normalize_note: str = "") -> None:
    """--gain / --normalize: the generated stem's level (one or the other)."""
    level = parser.add_mutually_exclusive_group()
    level.add_argument("--gain", type=GAIN_DB, default=0.0, metavar="DB",
                       help="multiply the generated stem by DB decibels (default 0; e.g. 12)")
    level.add_argument("--normalize", type=PEAK_DBFS, default=None, metavar="DBFS",
                       help="scale the finished stem so its peak is DBFS (e.g. -1), in a second pass over "
                            "the stream's temporary file before it is renamed into place" + normalize_note)


def build_parser() -> argparse.ArgumentParser:
    from liveband import __version__

    parser = _Parser(prog="liveband", description=__doc__)
    parser.add_argument("--version", action="version", version=f"liveband {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    acc = sub.add_parser("accompany", help="stream a mix file through a model, frame by frame",
                         description="Stream MIX through the streaming encoder, the model's step and the "
                                     "streaming decoder, exactly as live use would; write the accompaniment.")
    acc.add_argument("mix", help="input mix (any sample rate / channel count; converted with a note)")
    acc.add_argument("--checkpoint", required=True, help="a generator.pt (LiveBand) or smg.pt bundle")
    acc.add_argument("--instrument", required=True, help="Slakh class to generate, e.g. Bass, Drums, Piano, or null")
    acc.add_argument("--tau", type=TAU, default=None, help="anticipation in seconds; must match the checkpoint")
    acc.add_argument("--out", required=True, help="accompaniment .wav/.flac (16-bit), aligned with the input; "
                                                   "written as the stream runs, renamed into place at the end")
    acc.add_argument("--preview", default=None, help="optional stereo .wav/.flac: left = input, right = generated "
                                                      "(both scaled by 1 / max(1, input peak))")
    acc.add_argument("--seed", type=SEED, default=0, help="noise / sampling seed")
    acc.add_argument("--temperature", type=TEMPERATURE, default=None,
                     help="SMG sampling temperature, 0 = greedy (default: the checkpoint's smg.sampling)")
    acc.add_argument("--top-k", type=TOP_K, default=None, help="SMG top-k (default: the checkpoint's smg.sampling)")
    acc.add_argument("--threads", type=THREADS, default=1,
                     help="torch CPU threads (default 1: batch-1 streaming is latency-bound, and more "
                          "threads oversubscribe a busy machine)")
    add_device_arg(acc)
    _add_level(acc)
    acc.set_defaults(func=_accompany)

    jam = sub.add_parser(
        "jam", help="live accompaniment: audio in, accompaniment out, every frame against its deadline",
        description="Accompany live audio: read from a sound device (or a file released at real-time "
                    "pace), run the streaming encoder -> generator -> decoder once per latent frame "
                    "(hop samples, 92.9 ms), and play or write the accompaniment.",
        epilog="Deadlines: frame k's output (the accompaniment for input frame k + tau) is due tau "
               "frames after the frame's last input sample arrived (--budget-ms when tau is 0; default "
               "one frame). A frame that finishes late is a deadline miss: its block is not played; "
               "the last played block, mirrored in time under a --fade-ms fade-out, stands in, and the "
               "next block fades in. The model still runs every frame, so later frames are unaffected. "
               "Ctrl-C stops at the next frame and still writes the output and the report. Devices "
               "need the optional 'sounddevice' package (and PortAudio).")
    jam.add_argument("--checkpoint", help="a generator.pt (LiveBand) or smg.pt bundle, e.g. "
                                          "artifacts/gan/tau01/generator.pt")
    jam.add_argument("--instrument", help="Slakh class to generate, e.g. Bass, Drums, Piano, or null")
    jam.add_argument("--tau", type=TAU, default=None,
                     help="anticipation in seconds; must match the checkpoint (it is also the time budget)")
    src = jam.add_mutually_exclusive_group()
    src.add_argument("--input", metavar="FILE", help="a mix file, released at real-time pace (any rate or "
                                                   "channel count; other rates are resampled as it streams)")
    src.add_argument("--input-device", metavar="NAME",
                     help="a sound input device: a unique part of its name, or its index (--list-devices)")
    dst = jam.add_mutually_exclusive_group()
    dst.add_argument("--out", metavar="FILE", help="accompaniment WAV/FLAC aligned with the input, written "
                                                  "as the stream runs and renamed into place at the end")
    dst.add_argument("--output-device", metavar="NAME", help="a sound output device (name part or index)")
    jam.add_argument("--report", metavar="JSON", default=None,
                     help="write frames, deadline misses, step-time percentiles, budget and RTF here")
    add_device_arg(jam)
    jam.add_argument("--seed", type=SEED, default=0, help="noise / sampling seed (same as accompany's)")
    jam.add_argument("--threads", type=THREADS, default=1,
                     help="torch CPU threads (default 1: batch-1 streaming is latency-bound)")
    jam.add_argument("--budget-ms", type=MILLISECONDS, default=None,
                     help="time budget per frame in ms; needed for tau = 0 (default one frame, 92.9 ms), "
                          "otherwise tau frames")
    jam.add_argument("--fade-ms", type=FADE_MS, default=10.0,
                     help="fade length around a concealed (late) frame (default 10 ms)")
    jam.add_argument("--no-wait", action="store_true",
                     help="with --input FILE: skip the idle waits; compute times and deadlines are "
                          "accounted as if the file were played live, but it runs as fast as it can")
    _add_level(jam, "; only with --out FILE")
    jam.add_argument("--list-devices", action="store_true", help="list sound devices and exit")
    jam.set_defaults(func=_jam)

    info = sub.add_parser("info", help="describe a generator.pt / smg.pt bundle (JSON)",
                          description="Load CHECKPOINT (checking it as accompany would) and print its kind, "
                                      "instrument classes, tau, sample rate, training steps and time.")
    info.add_argument("checkpoint", help="a generator.pt (LiveBand) or smg.pt bundle")
    info.set_defaults(func=_info)

    listen = sub.add_parser(
        "listen", help="serve a listening-test kit and collect the responses (paper Table 4)",
        description="Serve the kit folder read-only over HTTP and store each session POSTed to "
                    "/responses (checked against the kit's config.json) as <responses>/<session_id>.json.",
        epilog="See docs/LISTENING_PAGE.md. A stored session is never replaced (other content for the "
               "same session gets 409). Ctrl-C stops.")
    listen.add_argument("--kit", required=True, help="the kit folder (stage listening_kit), e.g. listening/kit")
    listen.add_argument("--port", type=PORT, default=8000, help="TCP port (default 8000; 0 = any free port)")
    listen.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1, this machine only; e.g. 0.0.0.0 "
                             "serves other machines too)")
    listen.add_argument("--responses", default=None,
                        help="folder for the session files (default: responses/ beside the kit folder)")
    listen.set_defaults(func=_listen)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except LiveBandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before a stream was running (a running jam flushes and returns)
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
