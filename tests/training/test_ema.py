"""The generator's weight average: the update rule by hand, the ramp, buffers copied."""

import pytest
import torch

from liveband.training.ema import ModelEMA, ema_beta


def test_beta_follows_the_half_life_and_its_ramp():
    assert ema_beta(0, 4, 1000.0, 0.05) == 0.0                       # first step: a copy of G
    assert ema_beta(10, 4, 1000.0, 0.05) == pytest.approx(0.5 ** (4 / 2.0))   # 10 x 4 x 0.05 = 2 samples
    assert ema_beta(10**6, 4, 1000.0, 0.05) == pytest.approx(0.5 ** (4 / 1000.0))  # ramp past the cap
    assert ema_beta(0, 4, 1000.0, None) == pytest.approx(0.5 ** (4 / 1000.0))      # no ramp


def test_update_is_beta_average_of_parameters_and_copies_buffers():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ema = ModelEMA(model, half_life_samples=8.0, rampup=None, batch_size=4)
    old = {k: v.clone() for k, v in ema.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    model(torch.randn(5, 3))                                            # moves BatchNorm's running stats
    beta = ema.update(model, step=7)
    assert beta == pytest.approx(0.5 ** (4 / 8.0))
    state = model.state_dict()
    for name, _ in model.named_parameters():
        assert torch.allclose(ema.state_dict()[name], beta * old[name] + (1 - beta) * state[name], atol=1e-7)
        assert not torch.allclose(ema.state_dict()[name], state[name])
    for name, _ in model.named_buffers():
        assert torch.equal(ema.state_dict()[name], state[name])
    assert not any(p.requires_grad for p in ema.module.parameters())
