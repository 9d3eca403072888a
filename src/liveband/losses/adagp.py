"""AdaGP: adapt the gradient-penalty weight online to hold a target D advantage (paper, sec. 4.6).

The weight ``w`` lives in log space. After each D step, with ``advantage = mean_b(D(real) -
D(fake))`` measured on that step (detached):

    log_w <- clamp(log_w + step_size * (advantage - target), log(min_w), log(max_w))

A D that is too strong (advantage above target) gets more regularisation, a weak one less.
During the first ``adapt_after`` steps (the learning-rate warm-up) the weight stays at its
initial value: D is weak then only because it is untrained, and adapting to that drives the
weight far from where the settled run needs it.
``FixedGradientPenalty`` has the same interface and never moves (the fixed-weight ablation).
"""

from __future__ import annotations

import math

import torch

from liveband.errors import LiveBandError


def _as_float(value: float | torch.Tensor) -> float:
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


class AdaptiveGradientPenalty:
    """Penalty weight that follows the D advantage towards ``target_advantage``."""

    def __init__(
        self, initial_weight: float, target_advantage: float, step_size: float,
        min_weight: float = 1e-4, max_weight: float = 1e4, adapt_after: int = 0,
    ):
        if not 0 < min_weight <= initial_weight <= max_weight:
            raise LiveBandError(
                f"adagp: need 0 < min_weight <= initial_weight <= max_weight, got "
                f"{min_weight}, {initial_weight}, {max_weight}"
            )
        if step_size < 0:
            raise LiveBandError(f"adagp.step_size: must be >= 0, got {step_size}")
        if adapt_after < 0:
            raise LiveBandError(f"adagp.adapt_after: must be >= 0, got {adapt_after}")
        self.adapt_after = int(adapt_after)
        self.target_advantage = float(target_advantage)
        self.step_size = float(step_size)
        self.min_log_weight = math.log(min_weight)
        self.max_log_weight = math.log(max_weight)
        self.log_weight = math.log(initial_weight)

    @property
    def weight(self) -> float:
        """Current penalty weight (gamma) for the next D step."""
        return math.exp(self.log_weight)

    def update(self, advantage: float | torch.Tensor, step: int | None = None) -> float:
        """Move the weight after D step ``step`` (0-based) given that step's advantage; returns
        the new weight. Steps before ``adapt_after`` leave it where it is (``step=None``: adapt)."""
        advantage = _as_float(advantage)
        if not math.isfinite(advantage):
            raise LiveBandError(f"adagp: advantage is not finite ({advantage})")
        if step is not None and step < self.adapt_after:
            return self.weight
        moved = self.log_weight + self.step_size * (advantage - self.target_advantage)
        self.log_weight = min(max(moved, self.min_log_weight), self.max_log_weight)
        return self.weight

    def state_dict(self) -> dict[str, float]:
        return {"log_weight": self.log_weight}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.log_weight = min(
            max(float(state["log_weight"]), self.min_log_weight), self.max_log_weight
        )


class FixedGradientPenalty:
    """Same interface as ``AdaptiveGradientPenalty`` with a weight that never changes."""

    def __init__(self, weight: float):
        if weight < 0:
            raise LiveBandError(f"gradient penalty weight: must be >= 0, got {weight}")
        self._weight = float(weight)

    @property
    def weight(self) -> float:
        return self._weight

    def update(self, advantage: float | torch.Tensor, step: int | None = None) -> float:
        return self._weight

    def state_dict(self) -> dict[str, float]:
        return {"weight": self._weight}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self._weight = float(state["weight"])
