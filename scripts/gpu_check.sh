#!/usr/bin/env bash
# Check a CUDA machine for the paper profile, after the README's set-up (< 10 min on one GPU;
# check 5, on several GPUs, adds one more GAN run).
#
#   scripts/gpu_check.sh            # 200 training steps per stage
#   scripts/gpu_check.sh --steps 50 # quicker
#
# Needs no data set (seeded random latents and audio, the paper profile's model sizes).
# Checks, each printed PASS or FAIL with its numbers, then a summary table:
#   1. autoencoder, GAN (FlexAttention) and SMG training with the paper profile's compute
#      params (bfloat16 autocast, torch.compile, TF32, latents on the GPU): steps/s, peak memory;
#   2. the paper-size generator's parallel pass == its streaming step on the GPU
#      (relative RMS: float32 <= 1e-4, bfloat16 <= 3e-2);
#   3. the latency stage's paper-size rows on the GPU;
#   4. `liveband accompany --device cuda` on a 10 s test mix, and the same checkpoint on the CPU.
#   5. with 2 or more GPUs: the GAN of 1 data parallel on every GPU (torchrun, NCCL, the same
#      global batch split over the GPUs, the same steps): every rank must end with identical
#      weights and AdaGP weight; steps/s against the one-GPU run of 1. Skipped on one GPU.
# Exit code: 0 all passed, 1 a check failed, 2 no CUDA GPU. Details: src/liveband/gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}"
PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m liveband.gpu_check "$@"
