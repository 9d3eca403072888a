"""Residual VQ: round trip by level, k-means vs random init, EMA training, restarts, shapes."""

from __future__ import annotations

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.models.rvq import ResidualVQ, RVQConfig, kmeans, nearest_code


def clustered_latents(n: int = 2048, dim: int = 8, n_centres: int = 24, seed: int = 0):
    """(1, n, dim) latents drawn around a few centres, like frames of recurring sounds."""
    g = torch.Generator().manual_seed(seed)
    centres = 3.0 * torch.randn(n_centres, dim, generator=g)
    which = torch.randint(n_centres, (n,), generator=g)
    return (centres[which] + 0.3 * torch.randn(n, dim, generator=g)).unsqueeze(0)


def rel_error(rvq: ResidualVQ, x: torch.Tensor, n_codebooks: int | None = None) -> float:
    rec = rvq.decode(rvq.encode(x), n_codebooks)
    return float((rec - x).pow(2).mean() / x.pow(2).mean())


def fitted(x, **kw) -> ResidualVQ:
    torch.manual_seed(0)
    cfg = RVQConfig(latent_dim=x.shape[-1], **{"n_codebooks": 4, "codebook_size": 16, **kw})
    rvq = ResidualVQ(cfg)
    rvq.init_from_data(x, generator=torch.Generator().manual_seed(1))
    return rvq


def test_error_decreases_with_each_codebook():
    x = clustered_latents()
    rvq = fitted(x)
    errors = [rel_error(rvq, x, k) for k in range(1, 5)]
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False)), errors
    assert errors[-1] < 0.5 * errors[0], errors


def test_first_k_of_full_codes_equal_k_level_encoding():
    x = clustered_latents(256)
    rvq = fitted(x)
    full = rvq.encode(x)  # (1, T, 4)
    assert full.shape == (1, 256, 4) and full.dtype == torch.long
    assert torch.equal(rvq.encode(x, n_codebooks=2), full[..., :2])
    assert torch.allclose(rvq.decode(full, 2), rvq.decode(full[..., :2]))


def test_kmeans_init_beats_random_init():
    x = clustered_latents()
    torch.manual_seed(0)
    random_rvq = ResidualVQ(RVQConfig(latent_dim=8, n_codebooks=4, codebook_size=16))
    assert not bool(random_rvq.initialised)
    kmeans_rvq = fitted(x)
    assert bool(kmeans_rvq.initialised)
    assert rel_error(kmeans_rvq, x) < 0.5 * rel_error(random_rvq, x)


def test_lloyd_iterations_improve_on_data_seeded_codes():
    x = clustered_latents()
    seeded_only = fitted(x, kmeans_iters=0)
    assert rel_error(fitted(x, kmeans_iters=20), x, 1) < rel_error(seeded_only, x, 1)


def test_ema_training_reduces_error_from_random_init():
    x = clustered_latents()
    torch.manual_seed(0)
    # No restarts: only the EMA updates can move the codes.
    cfg = RVQConfig(
        latent_dim=8, n_codebooks=4, codebook_size=16, decay=0.9, dead_code_threshold=0.0
    )
    rvq = ResidualVQ(cfg)
    start = rel_error(rvq, x)
    rvq.train()
    errors = []
    for step in range(8):
        batch = x[:, step * 256 : (step + 1) * 256]
        rvq(batch)
        errors.append(rel_error(rvq, x))
    assert errors[-1] < 0.5 * start, (start, errors)


def test_eval_mode_forward_leaves_codebooks_alone():
    x = clustered_latents(256)
    rvq = fitted(x).eval()
    before = rvq.codebooks.clone()
    rvq(x)
    assert torch.equal(before, rvq.codebooks)


def test_dead_code_is_restarted_on_the_data():
    x = clustered_latents(512)
    rvq = fitted(x, n_codebooks=1, decay=0.5)
    rvq.codebooks[0, 0] = 1e3  # a code nothing maps to
    rvq.ema_sum[0, 0] = 1e3 * rvq.ema_count[0, 0]
    rvq.train()
    for _ in range(20):
        rvq(x)
    distance = (x[0] - rvq.codebooks[0, 0]).norm(dim=-1).min()
    assert distance < 1.0


def test_forward_is_straight_through_with_commit_loss():
    x = clustered_latents(128).requires_grad_(True)
    rvq = fitted(x.detach()).eval()
    quantised, codes, commit = rvq(x)
    assert torch.allclose(quantised, rvq.decode(codes), atol=1e-5)
    assert torch.allclose(commit, (x - rvq.decode(codes)).pow(2).mean())
    quantised.sum().backward()
    assert torch.allclose(x.grad, torch.ones_like(x))  # identity gradient


def test_kmeans_and_nearest_code_on_obvious_clusters():
    x = torch.tensor([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    centroids, counts = kmeans(x, 2, iters=5, generator=torch.Generator().manual_seed(0))
    assert sorted(counts.tolist()) == [2.0, 2.0]
    assert nearest_code(x, centroids)[0] != nearest_code(x, centroids)[2]


def test_bad_inputs_raise_liveband_error():
    rvq = ResidualVQ(RVQConfig(latent_dim=4, n_codebooks=2, codebook_size=8))
    with pytest.raises(LiveBandError):
        rvq.encode(torch.zeros(1, 3, 5))
    with pytest.raises(LiveBandError):
        rvq.decode(torch.full((1, 3, 2), 8))
    with pytest.raises(LiveBandError):
        rvq.decode(torch.zeros(1, 3, 2, dtype=torch.long), n_codebooks=3)
    with pytest.raises(LiveBandError):
        RVQConfig(latent_dim=4, decay=1.0)
