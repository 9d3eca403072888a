"""The one module that turns validated params into model configs and models.

Model files take plain dataclass configs and never see params; here the ``model`` mapping
of a params section is checked key by key against the model's config dataclass (unknown
key, wrong type, bad value: a one-line error naming ``section.model.key``), and the
fields every model shares (sample rate, channels, hop, class count) are filled in.

Model modules other than the autoencoder are imported inside the functions that need
them, so a stage depends (for DVC and Snakemake) only on the model files it imports itself.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode

from liveband.data.classes import N_CLASSES
from liveband.errors import LiveBandError
from liveband.models.autoencoder import AutoencoderConfig, CausalAutoencoder
from liveband.schema import from_dict
from liveband.utils.checkpoint import load_checkpoint

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


def pick_variant(variants: dict, name: str, key: str):
    """``variants[name]``, or a one-line error listing the names ``key`` (e.g. gan.variants) has."""
    try:
        return variants[name]
    except KeyError:
        raise LiveBandError(f"--variant: '{name}' is not one of {key}: {', '.join(variants)}") from None


def gan_variant(params, name: str):
    return pick_variant(params.gan.variants, name, "gan.variants")


def generator_config(params, variant: str):
    from liveband.models.generator import GeneratorConfig

    v = gan_variant(params, variant)
    fixed = {"latent_dim": autoencoder_config(params).latent_dim, "n_classes": N_CLASSES, "causal": v.causal}
    cfg = _model_config(GeneratorConfig, params.gan.generator, "gan.generator", fixed)
    return dataclasses.replace(cfg, sink=cfg.sink if v.sink is None else v.sink)


def discriminator_config(params, variant: str):
    from liveband.models.discriminator import DiscriminatorConfig

    v = gan_variant(params, variant)
    fixed = {"latent_dim": autoencoder_config(params).latent_dim, "n_classes": N_CLASSES}
    cfg = _model_config(DiscriminatorConfig, params.gan.discriminator, "gan.discriminator", fixed)
    return cfg if v.discriminator_width is None else dataclasses.replace(cfg, width=v.discriminator_width)


def anticipation_frames(params, variant: str) -> int:
    from liveband.models.generator import seconds_to_frames

    return seconds_to_frames(gan_variant(params, variant).tau_seconds, params.audio.frame_rate)


def rvq_config(params):
    from liveband.models.rvq import RVQConfig

    fixed = {"latent_dim": autoencoder_config(params).latent_dim}
    return _model_config(RVQConfig, params.rvq.model, "rvq.model", fixed)


def smg_variant(params, name: str):
    return pick_variant(params.smg.variants, name, "smg.variants")


def smg_config(params, variant: str):
    from liveband.models.generator import seconds_to_frames
    from liveband.models.smg import SMGConfig

    rvq = rvq_config(params)
    fixed = {"latent_dim": rvq.latent_dim, "n_codebooks": rvq.n_codebooks, "codebook_size": rvq.codebook_size,
             "n_classes": N_CLASSES,
             "tau_frames": seconds_to_frames(smg_variant(params, variant).tau_seconds, params.audio.frame_rate)}
    return _model_config(SMGConfig, params.smg.model, "smg.model", fixed)


def validate_models(params) -> None:
    autoencoder_config(params)
    for name in params.gan.variants:
        generator_config(params, name)
        discriminator_config(params, name)
    rvq_config(params)
    for name in params.smg.variants:
        smg_config(params, name)


# Ceilings on the integer fields of a model file's config, checked before anything is built
# (a corrupt or hostile file must not make us allocate without bound): far above every
# profile (paper size: d_model 1024, 64 context frames), far below exhausting memory.
MAX_DEPTH = 256  # n_layers, *_depth, n_codebooks, n_heads
MAX_CONTEXT_FRAMES = 8192  # context_frames, tau_frames: ~12.7 min of latents (KV cache length)
MAX_SIZE = 1 << 17  # every other integer: widths, FFT sizes, codebook size, sample rate
_DEPTH_FIELDS = ("n_layers", "n_codebooks", "n_heads")


def _ceiling(name: str) -> int:
    if name in _DEPTH_FIELDS or name.endswith("_depth"):
        return MAX_DEPTH
    return MAX_CONTEXT_FRAMES if name.endswith("_frames") else MAX_SIZE


def file_config(cls, mapping, path, what: str):
    """The config stored in model file ``path``, validated (types, the model's own checks,
    ceilings) before any model is built; one-line errors name the file."""
    if not isinstance(mapping, dict):
        raise LiveBandError(f"{path}: {what} config is not a mapping")
    try:
        config = from_dict(cls, mapping, what)
    except LiveBandError as exc:
        raise LiveBandError(f"{path}: {exc}") from None
    for f in dataclasses.fields(config):
        check_size(getattr(config, f.name), f"{what}.{f.name}", path)
    return config


def check_size(value, key: str, path) -> None:
    """An integer of a model file within [0, its ceiling] (other values pass)."""
    if isinstance(value, int) and not isinstance(value, bool):
        name = key.rsplit(".", 1)[-1]
        if not 0 <= value <= _ceiling(name):
            raise LiveBandError(f"{path}: {key} = {value} is outside [0, {_ceiling(name)}]")


class _MetaSkeleton(TorchFunctionMode):
    """Build a model without memory: the allocating factories (parameters, buffers) make meta
    tensors and in-place init on them is skipped. Small computed tables (``arange`` & co.) stay
    on the CPU: on meta they would import torch's compiler stack on first use (seconds)."""

    _FACTORIES = (torch.empty, torch.zeros, torch.ones, torch.full, torch.rand, torch.randn)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in self._FACTORIES and kwargs.get("device") is None:
            kwargs["device"] = "meta"
        name = getattr(func, "__name__", "")
        first = next((a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)), None)
        if name.endswith("_") and not name.endswith("__") and first is not None and first.is_meta:
            return first
        return func(*args, **kwargs)


def build_model(model_cls, config, state, path, what: str) -> torch.nn.Module:
    """``model_cls(config)`` holding the file's weights ``state``. The model is first built as
    a meta skeleton (no memory) and its state shapes compared with the file's, so a config
    that does not describe the stored weights fails before any real allocation."""
    if not isinstance(state, dict):
        raise LiveBandError(f"{path}: {what} weights are not a state_dict")
    with _MetaSkeleton():
        skeleton = model_cls(config)
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    found = {k: tuple(v.shape) if isinstance(v, torch.Tensor) else None for k, v in state.items()}
    if expected != found:
        key = sorted(set(expected.items()) ^ set(found.items()), key=str)[0][0]
        raise LiveBandError(f"{path}: {what} weights do not fit this code's architecture (first difference: {key})")
    model = model_cls(config)
    load_weights(model, state, path, what)
    return model


def load_weights(module: torch.nn.Module, state: dict, path, what: str) -> None:
    """``load_state_dict`` with a one-line error when the file's architecture differs."""
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
        raise LiveBandError(f"{path}: {what} weights do not fit this code's architecture ({first[:120]}...)") from None


def save_model(path: str | Path, kind: str, config, model: torch.nn.Module, **extra) -> None:
    """A final model file: kind, config (dict), weights, and whatever describes its training."""
    from liveband.utils.checkpoint import save_checkpoint

    save_checkpoint(path, {"kind": kind, "config": dataclasses.asdict(config), "step": extra.pop("step", 0),
                           "model": model.state_dict(), **extra})


def load_autoencoder(path: str | Path, expect: AutoencoderConfig | None = None) -> CausalAutoencoder:
    """A trained autoencoder in eval mode; ``expect`` checks it matches the profile's architecture."""
    payload = load_checkpoint(path, kind="autoencoder")
    config = file_config(AutoencoderConfig, payload["config"], path, "autoencoder.model")
    if expect is not None and config != expect:
        diff = [f.name for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(expect, f.name)]
        raise LiveBandError(f"{path}: autoencoder architecture differs from params ({diff[0]})")
    return build_model(CausalAutoencoder, config, payload.get("model"), path, "autoencoder").eval()


@dataclasses.dataclass
class AccompanimentBundle:
    """Everything streaming needs, from one file: generator, autoencoder, latent stats, tau."""

    kind: str                 # "liveband" or "smg"
    model: torch.nn.Module    # Generator or SMG, eval mode
    autoencoder: CausalAutoencoder
    stats: object             # LatentStats
    tau_frames: int
    extra: dict               # e.g. the RVQ for "smg", the variant name


def save_bundle(path: str | Path, kind: str, config, model: torch.nn.Module, autoencoder_path: str | Path,
                stats, tau_frames: int, **extra) -> None:
    """A self-describing accompaniment checkpoint that embeds the autoencoder and latent stats."""
    from liveband.utils.checkpoint import save_checkpoint

    ae = load_checkpoint(autoencoder_path, kind="autoencoder")
    save_checkpoint(path, {
        "kind": kind, "config": dataclasses.asdict(config), "step": extra.pop("step", 0),
        "model": model.state_dict(), "tau_frames": int(tau_frames),
        "stats": {"mean": stats.mean, "std": stats.std},
        "autoencoder": {"config": ae["config"], "model": ae["model"]}, **extra,
    })


def load_bundle(path: str | Path) -> AccompanimentBundle:
    """Load a LiveBand generator or SMG bundle written by ``save_bundle``."""
    from liveband.data.latent_norm import LatentStats
    from liveband.models.generator import Generator, GeneratorConfig

    payload = load_checkpoint(path)
    kind = payload["kind"]
    if kind not in ("liveband", "smg"):
        raise LiveBandError(f"{path}: a '{kind}' checkpoint is not an accompaniment model")
    check_size(payload.get("tau_frames"), "tau_frames", path)
    if kind == "liveband":
        model_cls, config = Generator, file_config(GeneratorConfig, payload["config"], path, "generator")
    else:
        from liveband.models.rvq import ResidualVQ, RVQConfig
        from liveband.models.smg import SMG, SMGConfig

        model_cls, config = SMG, file_config(SMGConfig, payload["config"], path, "smg")
        rvq_config = file_config(RVQConfig, payload["rvq"]["config"], path, "rvq")
    ae_config = file_config(AutoencoderConfig, payload["autoencoder"]["config"], path, "autoencoder")
    # every config is checked before the first model is built
    autoencoder = build_model(CausalAutoencoder, ae_config, payload["autoencoder"]["model"], path, "autoencoder")
    stats = LatentStats(payload["stats"]["mean"], payload["stats"]["std"])
    extra = {}
    if kind == "smg":
        extra["rvq"] = build_model(ResidualVQ, rvq_config, payload["rvq"]["model"], path, "RVQ").eval()
    model = build_model(model_cls, config, payload["model"], path, kind)
    extra["variant"] = payload.get("variant")
    extra["seed"] = payload.get("seed")
    extra["sampling"] = payload.get("sampling") or {}
    for key in ("step", "train_seconds", "gp_mode", "ema", "advantage_error_second_half"):
        extra[key] = payload.get(key)
    return AccompanimentBundle(kind, model.eval(), autoencoder.eval(), stats, int(payload["tau_frames"]), extra)


def describe_bundle(bundle: AccompanimentBundle) -> dict:
    """What a loaded bundle is, for people: kind, instrument classes, tau, audio format, training."""
    from liveband.data.classes import CLASS_VOCAB

    ae = bundle.autoencoder.cfg
    n_classes = (bundle.model.cfg if bundle.kind == "liveband" else bundle.model.config).n_classes
    return {
        "kind": bundle.kind, "variant": bundle.extra.get("variant"),
        "instrument_classes": list(CLASS_VOCAB[:n_classes]) if n_classes <= len(CLASS_VOCAB) else n_classes,
        "tau_frames": bundle.tau_frames, "tau_seconds": round(bundle.tau_frames / ae.frame_rate, 4),
        "sample_rate": ae.sample_rate, "channels": ae.channels, "hop": ae.hop,
        "frame_ms": round(1000 / ae.frame_rate, 2),
        "steps": bundle.extra.get("step"), "train_seconds": bundle.extra.get("train_seconds"),
        "gp_mode": bundle.extra.get("gp_mode"), "seed": bundle.extra.get("seed"),
        "ema": bundle.extra.get("ema"),
        "advantage_error_second_half": bundle.extra.get("advantage_error_second_half"),
        "sampling": bundle.extra.get("sampling") or None,
    }
