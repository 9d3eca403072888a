"""Generator: parallel pass == streaming, causality by gradients, anticipation, bounded memory."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.models.anticipation import anticipation_pairs
from liveband.models.generator import Generator, GeneratorConfig, seconds_to_frames

pytestmark = pytest.mark.filterwarnings("ignore:flex_attention called without torch.compile")

N = 6  # context frames of the tiny model


def tiny_config(**overrides) -> GeneratorConfig:
    base = dict(
        latent_dim=5, noise_dim=3, d_model=32, n_layers=2, n_heads=4, context_frames=N,
        n_classes=4, causal=True, sink=True, attn_backend="sdpa",
    )
    return GeneratorConfig(**{**base, **overrides})


def make_generator(seed: int = 0, **overrides) -> Generator:
    """A tiny generator whose zero-initialised parts (AdaLN, sink) are randomised.

    Zero-initialised gates make every block an identity, which would let a broken attention
    pass the equivalence and causality tests; random values make the tests able to fail.
    """
    torch.manual_seed(seed)
    generator = Generator(tiny_config(**overrides))
    with torch.no_grad():
        for name, parameter in generator.named_parameters():
            if "to_modulation" in name or "sink_logit" in name:
                parameter.normal_(0.0, 0.3)
    return generator.eval()


def inputs(cfg: GeneratorConfig, batch: int, frames: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(batch, frames, cfg.latent_dim, generator=g)
    noise = torch.randn(batch, frames, cfg.noise_dim, generator=g)
    instrument = torch.randint(cfg.n_classes, (batch,), generator=g)
    return mix, noise, instrument


def run_stream(generator: Generator, mix, noise, instrument) -> torch.Tensor:
    stream = generator.stream(mix.shape[0])
    frames = [stream.step(mix[:, t], noise[:, t], instrument) for t in range(mix.shape[1])]
    return torch.stack(frames, dim=1)  # (B, T, D)


@pytest.mark.parametrize("backend", ["explicit", "sdpa"])
@pytest.mark.parametrize("sink", [False, True])
@pytest.mark.parametrize("frames", [N - 2, N, 3 * N])
def test_parallel_equals_streaming(backend, sink, frames):
    generator = make_generator(sink=sink, attn_backend=backend)
    mix, noise, instrument = inputs(generator.cfg, 2, frames)
    with torch.no_grad():
        parallel = generator(mix, noise, instrument)
    streamed = run_stream(generator, mix, noise, instrument)
    assert parallel.shape == streamed.shape == (2, frames, generator.cfg.latent_dim)
    assert (parallel - streamed).abs().max() <= 1e-5


@pytest.mark.parametrize("sink", [False, True])
def test_beyond_context_the_window_is_what_streaming_sees(sink):
    """Same weights with an unbounded causal mask differ from the stream past N: the test bites."""
    generator = make_generator(sink=sink)
    unwindowed = Generator(dataclasses.replace(generator.cfg, context_frames=3 * N)).eval()
    unwindowed.load_state_dict(generator.state_dict())
    mix, noise, instrument = inputs(generator.cfg, 2, 3 * N)
    with torch.no_grad():
        full_causal = unwindowed(mix, noise, instrument)
    streamed = run_stream(generator, mix, noise, instrument)
    assert (full_causal - streamed)[:, :N].abs().max() <= 1e-5
    assert (full_causal - streamed)[:, N:].abs().max() > 1e-3


def test_flex_forward_matches_sdpa():
    pytest.importorskip("torch.nn.attention.flex_attention")
    reference = make_generator(attn_backend="sdpa")
    flex = Generator(dataclasses.replace(reference.cfg, attn_backend="flex")).eval()
    flex.load_state_dict(reference.state_dict())
    mix, noise, instrument = inputs(reference.cfg, 2, 2 * N)
    with torch.no_grad():
        assert (flex(mix, noise, instrument) - reference(mix, noise, instrument)).abs().max() <= 1e-5
    streamed = run_stream(flex, mix, noise, instrument)  # the step path serves every backend
    with torch.no_grad():
        assert (streamed - reference(mix, noise, instrument)).abs().max() <= 1e-5


def output_gradients(generator: Generator, t: int, frames: int):
    """d output[:, t] / d (mix, noise): per-frame absolute gradient sums, each (T,)."""
    mix, noise, instrument = inputs(generator.cfg, 2, frames)
    mix.requires_grad_(True)
    noise.requires_grad_(True)
    generator(mix, noise, instrument)[:, t].sum().backward()
    return mix.grad.abs().sum(dim=(0, 2)), noise.grad.abs().sum(dim=(0, 2))


@pytest.mark.parametrize("backend", ["explicit", "sdpa"])
def test_causal_output_has_zero_gradient_from_future_frames(backend):
    generator = make_generator(attn_backend=backend)
    frames = N
    for t in (0, 2, frames - 2):
        mix_grad, noise_grad = output_gradients(generator, t, frames)
        assert torch.all(mix_grad[t + 1 :] == 0.0) and torch.all(noise_grad[t + 1 :] == 0.0)
        assert torch.all(mix_grad[: t + 1] > 0.0) and torch.all(noise_grad[: t + 1] > 0.0)


def test_bidirectional_output_depends_on_future_frames():
    generator = make_generator(causal=False)
    mix_grad, noise_grad = output_gradients(generator, 1, N)
    assert torch.all(mix_grad[2:] > 0.0) and torch.all(noise_grad[2:] > 0.0)


def test_bidirectional_generator_cannot_stream():
    with pytest.raises(LiveBandError, match="bidirectional"):
        make_generator(causal=False).stream(1)


@pytest.mark.parametrize("tau", [0, 1, 3])
def test_anticipation_pairs_align_output_t_with_target_t_plus_tau(tau):
    generator = make_generator()
    frames = N + tau
    mix, noise, _ = inputs(generator.cfg, 2, frames)
    target = torch.randn(2, frames, generator.cfg.latent_dim)
    mix.requires_grad_(True)
    target.requires_grad_(True)
    mix_in, target_out = anticipation_pairs(mix, target, tau)
    assert mix_in.shape == target_out.shape == (2, N, generator.cfg.latent_dim)
    output = generator(mix_in, noise[:, :N], torch.tensor([0, 1]))
    t = 2
    ((output[:, t] - target_out[:, t]) ** 2).sum().backward()
    mix_seen = mix.grad.abs().sum(dim=(0, 2))  # (T,)
    target_used = target.grad.abs().sum(dim=(0, 2))
    assert torch.all(mix_seen[t + 1 :] == 0.0) and torch.all(mix_seen[: t + 1] > 0.0)
    assert torch.nonzero(target_used).flatten().tolist() == [t + tau]


def test_seconds_to_frames():
    assert seconds_to_frames(0.0) == 0
    assert seconds_to_frames(0.1) == 1
    assert seconds_to_frames(1.0) == 11
    assert seconds_to_frames(0.5, frame_rate=10.0) == 5
    with pytest.raises(LiveBandError):
        seconds_to_frames(-0.1)


def test_stream_memory_is_bounded_and_position_is_absolute():
    generator = make_generator()
    stream = generator.stream(1)
    pointers = [(c.keys.data_ptr(), c.values.data_ptr()) for c in stream.caches]
    mix, noise, instrument = inputs(generator.cfg, 1, 5 * N)
    for t in range(5 * N):
        stream.step(mix[:, t], noise[:, t], instrument)
    assert stream.position == 5 * N
    assert [(c.keys.data_ptr(), c.values.data_ptr()) for c in stream.caches] == pointers
    assert all(c.keys.shape[2] == N + 1 for c in stream.caches)  # N frames + the sink slot
    stream.reset()
    assert stream.position == 0
    again = run_stream(generator, mix[:, :3], noise[:, :3], instrument)
    first = [stream.step(mix[:, t], noise[:, t], instrument) for t in range(3)]
    assert torch.allclose(torch.stack(first, 1), again, atol=1e-6)


def test_instrument_conditions_the_output_and_stream_follows_a_change():
    generator = make_generator()
    mix, noise, _ = inputs(generator.cfg, 1, N)
    piano, null = torch.tensor([0]), torch.tensor([generator.cfg.null_class])
    assert generator.cfg.null_class == generator.cfg.n_classes - 1
    with torch.no_grad():
        a = generator(mix, noise, piano)
        b = generator(mix, noise, null)
    assert (a - b).abs().max() > 1e-3
    stream = generator.stream(1)
    for t in range(N - 1):
        stream.step(mix[:, t], noise[:, t], piano)
    switched = stream.step(mix[:, N - 1], noise[:, N - 1], null)
    assert (switched - a[:, N - 1]).abs().max() > 1e-3  # cached modulation was refreshed


def test_bad_inputs_raise():
    generator = make_generator()
    mix, noise, instrument = inputs(generator.cfg, 2, 4)
    with pytest.raises(LiveBandError):
        generator(mix[..., :-1], noise, instrument)
    with pytest.raises(LiveBandError):
        generator(mix, noise[:, :3], instrument)
    with pytest.raises(LiveBandError):
        generator.stream(3).step(mix[:, 0], noise[:, 0], instrument)
    with pytest.raises(LiveBandError):
        tiny_config(n_heads=5)
    with pytest.raises(LiveBandError):
        tiny_config(attn_backend="nope")


def test_default_initialisation_trains_and_starts_with_identity_blocks():
    torch.manual_seed(0)
    generator = Generator(tiny_config())
    mix, noise, instrument = inputs(generator.cfg, 2, N)
    output = generator(mix, noise, instrument)
    # every gated residual branch starts closed: the output is in_proj -> LayerNorm -> out_proj
    hidden = torch.nn.functional.layer_norm(
        generator.in_proj(torch.cat((noise, mix), -1)), (generator.cfg.d_model,), eps=1e-6
    )
    assert torch.allclose(output, generator.out_proj(hidden), atol=1e-5)
    output.square().mean().backward()
    gate_grad = generator.blocks[0].attn_norm.to_modulation.weight.grad
    assert gate_grad is not None and gate_grad.abs().max() > 0


def test_compiled_stream_equals_eager_with_one_graph_for_every_frame():
    """Past the window and across an instrument change, with no recompilation after frame 0."""
    import torch._dynamo

    torch._dynamo.reset()
    generator = make_generator()
    mix, noise, _ = inputs(generator.cfg, 1, 3 * N)
    eager, compiled = generator.stream(1), generator.stream(1).compile()
    counts = torch._dynamo.utils.counters
    counts.clear()
    with torch.inference_mode():
        for t in range(3 * N):
            instrument = torch.tensor([1 if t < 2 * N else 2])
            a = eager.step(mix[:, t], noise[:, t], instrument)
            b = compiled.step(mix[:, t], noise[:, t], instrument)
            assert (a - b).abs().max() <= 1e-5, t
    assert counts["stats"]["unique_graphs"] == 1 and compiled.position == 3 * N


def test_stream_runs_in_the_weights_dtype():
    generator = make_generator()
    mix, noise, instrument = inputs(generator.cfg, 1, N)
    reference = run_stream(generator, mix, noise, instrument)
    half = run_stream(generator.to(torch.bfloat16), mix, noise, instrument)  # float32 in and out
    assert half.dtype == torch.float32 and (half - reference).abs().max() < 0.1
