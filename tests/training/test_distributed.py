"""Data-parallel training: N gloo ranks (spawned here, CPU) with global batch B train the same
weights, optimiser states, EMA and AdaGP weight as one process with batch B (to 1e-5), and hold
bit-identical replicas; a DDP run killed and resumed ends exactly where an uninterrupted one
does, and resumes on another number of ranks. GAN sizes are the ci profile's."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ddp_ranks import assert_close, spawn
from liveband.config import AutoencoderTrainParams, load_params
from liveband.data.audio_crops import AudioCropSampler
from liveband.data.latent_store import CropSampler, LatentShard, save_shard
from liveband.data.slakh import index_tree
from liveband.errors import LiveBandError
from liveband.models.autoencoder import AutoencoderConfig, CausalAutoencoder
from liveband.models.rvq import ResidualVQ, RVQConfig
from liveband.stages.train_gan import setup_for, train_params
from liveband.training.autoencoder import train_autoencoder
from liveband.training.distributed import SINGLE, Ranks, join
from liveband.training.gan import train_gan
from liveband.training.smg import train_smg

REPO = Path(__file__).resolve().parents[2]
CI = load_params(REPO / "params.yaml", "ci")
BASE = "ff51d1b"   # main before data-parallel training
CURVE = ("d_loss", "g_loss", "advantage", "gp_weight", "d_grad_norm", "g_grad_norm")


def latent_sampler(path: Path, dim: int, crop: int, tau: int) -> CropSampler:
    g = torch.Generator().manual_seed(0)
    targets = [torch.randn(dim, 90, generator=g) for _ in range(3)]
    mixes = [t.roll(2, dims=1) + 0.3 * torch.randn(dim, 90, generator=g) for t in targets for _ in range(2)]
    db = [torch.full((90,), -20.0)] * 6
    save_shard(path, "train", targets, db[:3], [0, 4, 16], mixes, db, [0, 0, 1, 1, 2, 2], {})
    return CropSampler(LatentShard(path), crop_frames=crop, tau_frames=tau)


@pytest.fixture(scope="module")
def gan(tmp_path_factory):
    """The ci profile's tau01 GAN (6 steps, batch 4, lazy R1/R2, AdaGP, EMA): one process and 2 ranks."""
    tmp = tmp_path_factory.mktemp("gan")
    setup, train = setup_for(CI, "tau01"), train_params(CI, "tau01")
    sampler = latent_sampler(tmp / "train.pt", setup.generator.latent_dim, setup.generator.context_frames,
                             setup.tau_frames)
    _, one = train_gan(setup, train, sampler, tmp / "one.pt", tmp / "one.csv")
    ranks = spawn(2, tmp, train_gan, setup, train, sampler, tmp / "ddp.pt", tmp / "ddp.csv")
    return dict(tmp=tmp, setup=setup, train=train, sampler=sampler, one=one, ranks=ranks)


def test_two_gan_ranks_train_what_one_process_trains(gan):
    one, (r0, r1) = gan["one"], gan["ranks"]
    assert r0["same_everywhere"] and r1["same_everywhere"]
    assert_close(r0["state"], r1["state"], exact=True)                  # every rank: the same replica
    assert_close(r0["model"], r1["model"], exact=True)                  # the served EMA generator too
    assert_close(r0["state"], one.state_dicts())                        # G, D, optimisers, EMA, AdaGP, data RNG
    adagp = one.state_dicts()["penalty"]["log_weight"]
    assert adagp != pytest.approx(torch.log(torch.tensor(5.0)).item())  # AdaGP moved: the check means something
    assert r0["state"]["penalty"]["log_weight"] == pytest.approx(adagp, abs=1e-5)
    for row_ddp, row_one in zip(r0["rows"], one.rows, strict=True):     # the curve rank 0 writes: global means
        for key in CURVE:
            assert row_ddp[key] == pytest.approx(row_one[key], rel=1e-4, abs=1e-5), key
    assert "r1" in r0["rows"][0] and "r2" in r0["rows"][4]              # both lazy penalties ran under DDP


def test_a_killed_gan_ddp_run_resumes_exactly_and_on_another_number_of_ranks(gan):
    tmp, args = gan["tmp"], (gan["setup"], gan["train"], gan["sampler"])
    cut = spawn(2, tmp, train_gan, *args, tmp / "cut.pt", tmp / "cut.csv", stop_after=3)
    assert cut[0]["step"] == 3
    shutil.copy(tmp / "cut.pt", tmp / "cut1.pt")
    resumed = spawn(2, tmp, train_gan, *args, tmp / "cut.pt", tmp / "cut.csv")
    assert_close(resumed[0]["state"], gan["ranks"][0]["state"], exact=True)
    assert_close(resumed[0]["model"], gan["ranks"][0]["model"], exact=True)
    _, alone = train_gan(*args, tmp / "cut1.pt", tmp / "cut1.csv")     # 2 ranks, then 1 process
    assert alone.resumed_from == 3
    assert_close(alone.state_dicts(), gan["one"].state_dicts())


def test_two_smg_ranks_train_what_one_process_trains_and_resume_exactly(tmp_path):
    from liveband import builders

    cfg, train = builders.smg_config(CI, "tau0"), CI.smg.train
    rvq = ResidualVQ(RVQConfig(latent_dim=cfg.latent_dim, n_codebooks=cfg.n_codebooks,
                               codebook_size=cfg.codebook_size))
    rvq.init_from_data(torch.randn(500, cfg.latent_dim), generator=torch.Generator().manual_seed(0))
    sampler = latent_sampler(tmp_path / "train.pt", cfg.latent_dim, cfg.context_frames, cfg.tau_frames)
    _, one = train_smg(cfg, train, rvq, sampler, tmp_path / "one.pt", tmp_path / "one.csv")
    r0, r1 = spawn(2, tmp_path, train_smg, cfg, train, rvq, sampler, tmp_path / "ddp.pt", tmp_path / "ddp.csv")
    assert r0["same_everywhere"] and r1["same_everywhere"]
    assert_close(r0["state"], r1["state"], exact=True)
    assert_close(r0["state"], one.state_dicts())
    assert [row["cross_entropy"] for row in r0["rows"]] == pytest.approx([row["cross_entropy"] for row in one.rows],
                                                                        rel=1e-5)
    args = (cfg, train, rvq, sampler, tmp_path / "cut.pt", tmp_path / "cut.csv")
    assert spawn(2, tmp_path, train_smg, *args, stop_after=3)[0]["step"] == 3      # killed, then resumed
    assert_close(spawn(2, tmp_path, train_smg, *args)[0]["state"], r0["state"], exact=True)


def test_two_autoencoder_ranks_take_the_update_one_process_takes(tmp_path, slakh_tree, tiny_ae):
    """One update. Adam's first moments (the averaged gradient x 0.2) and second moments agree to
    1e-5 everywhere; the weights wherever the gradient is above rounding level (Adam's first step
    is lr x g / (|g| + eps): where g is rounding noise, so is its sign). Longer runs are not
    compared at 1e-5: this tiny autoencoder at lr 3e-3 amplifies float rounding about tenfold per
    step in one process too (a batch summed in two halves separates by 1e-4 after 2 steps)."""
    sampler = AudioCropSampler(index_tree(slakh_tree, 44100), "train", 22050, 1, 4 * 2048, mix_probability=0.5)
    cfg = AutoencoderConfig(**tiny_ae)
    train = AutoencoderTrainParams(steps=1, batch_size=4, crop_seconds=0.4, lr=3e-3, warmup_steps=1,
                                   checkpoint_every=1, mix_probability=0.5, fft_sizes=(256, 512),
                                   waveform_weight=1.0, seed=0)
    _, one = train_autoencoder(cfg, train, sampler, tmp_path / "one.pt", tmp_path / "one.csv")
    r0, r1 = spawn(2, tmp_path, train_autoencoder, cfg, train, sampler, tmp_path / "ddp.pt", tmp_path / "ddp.csv")
    assert r0["same_everywhere"] and r1["same_everywhere"]
    ddp, alone = r0["state"], one.state_dicts()
    assert_close(ddp["optimizer"], alone["optimizer"])
    names = [name for name, _ in CausalAutoencoder(cfg).named_parameters()]
    for i, name in enumerate(names):
        above_rounding = alone["optimizer"]["state"][i]["exp_avg"].abs() > 1e-6
        w_ddp, w_one = ddp["model"][name], alone["model"][name]
        assert torch.allclose(w_ddp[above_rounding], w_one[above_rounding], rtol=0, atol=1e-5), name
        assert bool((w_ddp - w_one).abs().max() <= 2 * train.lr), name
    for key in ("loss", "grad_norm"):
        assert r0["rows"][0][key] == pytest.approx(one.rows[0][key], rel=1e-5), key


def test_one_rank_is_the_identity_and_runs_no_collective(monkeypatch):
    def no_collective(*args, **kwargs):
        raise AssertionError("a collective ran in a single process")

    monkeypatch.setattr(torch.distributed, "all_reduce", no_collective)
    batch = (torch.zeros(4, 3), torch.arange(4))
    advantage = torch.tensor(0.5)
    stats = {"d_loss": 1.0}
    assert SINGLE.local(batch) is batch and SINGLE.mean(advantage) is advantage
    assert SINGLE.mean_stats(stats) is stats and SINGLE.main
    SINGLE.average_gradients(torch.nn.Linear(2, 2))
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert join(torch.device("cpu")) == (SINGLE, torch.device("cpu"))


def test_each_rank_takes_its_contiguous_share_and_an_uneven_batch_is_refused():
    batch = torch.arange(6)
    assert [Ranks(r, 3).local(batch).tolist() for r in range(3)] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(LiveBandError, match="batch_size: 6 does not split over 4 ranks"):
        Ranks(1, 4).local(batch)


def code_before_ddp(tmp_path: Path, module: str):
    """``liveband.training.<module>`` as it was at BASE (from git), imported under another name."""
    path = f"src/liveband/training/{module}.py"
    old = subprocess.run(["git", "-C", str(REPO), "show", f"{BASE}:{path}"], capture_output=True, text=True)
    if old.returncode:
        pytest.skip(f"no git history with {BASE} here: {old.stderr.strip()}")
    file = tmp_path / f"before_ddp_{module}.py"
    file.write_text(old.stdout)
    spec = importlib.util.spec_from_file_location(file.stem, file)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[file.stem] = loaded
    try:
        spec.loader.exec_module(loaded)
    except ImportError as exc:  # the package moved on since BASE
        pytest.skip(f"the code of {BASE} no longer imports: {exc}")
    return loaded


def assert_same_run(old, new) -> None:
    """Bit for bit: every attached state (weights, optimisers, EMA, AdaGP, data RNG), the curve
    but its clock columns, and the checkpoint's state on disk."""
    assert_close(old[1].state_dicts(), new[1].state_dicts(), exact=True)
    assert_close(old[0].state_dict(), new[0].state_dict(), exact=True)
    clock = ("seconds", "steps_per_s")
    assert [{k: v for k, v in row.items() if k not in clock} for row in old[1].rows] == \
        [{k: v for k, v in row.items() if k not in clock} for row in new[1].rows]
    saved = [torch.load(run.checkpoint_path, weights_only=True)["state"] for run in (old[1], new[1])]
    assert_close(*saved, exact=True)


def test_one_process_trains_the_gan_bit_for_bit_as_before(tmp_path):
    old = code_before_ddp(tmp_path, "gan")
    setup, train = setup_for(CI, "tau01"), train_params(CI, "tau01")
    sampler = latent_sampler(tmp_path / "train.pt", setup.generator.latent_dim, setup.generator.context_frames,
                             setup.tau_frames)
    runs = [fn(setup, train, sampler, tmp_path / f"{tag}.pt", tmp_path / f"{tag}.csv")
            for tag, fn in (("old", old.train_gan), ("new", train_gan))]
    assert_same_run(*runs)


def test_one_process_trains_smg_and_the_autoencoder_bit_for_bit_as_before(tmp_path, slakh_tree, tiny_ae):
    from liveband import builders

    old_smg, old_ae = code_before_ddp(tmp_path, "smg"), code_before_ddp(tmp_path, "autoencoder")
    cfg = builders.smg_config(CI, "tau0")
    rvq = ResidualVQ(RVQConfig(latent_dim=cfg.latent_dim, n_codebooks=cfg.n_codebooks,
                               codebook_size=cfg.codebook_size))
    rvq.init_from_data(torch.randn(500, cfg.latent_dim), generator=torch.Generator().manual_seed(0))
    sampler = latent_sampler(tmp_path / "train.pt", cfg.latent_dim, cfg.context_frames, cfg.tau_frames)
    assert_same_run(*[fn(cfg, CI.smg.train, rvq, sampler, tmp_path / f"smg_{tag}.pt", tmp_path / f"smg_{tag}.csv")
                      for tag, fn in (("old", old_smg.train_smg), ("new", train_smg))])
    audio = AudioCropSampler(index_tree(slakh_tree, 44100), "train", 22050, 1, 4 * 2048, mix_probability=0.5)
    train = AutoencoderTrainParams(steps=3, batch_size=2, crop_seconds=0.4, lr=3e-3, warmup_steps=1,
                                   checkpoint_every=2, mix_probability=0.5, fft_sizes=(256, 512),
                                   waveform_weight=1.0, seed=0)
    assert_same_run(*[fn(AutoencoderConfig(**tiny_ae), train, audio, tmp_path / f"ae_{tag}.pt",
                         tmp_path / f"ae_{tag}.csv") for tag, fn in (("old", old_ae.train_autoencoder),
                                                                    ("new", train_autoencoder))])
