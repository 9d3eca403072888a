"""Per-frame streaming cost of the causal autoencoder, for the default and the paper-size profile.

Builds each model with random weights and times one latent frame at a time (batch 1, fp32,
inference mode): the encoder is pushed one hop of audio, the decoder one latent frame. Prints
the median and 90th percentile in ms after a warm-up, and the real-time factor against the
frame budget (hop / sample_rate; 92.9 ms for both profiles).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_autoencoder.py --threads 1
    PYTHONPATH=src .venv/bin/python benchmarks/bench_autoencoder.py --threads 2

A step is small (batch 1, one frame), so intra-op threads mostly wait on each other; on a
machine shared with other jobs, busy-waiting OpenMP threads are much slower, hence the
passive wait policy set below unless the environment chooses one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when torch loads OpenMP

import torch  # noqa: E402

from liveband.models.autoencoder import (  # noqa: E402
    AutoencoderConfig,
    CausalAutoencoder,
    count_parameters,
)

PROFILES = {
    # 22.05 kHz mono, hop 2048: small enough to train on a CPU
    "default": AutoencoderConfig(
        sample_rate=22050, channels=1, hop=2048, latent_dim=32,
        encoder_n_fft=1024, encoder_stft_hop=256, encoder_frame_width=128, encoder_frame_depth=2,
        encoder_latent_width=256, encoder_latent_depth=2,
        decoder_latent_width=256, decoder_latent_depth=3, decoder_frame_width=128, decoder_frame_depth=2,
        head_n_fft=1024, head_hop=256,
    ),
    # the paper's codec shape: 44.1 kHz stereo, hop 4096, 64-dim latents
    "paper": AutoencoderConfig(
        sample_rate=44100, channels=2, hop=4096, latent_dim=64,
        encoder_n_fft=2048, encoder_stft_hop=512, encoder_frame_width=256, encoder_frame_depth=3,
        encoder_latent_width=512, encoder_latent_depth=3,
        decoder_latent_width=512, decoder_latent_depth=4, decoder_frame_width=256, decoder_frame_depth=4,
        head_n_fft=2048, head_hop=512,
    ),
}  # fmt: skip


def _time_steps(step, n_warmup: int, n_steps: int) -> list[float]:
    for _ in range(n_warmup):
        step()
    times = []
    for _ in range(n_steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def bench(name: str, cfg: AutoencoderConfig, n_warmup: int, n_steps: int) -> None:
    torch.manual_seed(0)
    model = CausalAutoencoder(cfg).eval()
    budget_ms = 1e3 * cfg.hop / cfg.sample_rate
    audio = 0.1 * torch.randn(1, cfg.channels, cfg.hop * (n_warmup + n_steps))
    latents = torch.randn(1, cfg.latent_dim, n_warmup + n_steps)
    print(
        f"[{name}] {cfg.sample_rate} Hz x{cfg.channels}, hop {cfg.hop}, D={cfg.latent_dim}; "
        f"params: encoder {count_parameters(model.encoder) / 1e6:.2f} M, "
        f"decoder {count_parameters(model.decoder) / 1e6:.2f} M; budget {budget_ms:.1f} ms/frame"
    )
    with torch.inference_mode():
        encoder, decoder = model.stream_encoder(1), model.stream_decoder(1)
        frame = iter(range(n_warmup + n_steps))

        def encode_step():
            k = next(frame)
            out = encoder.push(audio[..., k * cfg.hop : (k + 1) * cfg.hop])
            assert out.shape[-1] == 1

        enc = _time_steps(encode_step, n_warmup, n_steps)
        frame = iter(range(n_warmup + n_steps))

        def decode_step():
            k = next(frame)
            decoder.push(latents[..., k : k + 1])

        dec = _time_steps(decode_step, n_warmup, n_steps)
    for label, times in (("encode", enc), ("decode", dec)):
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        best = min(times)
        print(
            f"  stream {label}: median {median:6.2f} ms, p90 {p90:6.2f} ms, min {best:6.2f} ms "
            f"per frame; real-time factor {median / budget_ms:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--steps", type=int, default=100, help="timed frames per measurement")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames first")
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=list(PROFILES))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), batch 1, fp32, "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, load average {os.getloadavg()[0]:.1f}"
    )
    for name in args.profiles:
        bench(name, PROFILES[name], args.warmup, args.steps)


if __name__ == "__main__":
    main()
