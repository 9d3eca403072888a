"""Weights saved before issue 18's attention refactor load and give the same numbers after it.

The fixtures (tests/fixtures/*_v0.pt, written by scripts/make_model_fixtures.py with the old
code) hold tiny models' state dicts, their inputs and their outputs; equality is exact.
"""

from pathlib import Path

import torch

from liveband.models.generator import Generator, GeneratorConfig
from liveband.models.smg import SMG, SMGConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def load(name: str) -> dict:
    return torch.load(FIXTURES / name, weights_only=True)


def test_old_generator_weights_give_identical_outputs():
    saved = load("generator_v0.pt")
    model = Generator(GeneratorConfig(**saved["config"])).eval()
    model.load_state_dict(saved["state_dict"], strict=True)
    mix, noise, instrument = saved["mix"], saved["noise"], saved["instrument"]
    with torch.no_grad():
        assert torch.equal(model(mix, noise, instrument), saved["parallel"])
        stream = model.stream(2)
        streamed = torch.stack(
            [stream.step(mix[:, t], noise[:, t], instrument) for t in range(mix.shape[1])], 1
        )
    assert torch.equal(streamed, saved["streamed"])


def test_old_smg_weights_give_identical_logits_and_samples():
    saved = load("smg_v0.pt")
    model = SMG(SMGConfig(**saved["config"])).eval()
    model.load_state_dict(saved["state_dict"], strict=True)
    mix, instrument = saved["mix"], saved["instrument"]
    with torch.no_grad():
        logits = model.teacher_forced_logits(saved["codes"], mix, instrument)
        sampled = model.generate(mix, instrument, temperature=1.0, top_k=4,
                                 generator=torch.Generator().manual_seed(3))
    assert torch.equal(logits, saved["logits"])
    assert torch.equal(sampled, saved["sampled"])
