"""Autoencoder training: an interrupted-then-resumed run ends with the same weights as an
uninterrupted one (deterministic CPU run, small model), and the loss goes down."""

import dataclasses

import pandas as pd
import torch

from liveband.config import AutoencoderTrainParams
from liveband.data.audio_crops import AudioCropSampler
from liveband.data.slakh import index_tree
from liveband.models.autoencoder import AutoencoderConfig
from liveband.training.autoencoder import train_autoencoder


def setup(slakh_tree, tiny_ae, steps=6):
    index = index_tree(slakh_tree, 44100)
    sampler = AudioCropSampler(index, "train", 22050, 1, 4 * 2048, mix_probability=0.5)
    cfg = AutoencoderConfig(**tiny_ae)
    train = AutoencoderTrainParams(steps=steps, batch_size=2, crop_seconds=0.4, lr=3e-3, warmup_steps=1,
                                   checkpoint_every=2, mix_probability=0.5, fft_sizes=(256, 512),
                                   waveform_weight=1.0, seed=0)
    return cfg, train, sampler


def test_resume_equals_uninterrupted(tmp_path, slakh_tree, tiny_ae):
    cfg, train, sampler = setup(slakh_tree, tiny_ae)
    straight, _ = train_autoencoder(cfg, train, sampler, tmp_path / "a.pt", tmp_path / "a.csv")
    train_autoencoder(cfg, train, sampler, tmp_path / "b.pt", tmp_path / "b.csv", stop_after=3)
    resumed, run = train_autoencoder(cfg, train, sampler, tmp_path / "b.pt", tmp_path / "b.csv")
    assert run.resumed_from == 2  # last checkpoint before the interruption
    for (name, p), q in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(p, q), name


def test_loss_decreases(tmp_path, slakh_tree, tiny_ae):
    cfg, train, sampler = setup(slakh_tree, tiny_ae, steps=30)
    train = dataclasses.replace(train, checkpoint_every=30)
    train_autoencoder(cfg, train, sampler, tmp_path / "a.pt", tmp_path / "a.csv")
    loss = pd.read_csv(tmp_path / "a.csv")["loss"]
    assert loss.tail(5).mean() < loss.head(5).mean()
