"""The one module that turns validated params into model configs and models.

Model files take plain dataclass configs and never see params; here the ``model`` mapping
of a params section is checked key by key against the model's config dataclass (unknown
key, wrong type, bad value: a one-line error naming ``section.model.key``), and the
fields every model shares (sample rate, channels, hop, class count) are filled in.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from liveband.errors import LiveBandError
from liveband.models.autoencoder import AutoencoderConfig, CausalAutoencoder
from liveband.schema import from_dict
from liveband.training.checkpoint import load_checkpoint

AUDIO_FIELDS = ("sample_rate", "channels", "hop")


def _model_config(cls, mapping: dict, prefix: str, fixed: dict):
    clash = sorted(set(mapping) & set(fixed))
    if clash:
        raise LiveBandError(f"{prefix}.{clash[0]}: set by the profile's audio/data sections, not here")
    return from_dict(cls, {**mapping, **fixed}, prefix)


def autoencoder_config(params) -> AutoencoderConfig:
    audio = params.audio
    fixed = {"sample_rate": audio.sample_rate, "channels": audio.channels, "hop": audio.hop}
    return _model_config(AutoencoderConfig, params.autoencoder.model, "autoencoder.model", fixed)


def validate_models(params) -> None:
    autoencoder_config(params)


def save_model(path: str | Path, kind: str, config, model: torch.nn.Module, **extra) -> None:
    """A final model file: kind, config (dict), weights, and whatever describes its training."""
    from liveband.training.checkpoint import save_checkpoint

    save_checkpoint(path, {"kind": kind, "config": dataclasses.asdict(config), "step": extra.pop("step", 0),
                           "model": model.state_dict(), **extra})


def load_autoencoder(path: str | Path, expect: AutoencoderConfig | None = None) -> CausalAutoencoder:
    """A trained autoencoder in eval mode; ``expect`` checks it matches the profile's architecture."""
    payload = load_checkpoint(path, kind="autoencoder")
    config = from_dict(AutoencoderConfig, payload["config"], "autoencoder.model")
    if expect is not None and config != expect:
        diff = [f.name for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(expect, f.name)]
        raise LiveBandError(f"{path}: autoencoder architecture differs from params ({diff[0]})")
    model = CausalAutoencoder(config)
    model.load_state_dict(payload["model"])
    return model.eval()
