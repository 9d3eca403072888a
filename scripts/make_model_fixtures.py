"""Write tests/fixtures/{generator,smg}_v0.pt: tiny models' weights, inputs and outputs.

Run once with the code whose numerics the fixtures pin: they were made at commit 697ad17, before
issue 18's refactor of the attention stack (do not regenerate them to make a test pass);
tests/models/test_checkpoint_compat.py reloads them and expects identical outputs.
"""

from pathlib import Path

import torch

from liveband.models.generator import Generator, GeneratorConfig
from liveband.models.smg import SMG, SMGConfig

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def generator_fixture() -> dict:
    torch.manual_seed(0)
    cfg = dict(latent_dim=4, noise_dim=3, d_model=16, n_layers=2, n_heads=2, context_frames=4,
               n_classes=5, sink=True, attn_backend="sdpa")
    model = Generator(GeneratorConfig(**cfg)).eval()
    with torch.no_grad():  # non-zero sink and AdaLN weights so every path matters
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    mix, noise = torch.randn(2, 7, 4), torch.randn(2, 7, 3)
    instrument = torch.tensor([1, 4])
    with torch.no_grad():
        parallel = model(mix, noise, instrument)
        stream = model.stream(2)
        streamed = torch.stack([stream.step(mix[:, t], noise[:, t], instrument) for t in range(7)], 1)
    return dict(config=cfg, state_dict=model.state_dict(), mix=mix, noise=noise,
                instrument=instrument, parallel=parallel, streamed=streamed)


def smg_fixture() -> dict:
    torch.manual_seed(1)
    cfg = dict(latent_dim=4, n_codebooks=2, codebook_size=8, d_model=16, n_layers=2, n_heads=2,
               context_frames=4, n_classes=5, tau_frames=1, ff_mult=2)
    model = SMG(SMGConfig(**cfg)).eval()
    mix = torch.randn(2, 7, 4)
    codes = torch.randint(0, 8, (2, 7, 2))
    instrument = torch.tensor([0, 3])
    with torch.no_grad():
        logits = model.teacher_forced_logits(codes, mix, instrument)
        sampled = model.generate(mix, instrument, temperature=1.0, top_k=4,
                                 generator=torch.Generator().manual_seed(3))
    return dict(config=cfg, state_dict=model.state_dict(), mix=mix, codes=codes,
                instrument=instrument, logits=logits, sampled=sampled)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    torch.save(generator_fixture(), OUT / "generator_v0.pt")
    torch.save(smg_fixture(), OUT / "smg_v0.pt")
