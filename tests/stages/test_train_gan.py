"""Stage train_gan on the ci profile: the bundles hold the generator's weight average (not the
raw weights), the figure and the bundle carry AdaGP's tracking of its target."""

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ddp_ranks import assert_close
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


@pytest.mark.slow
def test_torchrun_on_two_ranks_writes_once_what_one_process_writes(workdir, tmp_path):
    """`torchrun --nproc-per-node 2 -m liveband.stages.train_gan` (gloo): rank 0 alone writes the
    log, the timings, the curve and the bundles, and they hold one process's weights (to 1e-5)."""
    ddp = tmp_path / "ddp"
    shutil.copytree("artifacts", ddp / "artifacts")
    state, saved = run_stage(workdir)
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
                        "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                    "-m", "liveband.stages.train_gan", "--params", str(REPO / "params.yaml"), "--profile", "ci",
                    "--variant", "tau01", "--device", "cpu"], cwd=ddp, env=env, check=True, timeout=600,
                   capture_output=True)
    assert_close(torch.load(ddp / "artifacts/checkpoints/gan_tau01.pt", weights_only=True)["state"], state["state"])
    assert_close(torch.load(ddp / "artifacts/gan/tau01/generator.pt", weights_only=True)["model"], saved)
    log = (ddp / "results/logs/train_gan-tau01.log").read_text()
    assert log.count("stage train_gan-tau01, profile ci") == 1 and "done in" in log
    assert "data parallel: rank 0 of 2 on cpu (gloo)" in log and "rank 1 of 2" not in log
    assert sorted(p.name for p in (ddp / "results/logs").iterdir()) == ["train_gan-tau01.log"]
    assert (ddp / "results/timings/train_gan-tau01.json").is_file()
    assert len((ddp / "results/gan/tau01/curve.csv").read_text().splitlines()) == 1 + workdir.gan.train.steps
