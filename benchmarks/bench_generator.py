"""Per-frame streaming cost of the generator, with and without the rolling KV cache.

Builds each profile with random weights (AdaLN gates opened so every block does real work) and
times one latent frame at a time (batch 1, fp32, no autograd) after the cache is full, i.e. at
the steady-state cost of attending over N frames. "recompute" runs the parallel pass over the
last N frames for every new frame, which is what streaming costs without a KV cache. Prints the
median and 90th percentile in ms and the frame budget (4096 / 44100 s = 92.9 ms).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_generator.py --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from liveband.models.generator import LATENT_FRAME_RATE, Generator, GeneratorConfig

PROFILES = {
    "default": GeneratorConfig(
        latent_dim=32, noise_dim=32, d_model=256, n_layers=4, n_heads=4, context_frames=64,
    ),
    # the paper's numbers were lost; 12 heads of 64, a 12 s context at 10.77 Hz
    "paper": GeneratorConfig(
        latent_dim=64, noise_dim=64, d_model=768, n_layers=12, n_heads=12, context_frames=128,
    ),
}


def _time_steps(step, n_warmup: int, n_steps: int) -> list[float]:
    for _ in range(n_warmup):
        step()
    times = []
    for _ in range(n_steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def _summary(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), statistics.quantiles(times, n=10)[-1]


def bench(name: str, cfg: GeneratorConfig, n_warmup: int, n_steps: int) -> None:
    torch.manual_seed(0)
    generator = Generator(cfg).eval()
    with torch.no_grad():  # open the zero-initialised AdaLN gates, as in a trained model
        for param_name, param in generator.named_parameters():
            if "to_modulation" in param_name:
                param.normal_(0.0, 0.02)
    n_params = sum(p.numel() for p in generator.parameters())
    budget_ms = 1e3 / LATENT_FRAME_RATE
    n_frames = cfg.context_frames + n_warmup + n_steps
    mix = torch.randn(1, n_frames, cfg.latent_dim)
    noise = torch.randn(1, n_frames, cfg.noise_dim)
    instrument = torch.zeros(1, dtype=torch.long)
    print(
        f"[{name}] d_model {cfg.d_model}, {cfg.n_layers} layers, {cfg.n_heads} heads, "
        f"N {cfg.context_frames}, D {cfg.latent_dim}, Z {cfg.noise_dim}, sink {cfg.sink}; "
        f"{n_params / 1e6:.1f} M params; budget {budget_ms:.1f} ms/frame"
    )
    with torch.no_grad():
        stream = generator.stream(1)
        for t in range(cfg.context_frames):  # fill the cache: steady state from here on
            stream.step(mix[:, t], noise[:, t], instrument)
        frame = iter(range(cfg.context_frames, n_frames))

        def cached_step():
            t = next(frame)
            stream.step(mix[:, t], noise[:, t], instrument)

        cached = _time_steps(cached_step, n_warmup, n_steps)
        frame = iter(range(cfg.context_frames, n_frames))

        def recompute_step():
            t = next(frame)
            window = slice(t + 1 - cfg.context_frames, t + 1)
            generator(mix[:, window], noise[:, window], instrument)[:, -1]

        recompute = _time_steps(recompute_step, n_warmup, n_steps)
    cached_median, cached_p90 = _summary(cached)
    recompute_median, recompute_p90 = _summary(recompute)
    print(f"  KV-cache step : median {cached_median:7.2f} ms, p90 {cached_p90:7.2f} ms per frame")
    print(f"  recompute N   : median {recompute_median:7.2f} ms, p90 {recompute_p90:7.2f} ms per frame")
    print(
        f"  KV-cache speedup {recompute_median / cached_median:.1f}x; "
        f"real-time factor (cached) {cached_median / budget_ms:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--steps", type=int, default=100, help="timed frames per measurement")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames first")
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=list(PROFILES))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), batch 1, fp32")
    for name in args.profiles:
        bench(name, PROFILES[name], args.warmup, args.steps)


if __name__ == "__main__":
    main()
