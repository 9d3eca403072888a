"""``scripts/gpu_check.sh``: does the paper profile's CUDA path work on this GPU? (< 10 min on one GPU)

No data set is needed: latents and audio are seeded random tensors, models have the paper
profile's sizes. Each check prints one line and is PASS or FAIL; a summary table ends the
run, and the exit code is 1 if any check failed (2 if there is no CUDA GPU at all).

1. Training, per stage of the paper profile (autoencoder, GAN tau01 with FlexAttention, SMG
   tau0): ``--steps`` steps of the real training loop with the profile's ``compute`` params
   (bfloat16 autocast, torch.compile, TF32, latents preloaded on the GPU); steps/s over the
   second half (after compilation) and peak GPU memory.
2. Parallel == streaming for the paper-size generator on the GPU: the FlexAttention parallel
   pass against the frame-by-frame KV-cache step, as relative RMS error, float32 (<= 1e-4)
   and bfloat16 weights (<= 3e-2: bfloat16 keeps 8 bits of mantissa, ~4e-3 per rounding,
   accumulated over 12 layers).
3. The latency stage's paper-size rows (random weights) on the GPU, float32 and bfloat16,
   eager and compiled.
4. ``liveband accompany --device cuda`` on a 10 s test mix with the bundle trained in 1
   (written on the GPU); the same with ``--device cpu`` must load it and agree
   (RMS difference <= 1 % of the output's RMS: the GPU's convolutions use TF32).
5. With 2 or more GPUs: the GAN of 1 on every GPU, data parallel (``torchrun``, NCCL, the same
   global batch split over the GPUs), for the same steps; every rank must end with bit-identical
   G, D, EMA, optimiser states and AdaGP weight; steps/s against the one-GPU run of 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch

from liveband import builders
from liveband.config import load_params
from liveband.data.latent_norm import LatentStats
from liveband.data.latent_store import CropSampler, LatentShard, save_shard
from liveband.errors import LiveBandError
from liveband.models.rvq import ResidualVQ
from liveband.streaming import latency
from liveband.training.autoencoder import train_autoencoder
from liveband.training.compute import training_compute
from liveband.training.gan import train_gan
from liveband.training.smg import train_smg

GAN_VARIANT, SMG_VARIANT, SEED = "tau01", "tau0", 0
TOLERANCE = {"float32": 1e-4, "bfloat16": 3e-2}


class RandomAudio:
    """The autoencoder's crop sampler, on seeded noise: ``sample(batch, g) -> (B, C, T)``."""

    def __init__(self, channels: int, samples: int):
        self.channels, self.samples = channels, samples

    def sample(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        return 0.1 * torch.randn(batch, self.channels, self.samples, generator=generator)


def random_latents(path: Path, dim: int, frames: int, n_targets: int = 16) -> LatentShard:
    g = torch.Generator().manual_seed(SEED)
    targets = [torch.randn(dim, frames, generator=g) for _ in range(n_targets)]
    mixes = [t + torch.randn(dim, frames, generator=g) for t in targets for _ in range(2)]
    loud = torch.full((frames,), -20.0)
    save_shard(path, "train", targets, [loud] * n_targets, [i % 16 for i in range(n_targets)],
               mixes, [loud] * len(mixes), [i // 2 for i in range(len(mixes))], {"latent_dim": dim})
    return LatentShard(path)


def short(train, steps: int, **extra):
    """Training params cut to ``steps`` (one checkpoint, at the end)."""
    return dataclasses.replace(train, steps=steps, checkpoint_every=steps,
                               warmup_steps=min(train.warmup_steps, steps), **extra)


def how(compute) -> str:
    return f"{'bfloat16' if compute.bf16 else 'float32'}{', compiled' if compute.compile else ''}"


def measured(curve: Path) -> str:
    """steps/s over the second half of a run (the first steps compile), and peak GPU memory."""
    memory = f", peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB" if torch.cuda.is_initialized() else ""
    return f"{steps_per_second(curve):.2f} steps/s{memory}"


def steps_per_second(curve: Path) -> float:
    """Training steps per second over the second half of a run (the first steps compile)."""
    seconds = pd.read_csv(curve)["seconds"].to_numpy()
    half = len(seconds) // 2
    return (len(seconds) - half) / max(seconds[-1] - seconds[half - 1], 1e-9) if half else float("nan")


def gan_training(p, steps: int, work: Path, device: torch.device, shard: Path, tag: str):
    """Check 1's GAN (the paper profile's tau01, cut to ``steps``) on seeded latents kept in
    ``shard`` (written if missing); under torchrun, this rank's share of it."""
    from liveband.stages.train_gan import setup_for

    setup = dataclasses.replace(setup_for(p, GAN_VARIANT), steps=steps)
    compute = training_compute(p.compute, device, flex=setup.generator.attn_backend == "flex")
    latents = LatentShard(shard) if shard.exists() else random_latents(shard, setup.generator.latent_dim,
                                                                        4 * setup.generator.context_frames)
    sampler = CropSampler(latents, setup.generator.context_frames, setup.tau_frames).to(compute.device)
    G, run = train_gan(setup, short(p.gan.train, steps, snapshot_step=None), sampler,
                       work / f"{tag}_state.pt", work / f"{tag}.csv", compute=compute)
    return setup, G, run, compute


def ddp_worker(p, steps: int, work: Path, device: torch.device) -> None:
    """One rank of check 5 (run by torchrun): train, then compare every tensor of the training
    state and the AdaGP weight across ranks; rank 0 writes ``ddp.json``."""
    _, _, run, compute = gan_training(p, steps, work, device, work / "gan_latents.pt", "ddp")
    state = run.state_dicts()
    tensors = [t for t in _tensors(state) if t.is_floating_point()]
    gp_weight = float(np.exp(state["penalty"]["log_weight"])) if "log_weight" in state["penalty"] else float("nan")
    identical = compute.ranks.identical(tensors + [torch.tensor(gp_weight, dtype=torch.float64)])
    if compute.ranks.main:
        import torch.distributed as dist

        (work / "ddp.json").write_text(json.dumps({
            "identical": identical, "gp_weight": gp_weight, "backend": dist.get_backend(),
            "steps_per_s": steps_per_second(work / "ddp.csv")}))


def _tensors(state) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, dict):
        return [t for v in state.values() for t in _tensors(v)]
    if isinstance(state, (list, tuple)):
        return [t for v in state for t in _tensors(v)]
    return []


def relative_rms(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).pow(2).mean().sqrt() / b.float().pow(2).mean().sqrt().clamp_min(1e-12))


class Checks:
    def __init__(self, params, steps: int, work: Path, device: torch.device, params_path: str = "params.yaml"):
        self.params, self.steps, self.work, self.device = params, steps, work, device
        self.params_path = Path(params_path).resolve()
        self.rows: list[tuple[str, str, str]] = []

    def run(self, name: str, check: Callable[[], str]) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        try:
            detail, status = check(), "PASS"
        except Exception as exc:  # a check's failure is reported, and the next check still runs
            detail, status = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}", "FAIL"
        detail += f" ({time.perf_counter() - start:.0f} s)"
        print(f"[{status}] {name}: {detail}", flush=True)
        self.rows.append((name, status, detail))

    # 1. training ---------------------------------------------------------------------------------
    def autoencoder(self) -> str:
        p = self.params
        cfg, train = builders.autoencoder_config(p), p.autoencoder.train
        crop = int(round(train.crop_seconds * p.audio.sample_rate / p.audio.hop)) * p.audio.hop
        compute = training_compute(p.compute, self.device)
        model, run = train_autoencoder(cfg, short(train, self.steps), RandomAudio(p.audio.channels, crop),
                                       self.work / "ae_state.pt", self.work / "ae.csv", compute=compute)
        builders.save_model(self.work / "autoencoder.pt", "autoencoder", cfg, model, step=run.step)
        return f"batch {train.batch_size}, float32{', compiled' * compute.compile}, {measured(self.work / 'ae.csv')}"

    def gan(self) -> str:
        p = self.params
        shard = self.work / "gan_latents.pt"
        setup, G, run, compute = gan_training(p, self.steps, self.work, self.device, shard, "gan")
        self.gan_rate = steps_per_second(self.work / "gan.csv")
        stats = LatentStats(torch.zeros(setup.generator.latent_dim), torch.ones(setup.generator.latent_dim))
        builders.save_bundle(self.work / "generator.pt", "liveband", setup.generator, G, self.work / "autoencoder.pt",
                             stats, setup.tau_frames, step=run.step, variant="gpu_check")
        return (f"batch {p.gan.train.batch_size}, {how(compute)}, {setup.generator.attn_backend} attention, "
                f"{measured(self.work / 'gan.csv')}")

    def smg(self) -> str:
        p = self.params
        cfg = builders.smg_config(p, SMG_VARIANT)
        compute = training_compute(p.compute, self.device)
        shard = random_latents(self.work / "latents.pt", cfg.latent_dim, 4 * cfg.context_frames)
        rvq = ResidualVQ(builders.rvq_config(p)).to(self.device)
        frames = shard.target_latents().T.contiguous()[: p.rvq.train.kmeans_frames]     # (N, D)
        rvq.init_from_data(frames.to(self.device), generator=torch.Generator().manual_seed(SEED))
        sampler = CropSampler(shard, cfg.context_frames, cfg.tau_frames).to(compute.device)
        train_smg(cfg, short(p.smg.train, self.steps), rvq, sampler, self.work / "smg_state.pt",
                  self.work / "smg.csv", compute=compute)
        return f"batch {p.smg.train.batch_size}, {how(compute)}, {measured(self.work / 'smg.csv')}"

    # 5. data parallel -----------------------------------------------------------------------------
    def ddp_gan(self, ranks: int, profile: str) -> str:
        """The GAN of check 1 on ``ranks`` GPUs under torchrun (module doc, 5)."""
        shard = self.work / "gan_latents.pt"
        if not shard.exists():
            raise LiveBandError("the one-GPU GAN run (check 1) wrote no latents")
        done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                               str(ranks), "-m", "liveband.gpu_check", "--ddp-worker", str(self.work), "--steps",
                               str(self.steps), "--params", str(self.params_path), "--profile", profile,
                               "--device", self.device.type], capture_output=True, text=True)
        if done.returncode != 0:
            raise LiveBandError(f"torchrun: exit {done.returncode}: {done.stderr.strip()[-300:]}")
        result = json.loads((self.work / "ddp.json").read_text())
        if not result["identical"]:
            raise LiveBandError(f"{ranks} ranks ended with different weights or AdaGP weights")
        one = getattr(self, "gan_rate", float("nan"))
        return (f"{ranks} ranks ({result['backend']}), global batch {self.params.gan.train.batch_size}: "
                f"{result['steps_per_s']:.2f} steps/s against {one:.2f} on one (x{result['steps_per_s'] / one:.2f}); "
                f"weights and AdaGP weight {result['gp_weight']:.4g} identical on every rank")

    # 2. parallel == streaming ---------------------------------------------------------------------
    def parallel_equals_streaming(self) -> str:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # float32 means float32
        p = self.params  # the paper profile's generator (FlexAttention), random weights
        bundle = latency.random_bundle(dataclasses.asdict(builders.autoencoder_config(p)),
                                       dataclasses.asdict(builders.generator_config(p, GAN_VARIANT)), seed=SEED)
        errors, bad = [], []
        for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
            G = bundle.model.to(self.device, dtype)
            T, g = G.cfg.context_frames, torch.Generator().manual_seed(SEED)
            mix = torch.randn(2, T, G.cfg.latent_dim, generator=g).to(self.device, dtype)
            noise = torch.randn(2, T, G.cfg.noise_dim, generator=g).to(self.device, dtype)
            cls = torch.tensor([0, 3], device=self.device)
            with torch.inference_mode():
                parallel = G(mix, noise, cls)
                stream = G.stream(2)
                streamed = torch.stack([stream.step(mix[:, t], noise[:, t], cls) for t in range(T)], dim=1)
            error = relative_rms(streamed, parallel)
            errors.append(f"{name} {error:.1e} (<= {TOLERANCE[name]:.0e})")
            if not error <= TOLERANCE[name]:
                bad.append(name)
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = self.params.compute.tf32
        if bad:
            raise LiveBandError("relative RMS " + ", ".join(errors))
        return f"{G.cfg.n_layers} layers x {T} frames, {G.cfg.attn_backend}, relative RMS " + ", ".join(errors)

    # 3. latency ------------------------------------------------------------------------------------
    def latency_rows(self) -> str:
        settings = latency.LatencySettings.from_params(self.params)
        bundle = latency.random_bundle(settings.paper_autoencoder, settings.paper_generator, seed=settings.seed)
        rows = latency.measure_model("paper size", "random (timing only)", bundle, settings, self.device)
        failed = [f"{r['generator_dtype']} {r['mode']}: {r['error']}" for r in rows if "error" in r]
        if failed:
            raise LiveBandError("; ".join(failed))
        return ", ".join(f"{r['generator_dtype']} {r['mode']} {r['mean_ms']:.1f} ms (RTF {r['rtf']:.2f})"
                         for r in rows) + f"; frame {rows[0]['frame_ms']:.1f} ms"

    # 4. accompany ------------------------------------------------------------------------------------
    def accompany(self) -> str:
        sr = self.params.audio.sample_rate
        t = np.arange(10 * sr) / sr
        mix = 0.3 * np.sin(2 * np.pi * 110 * t) * (np.sin(2 * np.pi * 2 * t) > 0)  # a pulsing bass note
        sf.write(self.work / "mix.wav", np.stack([mix, mix], axis=1), sr)
        outs = {}
        for device in (str(self.device), "cpu"):
            out = self.work / f"accompaniment_{device}.wav"
            done = subprocess.run([sys.executable, "-m", "liveband.cli", "accompany", str(self.work / "mix.wav"),
                                   "--checkpoint", str(self.work / "generator.pt"), "--instrument", "Bass",
                                   "--out", str(out), "--device", device], capture_output=True, text=True)
            if done.returncode != 0:
                raise LiveBandError(f"--device {device}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
            outs[device] = sf.read(out, always_2d=True)[0]
        cuda, cpu = outs[str(self.device)], outs["cpu"]
        expected = (len(mix), self.params.audio.channels)
        if cuda.shape != expected or not np.isfinite(cuda).all():
            raise LiveBandError(f"output of shape {cuda.shape}, expected {expected}, finite")
        rms = math.sqrt(float(np.mean(cpu ** 2)))
        diff = math.sqrt(float(np.mean((cuda - cpu) ** 2)))
        if diff > 0.01 * rms + 1e-4:
            raise LiveBandError(f"cuda and cpu outputs differ: RMS difference {diff:.2e} against RMS {rms:.2e}")
        return f"10 s mix, output RMS {rms:.2e}, cuda vs cpu RMS difference {diff:.2e}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/gpu_check.sh", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps per stage (default 200)")
    parser.add_argument("--params", default="params.yaml", help="the params file (default: params.yaml)")
    parser.add_argument("--profile", default="paper", help=argparse.SUPPRESS)  # ci + cpu: the script's own test
    parser.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    parser.add_argument("--ranks", type=int, default=None, help=argparse.SUPPRESS)  # default: the GPUs present
    parser.add_argument("--ddp-worker", default=None, help=argparse.SUPPRESS)       # one rank of check 5
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if args.ddp_worker:
        ddp_worker(load_params(args.params, args.profile), args.steps, Path(args.ddp_worker), device)
        return 0
    if device.type == "cuda" and not torch.cuda.is_available():
        print("error: no CUDA GPU visible to torch (torch.cuda.is_available() is False)", file=sys.stderr)
        return 2
    torch.manual_seed(SEED)
    params = load_params(args.params, args.profile)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"GPU check: {name}, torch {torch.__version__}, CUDA {torch.version.cuda}, {args.profile} profile, "
          f"{args.steps} steps per training stage", flush=True)
    with tempfile.TemporaryDirectory(prefix="liveband-gpu-check-") as work:
        checks = Checks(params, args.steps, Path(work), device, args.params)
        checks.run("train autoencoder", checks.autoencoder)
        checks.run(f"train GAN {GAN_VARIANT}", checks.gan)
        checks.run(f"train SMG {SMG_VARIANT}", checks.smg)
        checks.run("generator: parallel == streaming", checks.parallel_equals_streaming)
        checks.run("latency stage: paper-size rows", checks.latency_rows)
        checks.run(f"liveband accompany --device {device.type}", checks.accompany)
        ranks = args.ranks or (torch.cuda.device_count() if device.type == "cuda" else 1)
        while ranks > 1 and params.gan.train.batch_size % ranks:  # the global batch splits evenly
            ranks -= 1
        if ranks >= 2:
            checks.run(f"GAN data parallel on {ranks} {'GPUs' if device.type == 'cuda' else 'ranks'}",
                       lambda: checks.ddp_gan(ranks, args.profile))
        else:
            print("[SKIP] GAN data parallel: one GPU", flush=True)
    width = max(len(name) for name, _, _ in checks.rows)
    print("\nSummary\n" + "\n".join(f"{name:<{width}}  {status}  {detail}" for name, status, detail in checks.rows))
    failed = sum(status == "FAIL" for _, status, _ in checks.rows)
    print(f"\n{len(checks.rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
