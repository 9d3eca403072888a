import numpy as np
import pytest
import torch

from liveband.data.latent_norm import LatentStats, RunningMoments
from liveband.data.latent_store import CropSampler, LatentShard, save_shard
from liveband.errors import LiveBandError


def test_running_moments_match_numpy():
    torch.manual_seed(0)
    chunks = [torch.randn(3, n) * torch.tensor([[1.0], [2.0], [0.5]]) + 4 for n in (5, 17, 40)]
    moments = RunningMoments(3)
    for c in chunks:
        moments.update(c)
    stats = moments.stats()
    allx = torch.cat(chunks, dim=1).numpy()
    assert np.allclose(stats.mean.numpy(), allx.mean(1), atol=1e-5)
    assert np.allclose(stats.std.numpy(), allx.std(1, ddof=1), atol=1e-5)


def test_normalise_round_trip_both_layouts(tmp_path):
    stats = LatentStats(torch.tensor([1.0, -2.0]), torch.tensor([2.0, 0.5]))
    x = torch.randn(4, 2, 9)
    assert torch.allclose(stats.denormalise(stats.normalise(x)), x, atol=1e-6)
    xt = x.transpose(1, 2)
    assert torch.allclose(stats.normalise(xt, channel_dim=-1), stats.normalise(x).transpose(1, 2))
    stats.save(tmp_path / "s.json")
    again = LatentStats.load(tmp_path / "s.json")
    assert torch.equal(again.mean, stats.mean) and torch.equal(again.std, stats.std)


def test_bad_stats_file(tmp_path):
    (tmp_path / "s.json").write_text('{"mean": [0], "std": [0]}')
    with pytest.raises(LiveBandError, match="std must be positive"):
        LatentStats.load(tmp_path / "s.json")


def make_shard(tmp_path, frames=30):
    d = 4
    targets = [torch.arange(frames, dtype=torch.float32).repeat(d, 1) + 1000 * k for k in range(2)]
    target_db = [torch.full((frames,), -20.0) for _ in range(2)]
    target_db[1][:20] = -90.0  # mostly silent at the start
    mixes = [t + 0.5 for t in targets for _ in range(2)]
    mix_db = [torch.full((frames,), -20.0) for _ in range(4)]
    path = tmp_path / "train.pt"
    save_shard(path, "train", targets, target_db, [3, 5], mixes, mix_db, [0, 0, 1, 1], {"x": 1})
    return LatentShard(path)


def test_windows_are_time_aligned_and_cover_anticipation(tmp_path):
    shard = make_shard(tmp_path)
    assert len(shard) == 4
    sampler = CropSampler(shard, crop_frames=8, tau_frames=2)
    mix, target, cls = sampler.sample(16, torch.Generator().manual_seed(0))
    assert mix.shape == (16, 10, 4) and target.shape == (16, 10, 4)
    # mix and target frames of a window are the same instants of the same song
    assert torch.equal(target[..., 0], mix[..., 0] - 0.5)
    assert torch.equal(torch.diff(target[..., 0], dim=1), torch.ones(16, 9))
    assert set(cls.tolist()) <= {3, 5}


def test_normalised_windows(tmp_path):
    shard = make_shard(tmp_path)
    stats = LatentStats(torch.full((4,), 10.0), torch.full((4,), 2.0))
    mix, target, _ = CropSampler(shard, 8, stats=stats).sample(4, torch.Generator().manual_seed(0))
    raw_mix, raw_target, _ = CropSampler(shard, 8).sample(4, torch.Generator().manual_seed(0))
    assert torch.allclose(mix, (raw_mix - 10) / 2) and torch.allclose(target, (raw_target - 10) / 2)


def test_silent_crops_are_skipped(tmp_path):
    shard = make_shard(tmp_path)
    sampler = CropSampler(shard, crop_frames=8, tau_frames=0)
    for i, starts in sampler.candidates:
        if shard.example(i).instrument == 5:
            assert starts.min() >= 16  # target active for >= half of every crop


def test_no_active_crop_is_an_error(tmp_path):
    with pytest.raises(LiveBandError, match="no example has an active window"):
        CropSampler(make_shard(tmp_path), crop_frames=25, tau_frames=6)
