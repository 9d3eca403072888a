"""Block stacks: parallel == step by step with rolling caches past the window; lazy contexts."""

import torch

from liveband.modules.transformer import CausalTransformer, run_blocks


def test_causal_transformer_parallel_equals_steps_past_the_window():
    torch.manual_seed(0)
    model = CausalTransformer(d_model=16, n_layers=2, n_heads=2, window=4, ff_mult=2).eval()
    x = torch.randn(2, 11, 16)
    with torch.no_grad():
        parallel = model(x)
        cache = model.new_cache(2)
        steps = torch.stack([model.step(x[:, t], cache) for t in range(11)], dim=1)
    assert (steps - parallel).abs().max() <= 1e-5
    assert cache.position == 11 and sorted(cache.slot_positions.tolist()) == [7, 8, 9, 10]
    assert all(k.shape == (2, 2, 4, 8) for k in cache.keys)  # memory fixed at the window


def test_run_blocks_passes_each_block_its_own_context_when_it_runs():
    calls = []

    class Block(torch.nn.Module):
        def forward(self, x, rope, causal, window, context):
            calls.append(("run", context))
            return x + context

    contexts = (calls.append(("make", i)) or i for i in range(3))  # lazy: made just before use
    model = CausalTransformer(d_model=4, n_layers=1, n_heads=1, window=2)
    blocks = torch.nn.ModuleList(Block() for _ in range(3))
    out = run_blocks(blocks, model.rotary, torch.zeros(1, 2, 4), True, 2, contexts=contexts)
    assert torch.all(out == 3) and calls == [("make", 0), ("run", 0), ("make", 1), ("run", 1),
                                             ("make", 2), ("run", 2)]
