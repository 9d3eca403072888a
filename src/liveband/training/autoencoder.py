"""Autoencoder training: multi-resolution STFT + L1 waveform reconstruction, resumable.

The paper retrained CoDiCodec's causal variant with its consistency training, which is not
public; this project trains the causal autoencoder as a plain reconstruction autoencoder
(spectral + waveform losses). See docs/AUTOENCODER.md.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import torch

from liveband.data.audio_crops import AudioCropSampler
from liveband.losses.spectral import MultiResolutionSTFTLoss
from liveband.models.autoencoder import AutoencoderConfig, CausalAutoencoder
from liveband.training.compute import CPU, Compute
from liveband.training.run import GeneratorState, TrainingRun, set_lr, warmup_lr

log = logging.getLogger("liveband.autoencoder")


def train_autoencoder(cfg: AutoencoderConfig, train, sampler: AudioCropSampler, checkpoint_path: Path,
                      curve_path: Path, stop_after: int | None = None,
                      compute: Compute = CPU) -> tuple[CausalAutoencoder, TrainingRun]:
    """Train (or resume) the autoencoder; ``train`` is AutoencoderTrainParams. On
    ``compute.device``, compiled if asked; always float32 (its STFT and inverse-STFT layers
    have no bfloat16 kernels), so ``compute.bf16`` does not apply here. Under ``torchrun``
    (``compute.ranks``) each rank trains on its slice of the global batch and the gradients are
    averaged over ranks before clipping (:mod:`liveband.training.distributed`)."""
    torch.manual_seed(train.seed)
    model = CausalAutoencoder(cfg).train()
    compute.prepare(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, betas=(0.8, 0.99), weight_decay=0.0)
    data_rng = torch.Generator().manual_seed(train.seed + 1)
    stft_loss = MultiResolutionSTFTLoss(train.fft_sizes).to(compute.device)
    run = TrainingRun("autoencoder_training", {"model": dataclasses.asdict(cfg), "train": dataclasses.asdict(train)},
                      checkpoint_path, curve_path, train.steps, train.checkpoint_every,
                      desc="autoencoder", stop_after=stop_after, main=compute.ranks.main)
    run.attach(model=model, optimizer=optimizer, data=GeneratorState(data_rng))
    run.resume()
    for step in run.steps():
        set_lr(optimizer, warmup_lr(step, train.lr, train.warmup_steps))
        audio = compute.shard(sampler.sample(train.batch_size, data_rng))  # (B, C, T): this rank's share
        recon, _ = model(audio)                                      # (B, C, T)
        spectral = stft_loss(recon, audio)
        waveform = (recon - audio).abs().mean()
        loss = spectral + train.waveform_weight * waveform
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        compute.ranks.average_gradients(model)
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        run.record(step, compute.ranks.mean_stats({"loss": loss.item(), "stft": spectral.item(),
                                                   "l1": waveform.item(), "grad_norm": grad_norm.item()}))
    return model.eval(), run
