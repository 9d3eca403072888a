"""Per-step streaming latency (paper sec. 6.5, Table 5): encoder, generator and decoder per frame.

One streaming step is what live use does per latent frame (``Accompanist``): push one hop of mix
audio through the streaming encoder, normalise, draw noise, run the generator's step, denormalise,
push the frame through the streaming decoder. ``TimedPipeline`` runs exactly that sequence on any
device (CUDA when present) and times each part; a test checks it gives ``Accompanist``'s audio.

Modes: ``eager``, and ``compile``, where the generator's frame runs through ``torch.compile``
with Inductor freezing (weights prepacked; ``GeneratorStream.compile``). The codec stays eager:
its streaming state lives in Python-side buffers that make a compiled ``push`` break its graph
every step (slower than eager on CPU). The generator may run in bfloat16 (the paper's dtype)
while the codec stays float32 (its FFTs have no bfloat16 kernels).

RTF = frame budget (hop / sample_rate, 92.9 ms) / mean step time, as in the paper's Table 5.
The KV-cache speedup compares the generator's streaming step with recomputing the whole window
of N (training-length) frames for every new frame, in the same run.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import platform
import time
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import torch

from liveband.builders import AccompanimentBundle
from liveband.data.latent_norm import LatentStats
from liveband.errors import LiveBandError
from liveband.models.autoencoder import AutoencoderConfig, CausalAutoencoder
from liveband.models.generator import Generator, GeneratorConfig

log = logging.getLogger("liveband.latency")

# The paper's sizes (paper sec. 4.2, 4.7): 44.1 kHz stereo codec with hop 4096 and 64-dim
# latents; generator d_model 768, 12 blocks, 12 heads of 64, 64-dim noise, a 128-frame context.
PAPER_AUTOENCODER = MappingProxyType(dict(
    sample_rate=44100, channels=2, hop=4096, latent_dim=64,
    encoder_n_fft=2048, encoder_stft_hop=512, encoder_frame_width=256, encoder_frame_depth=3,
    encoder_latent_width=512, encoder_latent_depth=3,
    decoder_latent_width=512, decoder_latent_depth=4, decoder_frame_width=256, decoder_frame_depth=4,
    head_n_fft=2048, head_hop=512,
))
PAPER_GENERATOR = MappingProxyType(dict(
    latent_dim=64, noise_dim=64, d_model=768, n_layers=12, n_heads=12, context_frames=128,
))

# Table 5 of the paper: RTX 3090, bfloat16, batch 1, tau = 0.1 s (ms per streaming step).
PAPER_ROWS = (
    {"mode": "eager", "generator_ms": 29.4, "decoder_ms": 54.1, "mean_ms": 83.5, "median_ms": 80.7, "rtf": 1.1},
    {"mode": "torch.compile", "generator_ms": 25.5, "decoder_ms": 17.9, "mean_ms": 43.6, "median_ms": 29.8,
     "rtf": 2.1},
)


@dataclasses.dataclass(frozen=True)
class LatencySettings:
    """What the latency stage measures; a ``latency`` params section overrides any field."""

    checkpoint: str = "artifacts/gan/tau01/generator.pt"  # the trained default model (tau 0.1 s)
    steps: int = 300  # timed streaming steps per configuration
    warmup: int = 30  # untimed steps first (compilation happens in the first)
    compile: bool = True  # also measure torch.compile'd generator steps
    dtypes: tuple[str, ...] = ("float32", "bfloat16")  # generator dtypes to measure
    compile_dtypes: tuple[str, ...] | None = None  # those of `dtypes` also timed compiled; None = all
    kv_steps: int = 30  # window recomputations timed for the KV-cache speedup (eager)
    instrument: str = "Bass"  # class the generator is conditioned on
    seed: int = 0
    paper_size: bool = True  # also measure the paper-size architecture (random weights)
    paper_autoencoder: Mapping = dataclasses.field(default_factory=lambda: dict(PAPER_AUTOENCODER))
    paper_generator: Mapping = dataclasses.field(default_factory=lambda: dict(PAPER_GENERATOR))

    @classmethod
    def from_params(cls, params) -> LatencySettings:
        """Defaults, overridden by ``params.latency`` (a dataclass or a mapping) when present."""
        section = getattr(params, "latency", None)
        if section is None:
            return cls()
        values = dataclasses.asdict(section) if dataclasses.is_dataclass(section) else dict(section)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise LiveBandError(f"latency.{unknown[0]}: unknown key (known: {', '.join(sorted(names))})")
        for key in ("dtypes", "compile_dtypes"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        for name in ("steps", "warmup", "kv_steps"):
            if getattr(self, name) < (1 if name == "steps" else 0):
                raise LiveBandError(f"latency.{name}: must be >= {1 if name == 'steps' else 0}")
        for key in ("dtypes", "compile_dtypes"):
            for dtype in getattr(self, key) or ():
                if dtype not in DTYPES:
                    raise LiveBandError(f"latency.{key}: '{dtype}' is not float32, bfloat16 or float16")

    def modes(self, dtype: str) -> tuple[str, ...]:
        """The modes timed for a generator dtype: eager, and compile where asked."""
        compiled = self.compile and (self.compile_dtypes is None or dtype in self.compile_dtypes)
        return ("eager", "compile") if compiled else ("eager",)


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or "CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model} ({os.cpu_count()} cores)"


def random_bundle(autoencoder: Mapping, generator: Mapping, tau_frames: int = 1, seed: int = 0) -> AccompanimentBundle:
    """An untrained bundle of the given sizes, for timing only. The zero-initialised AdaLN
    modulations get small random values so every block does real work, as in a trained model."""
    torch.manual_seed(seed)
    ae = CausalAutoencoder(AutoencoderConfig(**autoencoder)).eval()
    cfg = GeneratorConfig(**{"latent_dim": ae.cfg.latent_dim, **generator})
    gen = Generator(cfg).eval()
    with torch.no_grad():
        for name, param in gen.named_parameters():
            if "to_modulation" in name:
                param.normal_(0.0, 0.02)
    stats = LatentStats(torch.zeros(cfg.latent_dim), torch.ones(cfg.latent_dim))
    return AccompanimentBundle("liveband", gen, ae, stats, tau_frames, {"variant": "random weights"})


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class TimedPipeline:
    """The live per-frame path of a LiveBand bundle on ``device``, with each part timed.

    ``generator_dtype`` runs the generator in that dtype (a copy of its weights); ``compile``
    compiles the generator's frame. ``step`` takes one hop of mix audio (1, C, hop) and returns
    the accompaniment block (1, C, hop) and the encoder, generator and decoder seconds.
    """

    def __init__(self, bundle: AccompanimentBundle, instrument: int, seed: int = 0,
                 device: torch.device | str = "cpu", generator_dtype: torch.dtype = torch.float32,
                 compile: bool = False):
        if bundle.kind != "liveband":
            raise LiveBandError(f"latency: only LiveBand generators are timed, not '{bundle.kind}'")
        self.device = torch.device(device)
        ae = bundle.autoencoder.to(self.device)
        generator = bundle.model
        if generator.in_proj.weight.dtype != generator_dtype or self.device != generator.in_proj.weight.device:
            generator = copy.deepcopy(generator).to(device=self.device, dtype=generator_dtype)
        self.generator = generator
        self.hop, self.channels = ae.cfg.hop, ae.cfg.channels
        self.frame_seconds = ae.cfg.hop / ae.cfg.sample_rate
        self.encoder, self.decoder = ae.stream_encoder(1), ae.stream_decoder(1)
        self.stream = generator.stream(1)
        if compile:
            self.stream.compile()
        self.stats = LatentStats(bundle.stats.mean.to(self.device), bundle.stats.std.to(self.device))
        self.instrument = torch.tensor([instrument], dtype=torch.long, device=self.device)
        self.noise_rng = torch.Generator(device=self.device).manual_seed(seed)
        self.noise_dim = generator.cfg.noise_dim

    @torch.inference_mode()
    def step(self, audio: torch.Tensor) -> tuple[torch.Tensor, float, float, float]:
        device, clock = self.device, time.perf_counter
        t0 = clock()
        latents = self.encoder.push(audio)                                      # (1, D, 1)
        _sync(device)
        t1 = clock()
        mix = self.stats.normalise(latents[..., 0], channel_dim=-1)            # (1, D)
        noise = torch.randn(1, self.noise_dim, generator=self.noise_rng, device=device)
        out = self.stats.denormalise(self.stream.step(mix, noise, self.instrument), channel_dim=-1)
        _sync(device)
        t2 = clock()
        block = self.decoder.push(out[..., None])                               # (1, C, hop)
        _sync(device)
        t3 = clock()
        return block, t1 - t0, t2 - t1, t3 - t2


@dataclasses.dataclass
class StepTimes:
    """Per-step seconds of one configuration (arrays of ``steps``), or why it could not run."""

    encoder: np.ndarray
    generator: np.ndarray
    decoder: np.ndarray
    total: np.ndarray
    first_step_seconds: float  # includes compilation in compile mode
    error: str | None = None

    def summary(self, frame_seconds: float) -> dict:
        if self.error is not None:
            return {"error": self.error}
        ms = 1e3
        mean = float(self.total.mean())
        return {
            "encoder_ms": round(float(self.encoder.mean()) * ms, 3),
            "generator_ms": round(float(self.generator.mean()) * ms, 3),
            "decoder_ms": round(float(self.decoder.mean()) * ms, 3),
            "mean_ms": round(mean * ms, 3),
            "median_ms": round(float(np.median(self.total)) * ms, 3),
            "p95_ms": round(float(np.quantile(self.total, 0.95)) * ms, 3),
            "max_ms": round(float(self.total.max()) * ms, 3),
            "rtf": round(frame_seconds / mean, 3),
            "first_step_s": round(self.first_step_seconds, 2),
            "steps": int(self.total.size),
        }


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"


def measure_steps(bundle: AccompanimentBundle, instrument: int, steps: int, warmup: int, *,
                  device: torch.device | str = "cpu", generator_dtype: torch.dtype = torch.float32,
                  compile: bool = False, seed: int = 0) -> StepTimes:
    """Time ``steps`` streaming steps after ``warmup`` untimed ones (batch 1).

    A compilation failure does not raise: the result carries ``error`` ("unavailable: ...").
    """
    device = torch.device(device)
    if compile:  # a fresh cache: every compiled model is its own graph (frozen weights)
        torch._dynamo.reset()
    pipeline = TimedPipeline(bundle, instrument, seed, device, generator_dtype, compile)
    rng = torch.Generator().manual_seed(seed)
    hop, total_steps = pipeline.hop, warmup + steps
    audio = (0.1 * torch.randn(1, pipeline.channels, hop * total_steps, generator=rng)).to(device)
    times = np.zeros((4, steps))
    first = 0.0
    try:
        for k in range(total_steps):
            start = time.perf_counter()
            _, enc, gen, dec = pipeline.step(audio[..., k * hop:(k + 1) * hop])
            _sync(device)
            took = time.perf_counter() - start
            if k == 0:
                first = took
            if k >= warmup:
                times[:, k - warmup] = (enc, gen, dec, took)
    except Exception as exc:  # compile on CPU can fail (no compiler, unsupported op): report it
        if not compile:
            raise
        log.warning("torch.compile unavailable: %s", _one_line(exc))
        empty = np.zeros(0)
        return StepTimes(empty, empty, empty, empty, first, f"unavailable: {_one_line(exc)}")
    return StepTimes(*times, first_step_seconds=first)


@torch.inference_mode()
def kv_cache_speedup(generator: Generator, steps: int, device: torch.device | str = "cpu",
                     dtype: torch.dtype = torch.float32, seed: int = 0) -> dict:
    """Mean generator step with the rolling KV cache vs recomputing the last N frames each step.

    Both run in this call (eager, batch 1), after the cache is full: N = ``context_frames``, the
    training crop length, which is what the cache holds.
    """
    device = torch.device(device)
    if generator.in_proj.weight.dtype != dtype or generator.in_proj.weight.device != device:
        generator = copy.deepcopy(generator).to(device=device, dtype=dtype)
    cfg = generator.cfg
    n, steps = cfg.context_frames, max(1, steps)
    rng = torch.Generator().manual_seed(seed)
    mix = torch.randn(1, n + steps + 1, cfg.latent_dim, generator=rng).to(device=device, dtype=dtype)
    noise = torch.randn(1, n + steps + 1, cfg.noise_dim, generator=rng).to(device=device, dtype=dtype)
    instrument = torch.zeros(1, dtype=torch.long, device=device)
    stream = generator.stream(1)
    for t in range(n + 1):  # fill the cache (and warm up)
        stream.step(mix[:, t], noise[:, t], instrument)
    cached, recompute = [], []
    for t in range(n + 1, n + 1 + steps):
        start = time.perf_counter()
        stream.step(mix[:, t], noise[:, t], instrument)
        _sync(device)
        cached.append(time.perf_counter() - start)
        start = time.perf_counter()
        generator(mix[:, t + 1 - n:t + 1], noise[:, t + 1 - n:t + 1], instrument)[:, -1]
        _sync(device)
        recompute.append(time.perf_counter() - start)
    cached_ms, recompute_ms = 1e3 * float(np.mean(cached)), 1e3 * float(np.mean(recompute))
    return {"window_frames": n, "steps": steps, "stream_step_ms": round(cached_ms, 3),
            "recompute_window_ms": round(recompute_ms, 3), "speedup": round(recompute_ms / cached_ms, 2)}


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def measure_model(name: str, weights: str, bundle: AccompanimentBundle, settings: LatencySettings,
                  device: torch.device) -> list[dict]:
    """Every (dtype, mode) row of one model, each with its summary, raw totals and KV speedup."""
    from liveband.data.classes import parse_instrument

    instrument = parse_instrument(settings.instrument)
    frame_seconds = bundle.autoencoder.cfg.hop / bundle.autoencoder.cfg.sample_rate
    rows = []
    for dtype_name in settings.dtypes:
        dtype = DTYPES[dtype_name]
        kv = kv_cache_speedup(bundle.model, settings.kv_steps, device, dtype, settings.seed) \
            if settings.kv_steps else None
        for mode in settings.modes(dtype_name):
            log.info("latency: %s (%s), generator %s, %s", name, weights, dtype_name, mode)
            times = measure_steps(bundle, instrument, settings.steps, settings.warmup, device=device,
                                  generator_dtype=dtype, compile=mode == "compile", seed=settings.seed)
            summary = times.summary(frame_seconds)
            log.info("latency: %s", summary)
            rows.append({"model": name, "weights": weights, "mode": mode, "generator_dtype": dtype_name,
                         "frame_ms": round(frame_seconds * 1e3, 3), **summary,
                         "kv_cache": kv if mode == "eager" else None, "_total": times.total})
    return rows


def environment(device: torch.device) -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"device": device.type, "device_name": device_label(device), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "batch": 1, "load_average": [round(x, 2) for x in load] if load else None}


def table(rows: list[dict], env: dict):
    """Table 5 beside the paper's rows, as a DataFrame (ms per streaming step).

    Cells are numbers, "-" (not reported) or "not run" (the caption says why).
    """
    import pandas as pd

    hardware = f"{env['device_name']}, {env['threads']} thread(s)" if env["device"] == "cpu" else env["device_name"]
    numbers = ("Enc.", "Gen.", "Dec.", "Mean", "Median", "p95", "Max", "RTF", "KV-cache speedup [x]")
    records = [{"Source": "paper", "Model": "LiveBand tau=0.1 s", "Weights": "trained",
                "Hardware": "RTX 3090", "dtype": "bfloat16", "Mode": r["mode"], "Enc.": "-",
                "Gen.": r["generator_ms"], "Dec.": r["decoder_ms"], "Mean": r["mean_ms"],
                "Median": r["median_ms"], "p95": "-", "Max": "-", "RTF": r["rtf"],
                "KV-cache speedup [x]": "-"} for r in PAPER_ROWS]
    for r in rows:
        mode = "torch.compile (generator)" if r["mode"] == "compile" else "eager"
        base = {"Source": "ours", "Model": r["model"], "Weights": r["weights"], "Hardware": hardware,
                "dtype": f"gen. {r['generator_dtype']}, codec float32", "Mode": mode}
        if "error" in r:
            records.append({**base, **{k: "not run" for k in numbers}})
            continue
        kv = r.get("kv_cache")
        records.append({**base, "Enc.": r["encoder_ms"], "Gen.": r["generator_ms"], "Dec.": r["decoder_ms"],
                        "Mean": r["mean_ms"], "Median": r["median_ms"], "p95": r["p95_ms"], "Max": r["max_ms"],
                        "RTF": round(r["rtf"], 2), "KV-cache speedup [x]": kv["speedup"] if kv else "-"})
    return pd.DataFrame.from_records(records)


def caption(env: dict, frame_ms: float, rows: list[dict] = ()) -> str:
    load = f"; load average {env['load_average'][0]:.2f} at the start" if env.get("load_average") else ""
    failed = [f"{r['model']} {r['generator_dtype']} {r['mode']}: {r['error']}" for r in rows if "error" in r]
    return (f"Table 5: streaming latency per step [ms], batch 1, on {env['device_name']} with "
            f"{env['threads']} torch thread(s), torch {env['torch']}{load}. Ours: a step is streaming "
            f"encoder + generator + decoder of one latent frame; the paper reports generator and decoder "
            f"(its Mean is their sum; '-' = not reported). RTF = frame budget ({frame_ms:.1f} ms) / mean step. "
            "Random-weight rows time the paper-size architecture untrained (timing does not depend on "
            "the weights). KV-cache speedup = mean time to recompute the whole N-frame window per step / "
            "mean cached streaming step of the generator, same run, eager."
            + (" Not run: " + "; ".join(failed) + "." if failed else ""))


def plot(rows: list[dict], path, frame_ms: float) -> None:
    """CDF of the per-step time of every configuration against the frame budget."""
    import matplotlib.pyplot as plt

    from liveband.reports.plots import save_figure

    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for r in rows:
        total = r.get("_total")
        if total is None or not len(total):
            continue
        x = np.sort(total) * 1e3
        label = f"{r['model']} ({r['weights']}), {r['generator_dtype']}, {r['mode']}"
        ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", label=label)
    for r, style in zip(PAPER_ROWS, (":", "-.")):
        ax.axvline(r["mean_ms"], color="grey", ls=style, lw=1, label=f"paper RTX 3090 {r['mode']} mean")
    ax.axvline(frame_ms, color="k", ls="--", lw=1.2, label=f"frame budget {frame_ms:.1f} ms")
    ax.set_xscale("log")
    ax.set_xlabel("streaming step (encoder + generator + decoder) [ms]")
    ax.set_ylabel("fraction of steps")
    ax.set_title("Per-step latency, batch 1")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, path)


def report(rows: list[dict], env: dict, settings: LatencySettings) -> dict:
    """The JSON document: environment, settings, every row (without raw arrays), the paper's rows."""
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    return {"environment": env, "settings": dataclasses.asdict(settings), "rows": clean,
            "paper": {"hardware": "RTX 3090", "dtype": "bfloat16", "rows": list(PAPER_ROWS)}}
