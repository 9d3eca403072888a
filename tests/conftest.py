"""Shared fixtures: a small hand-made tree in the real Slakh2100 layout."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("OMP_NUM_THREADS", "1")


def write_slakh_track(track_dir: Path, sr: int = 44100, seconds: float = 1.0, n_stems: int = 3,
                      classes=("Drums", "Bass", "Piano")) -> None:
    """One TrackNNNNN folder as Slakh2100 ships it: metadata.yaml, stems/, MIDI/, mix.flac."""
    rng = np.random.default_rng(abs(hash(track_dir.name)) % 2**32)
    (track_dir / "stems").mkdir(parents=True)
    (track_dir / "MIDI").mkdir()
    programs = {"Drums": 0, "Bass": 33, "Piano": 0, "Guitar": 25}
    stems, mix = {}, np.zeros(int(sr * seconds), dtype=np.float32)
    for i in range(n_stems):
        cls = classes[i % len(classes)]
        audio = (0.1 * rng.standard_normal(len(mix))).astype(np.float32)
        sf.write(track_dir / "stems" / f"S{i:02d}.flac", audio, sr, subtype="PCM_16")
        (track_dir / "MIDI" / f"S{i:02d}.mid").write_bytes(b"MThd")
        mix += audio
        stems[f"S{i:02d}"] = {
            "audio_rendered": True, "inst_class": cls, "integrated_loudness": -20.0,
            "is_drum": cls == "Drums", "midi_program_name": "x", "midi_saved": True,
            "plugin_name": "x.nkm", "program_num": programs[cls],
        }
    sf.write(track_dir / "mix.flac", mix, sr, subtype="PCM_16")
    (track_dir / "all_src.mid").write_bytes(b"MThd")
    meta = {"UUID": "u", "audio_dir": "stems", "lmd_midi_dir": "lmd", "midi_dir": "MIDI",
            "normalization_factor": -1.0, "normalized": True, "overall_gain": 0.5,
            "stems": stems, "target_peak": -1.0}
    (track_dir / "metadata.yaml").write_text(yaml.safe_dump(meta))


@pytest.fixture
def slakh_tree(tmp_path: Path) -> Path:
    """A tiny real-layout Slakh tree: one track per split, plus a redux omitted/ folder."""
    root = tmp_path / "slakh2100"
    for k, split in enumerate(("train", "validation", "test", "omitted")):
        write_slakh_track(root / split / f"Track{k + 1:05d}")
    return root


TINY_AE = dict(sample_rate=22050, channels=1, hop=2048, latent_dim=8, encoder_frame_width=16,
               encoder_latent_width=16, decoder_latent_width=16, decoder_frame_width=16,
               encoder_frame_depth=1, encoder_latent_depth=1, decoder_latent_depth=1, decoder_frame_depth=1)
TINY_G = dict(latent_dim=8, noise_dim=4, d_model=32, n_layers=2, n_heads=2, context_frames=16)


@pytest.fixture
def tiny_bundle(tmp_path: Path):
    """A tiny untrained LiveBand bundle (autoencoder + generator + stats) and its path."""
    import torch

    from liveband.builders import save_bundle, save_model
    from liveband.data.latent_norm import LatentStats
    from liveband.models.autoencoder import AutoencoderConfig, CausalAutoencoder
    from liveband.models.generator import Generator, GeneratorConfig

    def make(tau_frames: int = 1, causal: bool = True) -> Path:
        torch.manual_seed(0)
        ae_cfg = AutoencoderConfig(**TINY_AE)
        ae = CausalAutoencoder(ae_cfg).eval()
        save_model(tmp_path / "ae.pt", "autoencoder", ae_cfg, ae)
        g_cfg = GeneratorConfig(**TINY_G, causal=causal)
        gen = Generator(g_cfg)
        for p in gen.parameters():  # AdaLN starts at zero: randomise so outputs depend on inputs
            torch.nn.init.normal_(p, std=0.2)
        stats = LatentStats(torch.linspace(-0.5, 0.5, 8), torch.linspace(0.5, 2.0, 8))
        path = tmp_path / f"gen_tau{tau_frames}_{causal}.pt"
        save_bundle(path, "liveband", g_cfg, gen.eval(), tmp_path / "ae.pt", stats, tau_frames)
        return path

    return make


@pytest.fixture
def tiny_smg_bundle(tmp_path: Path):
    """A tiny untrained SMG bundle (autoencoder + RVQ + SMG + stats)."""
    import torch

    from liveband.builders import save_bundle, save_model
    from liveband.data.latent_norm import LatentStats
    from liveband.models.autoencoder import AutoencoderConfig, CausalAutoencoder
    from liveband.models.rvq import ResidualVQ, RVQConfig
    from liveband.models.smg import SMG, SMGConfig

    def make(tau_frames: int = 1) -> Path:
        torch.manual_seed(0)
        ae_cfg = AutoencoderConfig(**TINY_AE)
        save_model(tmp_path / "ae.pt", "autoencoder", ae_cfg, CausalAutoencoder(ae_cfg).eval())
        rvq_cfg = RVQConfig(latent_dim=8, n_codebooks=2, codebook_size=8)
        rvq = ResidualVQ(rvq_cfg)
        rvq.init_from_data(torch.randn(500, 8), generator=torch.Generator().manual_seed(0))
        cfg = SMGConfig(latent_dim=8, n_codebooks=2, codebook_size=8, d_model=32, n_layers=2, n_heads=2,
                        context_frames=16, n_classes=18, tau_frames=tau_frames)
        model = SMG(cfg).eval()
        stats = LatentStats(torch.zeros(8), torch.ones(8))
        path = tmp_path / f"smg_tau{tau_frames}.pt"
        save_bundle(path, "smg", cfg, model, tmp_path / "ae.pt", stats, tau_frames,
                    rvq={"config": dataclasses.asdict(rvq_cfg), "model": rvq.state_dict()},
                    sampling={"temperature": 0.0, "top_k": None})
        return path

    return make


@pytest.fixture
def tiny_ae() -> dict:
    """AutoencoderConfig fields of a tiny 22.05 kHz mono model."""
    return dict(TINY_AE)
