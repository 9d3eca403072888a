import numpy as np
import pytest

from liveband.errors import LiveBandError
from liveband.metrics.fad import fad
from liveband.stats.frechet import FrechetDistance
from liveband.stats.set_level import (
    draw_counts,
    example_draws,
    paired_set_difference,
    replicate_values,
    set_metric_interval,
    split_examples,
)

D, FRAMES, N = 8, 6, 40


def make_set(rng, shift=0.0, n=N):
    """``n`` examples of FRAMES correlated frames each (a per-example offset), plus offsets."""
    frames = np.concatenate([rng.normal(size=(FRAMES, D)) + rng.normal(scale=0.5, size=D) for _ in range(n)])
    return frames + shift, np.arange(0, n * FRAMES + 1, FRAMES)


def test_split_examples_checks_offsets():
    frames = np.zeros((5, 2))
    assert [len(b) for b in split_examples(frames, np.array([0, 2, 2, 5]))] == [2, 0, 3]
    for bad in ([0, 2, 4], [1, 5], [0, 3, 2, 5]):
        with pytest.raises(LiveBandError, match="offsets"):
            split_examples(frames, np.array(bad))


def test_draw_counts_are_the_multiplicities():
    draws = example_draws(5, 7, seed=3)
    counts = draw_counts(draws, 5)
    assert counts.shape == (7, 5) and (counts.sum(axis=1) == 5).all()
    assert all((np.bincount(row, minlength=5) == c).all() for row, c in zip(draws, counts))
    assert (example_draws(5, 7, seed=3) == draws).all()  # seeded


def test_frechet_batch_equals_fad_on_each_replicate():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(300, D)) * 1.3
    examples = split_examples(*make_set(rng, shift=0.4))
    draws = example_draws(len(examples), 4, seed=1)
    point, reps = replicate_values(FrechetDistance(), reference, examples, draws)
    assert point == pytest.approx(fad(reference, np.concatenate(examples)).value, rel=1e-9)
    expected = [fad(reference, np.concatenate([examples[i] for i in row])).value for row in draws]
    np.testing.assert_allclose(reps, expected, rtol=1e-9)
    # the generic path (a plain callable, no batch) gives the same numbers
    point_generic, reps_generic = replicate_values(lambda r, e: fad(r, e).value, reference, examples, draws)
    assert point_generic == pytest.approx(point) and np.allclose(reps_generic, reps)


def test_frechet_batch_without_stored_moments(monkeypatch):
    import liveband.stats.frechet as frechet

    rng = np.random.default_rng(2)
    reference, examples = rng.normal(size=(200, D)), split_examples(*make_set(rng))
    draws = example_draws(len(examples), 3, seed=0)
    stored = replicate_values(FrechetDistance(), reference, examples, draws)[1]
    monkeypatch.setattr(frechet, "MOMENT_BYTES", 0)
    np.testing.assert_allclose(replicate_values(FrechetDistance(), reference, examples, draws)[1], stored)


def test_set_metric_interval_brackets_the_full_set_value():
    rng = np.random.default_rng(4)
    ci = set_metric_interval(FrechetDistance(), rng.normal(size=(300, D)), *make_set(rng, 0.3), n_boot=100)
    assert ci.low < ci.estimate < ci.high and ci.n == N


def test_identical_systems_differ_by_zero_with_a_high_p():
    rng = np.random.default_rng(5)
    reference, a = rng.normal(size=(300, D)), make_set(rng, 0.3)
    for p_method in ("normal", "centred"):
        c = paired_set_difference(FrechetDistance(), reference, a, a, n_boot=100, p_method=p_method)
        assert c.estimate == 0.0 and c.low == pytest.approx(0.0) and c.high == pytest.approx(0.0)
        assert c.p == 1.0


def test_shifted_embeddings_give_a_clear_difference():
    rng = np.random.default_rng(6)
    reference = rng.normal(size=(300, D))
    a = make_set(rng)  # close to the reference
    b = (a[0] + 0.5, a[1])  # the same clips shifted away from it
    c = paired_set_difference(FrechetDistance(), reference, a, b, n_boot=200)
    assert c.estimate < 0 and c.high < 0 and c.p < 1e-3
    assert c.estimate == pytest.approx(fad(reference, a[0]).value - fad(reference, b[0]).value)


def test_mismatched_example_counts_raise():
    rng = np.random.default_rng(7)
    with pytest.raises(LiveBandError, match="examples"):
        paired_set_difference(FrechetDistance(), rng.normal(size=(50, D)), make_set(rng), make_set(rng, n=N - 1))
