"""Stage train_gan on the ci profile: the bundles hold the generator's weight average (not the
raw weights), the figure and the bundle carry AdaGP's tracking of its target."""

import argparse
import dataclasses
from pathlib import Path

import pytest
import torch

from liveband.builders import describe_bundle, load_bundle, save_model
from liveband.config import load_params
from liveband.data.latent_norm import LatentStats
from liveband.data.latent_store import save_shard
from liveband.models.autoencoder import AutoencoderConfig, CausalAutoencoder
from liveband.stages import train_gan
from liveband.training.gan import load_snapshot

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def workdir(tmp_path, monkeypatch, tiny_ae):
    params = load_params(REPO / "params.yaml", "ci")
    dim = params.autoencoder.model["latent_dim"]
    monkeypatch.chdir(tmp_path)
    ae_cfg = AutoencoderConfig(**(tiny_ae | {"latent_dim": dim}))
    save_model("artifacts/autoencoder/model.pt", "autoencoder", ae_cfg, CausalAutoencoder(ae_cfg))
    g = torch.Generator().manual_seed(0)
    targets = [torch.randn(dim, 80, generator=g) for _ in range(3)]
    mixes = [t.roll(2, dims=1) + 0.3 * torch.randn(dim, 80, generator=g) for t in targets]
    db = [torch.full((80,), -20.0)] * 3
    save_shard("artifacts/latents/train.pt", "train", targets, db, [0, 4, 16], mixes, db, [0, 1, 2], {})
    LatentStats(torch.zeros(dim), torch.ones(dim)).save("artifacts/latents/stats.json")
    return params


def run_stage(params):
    train_gan.run(params, argparse.Namespace(variant="tau01", stop_after=None, device=torch.device("cpu")))
    state = torch.load("artifacts/checkpoints/gan_tau01.pt", weights_only=True)
    return state, torch.load("artifacts/gan/tau01/generator.pt", weights_only=True)["model"]


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_bundles_hold_the_weight_average_not_the_raw_generator(workdir):
    assert workdir.gan.train.ema is not None and workdir.gan.train.snapshot_step < workdir.gan.train.steps
    state, saved = run_stage(workdir)
    assert same(saved, state["state"]["ema"]) and not same(saved, state["state"]["generator"])
    snapshot = torch.load("artifacts/gan/tau01/snapshot.pt", weights_only=True)
    step = workdir.gan.train.snapshot_step
    assert snapshot["step"] == step and same(snapshot["model"], load_snapshot(
        Path("artifacts/checkpoints/gan_tau01.pt"), state["config"], step))
    info = describe_bundle(load_bundle("artifacts/gan/tau01/generator.pt"))   # what accompany/jam load
    assert info["ema"] is True and info["advantage_error_second_half"] >= 0
    assert Path("results/figures/gan_tau01.png").stat().st_size > 0


def test_without_ema_the_raw_generator_is_saved(workdir):
    train = dataclasses.replace(workdir.gan.train, ema=None)
    state, saved = run_stage(dataclasses.replace(workdir, gan=dataclasses.replace(workdir.gan, train=train)))
    assert "ema" not in state["state"] and same(saved, state["state"]["generator"])
