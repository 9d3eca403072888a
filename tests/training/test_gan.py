"""A short CPU GAN run: finite stats, weights move, AdaGP moves (fixed does not), exact resume."""

import dataclasses

import pandas as pd
import pytest
import torch

from liveband.config import ComputeParams, EmaParams, GanTrainParams, GradientPenaltyParams
from liveband.data.latent_store import CropSampler, LatentShard, save_shard
from liveband.errors import LiveBandError
from liveband.models.discriminator import DiscriminatorConfig
from liveband.models.generator import GeneratorConfig
from liveband.training.compute import Compute, training_compute
from liveband.training.gan import GanSetup, train_gan
from liveband.utils.device import ENV_VAR, resolve_device

D = 8


@pytest.fixture
def sampler(tmp_path):
    g = torch.Generator().manual_seed(0)
    targets = [torch.randn(D, 60, generator=g) for _ in range(3)]
    mixes = [t.roll(2, dims=1) + 0.3 * torch.randn(D, 60, generator=g) for t in targets for _ in range(2)]
    db = [torch.full((60,), -20.0)] * 6
    save_shard(tmp_path / "train.pt", "train", targets, db[:3], [0, 4, 16], mixes, db, [0, 0, 1, 1, 2, 2], {})
    return CropSampler(LatentShard(tmp_path / "train.pt"), crop_frames=16, tau_frames=1)


def setup(mode="adaptive", steps=6):
    return GanSetup(GeneratorConfig(latent_dim=D, noise_dim=4, d_model=32, n_layers=2, n_heads=2, context_frames=16),
                    DiscriminatorConfig(latent_dim=D, width=32, groups=8), tau_frames=1, gp_mode=mode,
                    gp_weight=1.0, steps=steps)


def train_params(**kw):
    gp = GradientPenaltyParams(mode="adaptive", weight=1.0, target_advantage=0.0, step_size=0.5,
                               penalty_interval=2)
    base = dict(steps=6, batch_size=4, lr=1e-3, betas=(0.0, 0.99), warmup_steps=2, class_dropout_generator=0.2,
                class_dropout_discriminator=0.2, gradient_penalty=gp, checkpoint_every=3, seed=0)
    return GanTrainParams(**(base | kw))


def test_short_run_is_finite_and_learns_something(tmp_path, sampler):
    torch.manual_seed(0)
    from liveband.models.generator import Generator

    before = Generator(setup().generator).state_dict()
    G, run = train_gan(setup(), train_params(), sampler, tmp_path / "s.pt", tmp_path / "c.csv")
    curve = pd.read_csv(tmp_path / "c.csv")
    assert len(curve) == 6 and curve[["d_loss", "g_loss", "advantage"]].notna().all().all()
    assert curve.r1.notna().sum() == 2 and curve.r2.notna().sum() == 1   # lazy: steps 0, 4 (R1) and 2 (R2)
    moved = [not torch.equal(before[k], v) for k, v in G.state_dict().items()]
    assert sum(moved) > len(moved) // 2
    assert curve.gp_weight.nunique() > 1                                   # AdaGP adapts


def test_fixed_penalty_never_moves(tmp_path, sampler):
    train_gan(setup("fixed"), train_params(), sampler, tmp_path / "s.pt", tmp_path / "c.csv")
    assert pd.read_csv(tmp_path / "c.csv").gp_weight.nunique() == 1


def test_resume_continues_the_same_run(tmp_path, sampler):
    straight, _ = train_gan(setup(), train_params(), sampler, tmp_path / "a.pt", tmp_path / "a.csv")
    train_gan(setup(), train_params(), sampler, tmp_path / "b.pt", tmp_path / "b.csv", stop_after=3)
    resumed, run = train_gan(setup(), train_params(), sampler, tmp_path / "b.pt", tmp_path / "b.csv")
    assert run.resumed_from == 3
    for (k, p), q in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(p, q), k


def test_divergence_stops_with_the_last_good_checkpoint(tmp_path, sampler):
    bad = dataclasses.replace(train_params(), lr=1e30)
    with pytest.raises(LiveBandError, match="training diverged at step"):
        train_gan(setup(steps=40), bad, sampler, tmp_path / "s.pt", tmp_path / "c.csv")


def test_snapshot_equals_a_run_of_the_ablation_length(tmp_path, sampler):
    """The ablation row taken from the longer run's snapshot is the model a shorter run would train."""
    from liveband.training.gan import load_snapshot

    short, _ = train_gan(setup(steps=4), train_params(steps=4), sampler, tmp_path / "a.pt", tmp_path / "a.csv")
    long_params = train_params(snapshot_step=4)
    _, run = train_gan(setup(steps=6), long_params, sampler, tmp_path / "b.pt", tmp_path / "b.csv", stop_after=5)
    _, run = train_gan(setup(steps=6), long_params, sampler, tmp_path / "b.pt", tmp_path / "b.csv")  # resumed past it
    snapshot = load_snapshot(tmp_path / "b.pt", run.config, 4)
    for (k, p), q in zip(short.state_dict().items(), snapshot.values()):
        assert torch.equal(p, q), k
    with pytest.raises(LiveBandError, match="snapshot of another run"):
        load_snapshot(tmp_path / "b.pt", run.config, 3)


def test_explicit_cpu_device_and_preloaded_crops_train_the_same_weights(tmp_path, sampler):
    default, _ = train_gan(setup(), train_params(), sampler, tmp_path / "a.pt", tmp_path / "a.csv")
    compute = training_compute(ComputeParams(preload=True), torch.device("cpu"))
    explicit, _ = train_gan(setup(), train_params(), sampler.to(compute.device), tmp_path / "b.pt",
                            tmp_path / "b.csv", compute=compute)
    for (k, p), q in zip(default.state_dict().items(), explicit.state_dict().values()):
        assert torch.equal(p, q), k


def test_bf16_autocast_path_trains_finite(tmp_path, sampler):
    """The CUDA path's autocast, executed on the CPU's bfloat16 autocast (the machine check is bypassed)."""
    bf16 = Compute(device=torch.device("cpu"), bf16=True)
    G, run = train_gan(setup(steps=3), train_params(steps=3), sampler, tmp_path / "s.pt", tmp_path / "c.csv",
                       compute=bf16)
    curve = pd.read_csv(tmp_path / "c.csv")
    assert run.finished and curve[["d_loss", "g_loss"]].notna().all().all()
    assert all(p.dtype == torch.float32 for p in G.parameters())  # autocast keeps float32 master weights


def test_checkpoint_of_one_device_setting_resumes_under_another(tmp_path, sampler, monkeypatch):
    straight, _ = train_gan(setup(), train_params(), sampler, tmp_path / "a.pt", tmp_path / "a.csv")
    explicit = training_compute(ComputeParams(), resolve_device("cpu"))
    train_gan(setup(), train_params(), sampler, tmp_path / "b.pt", tmp_path / "b.csv", stop_after=3,
              compute=explicit)
    monkeypatch.setenv(ENV_VAR, "auto")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    resumed, run = train_gan(setup(), train_params(), sampler, tmp_path / "b.pt", tmp_path / "b.csv",
                             compute=training_compute(ComputeParams(), resolve_device(None)))
    assert run.resumed_from == 3
    stored = torch.load(tmp_path / "b.pt", weights_only=True)  # no map_location: stored on the CPU
    assert all(t.device.type == "cpu" for t in stored["state"]["generator"].values())
    for (k, p), q in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(p, q), k


def test_adagp_holds_its_weight_through_the_warm_up(tmp_path, sampler):
    train_gan(setup(), train_params(warmup_steps=3), sampler, tmp_path / "s.pt", tmp_path / "c.csv")
    weights = pd.read_csv(tmp_path / "c.csv").gp_weight.tolist()     # the weight each D step used
    assert weights[:4] == [1.0] * 4 and weights[4] != 1.0            # updates after steps 0-2 are skipped
    gp = dataclasses.replace(train_params().gradient_penalty, adapt_after=1)
    train_gan(setup(), train_params(warmup_steps=3, gradient_penalty=gp), sampler, tmp_path / "t.pt",
              tmp_path / "d.csv")
    assert pd.read_csv(tmp_path / "d.csv").gp_weight.tolist()[2] != 1.0


def test_ema_generator_is_returned_and_the_raw_weights_stay_in_the_state(tmp_path, sampler):
    ema = EmaParams(half_life_samples=8.0, rampup=0.5)
    served, _ = train_gan(setup(), train_params(ema=ema), sampler, tmp_path / "s.pt", tmp_path / "c.csv")
    state = torch.load(tmp_path / "s.pt", weights_only=True)["state"]
    assert all(torch.equal(v, state["ema"][k]) for k, v in served.state_dict().items())
    assert not all(torch.equal(v, state["generator"][k]) for k, v in served.state_dict().items())
    raw, _ = train_gan(setup(), train_params(), sampler, tmp_path / "r.pt", tmp_path / "r.csv")
    for k, v in raw.state_dict().items():                             # the EMA does not change training
        assert torch.equal(v, state["generator"][k]), k


def test_ema_resumes_bit_identical(tmp_path, sampler):
    params = train_params(ema=EmaParams(half_life_samples=8.0, rampup=0.5))
    straight, _ = train_gan(setup(), params, sampler, tmp_path / "a.pt", tmp_path / "a.csv")
    train_gan(setup(), params, sampler, tmp_path / "b.pt", tmp_path / "b.csv", stop_after=3)
    resumed, run = train_gan(setup(), params, sampler, tmp_path / "b.pt", tmp_path / "b.csv")
    assert run.resumed_from == 3
    a, b = (torch.load(tmp_path / f"{n}.pt", weights_only=True)["state"] for n in "ab")
    for part in ("ema", "generator"):
        for k, v in a[part].items():
            assert torch.equal(v, b[part][k]), (part, k)
    for (k, p), q in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(p, q), k
