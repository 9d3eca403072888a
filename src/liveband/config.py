"""The one place where ``params.yaml`` (plus a profile overlay) becomes typed objects.

``params.yaml`` holds the ``default`` profile, one section per stage. A profile named by the
top-level ``profile`` key (or ``--profile``) is an overlay file ``profiles/<name>.yaml``
whose keys must already exist in ``params.yaml``. Snakemake and DVC both call stages with
``--profile``; the merged result is validated into frozen dataclasses here.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from liveband.errors import LiveBandError
from liveband.schema import (
    all_of,
    check_name,
    field,
    from_dict,
    non_negative,
    one_of,
    ordered_pair,
    positive,
    probability,
    within,
)

LATENT_FRAME_RATE = 44100 / 4096  # 10.77 frames/s in every profile (paper 4.2, 6.5)


@dataclass(frozen=True, kw_only=True)
class AudioParams:
    sample_rate: int = field(check=one_of(16000, 22050, 24000, 32000, 44100, 48000), doc="Hz, all stages")
    channels: int = field(check=one_of(1, 2), doc="1 mono, 2 stereo (mono sources are duplicated)")
    hop: int = field(check=positive, doc="samples per latent frame")

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop

    def validate(self):
        if abs(self.frame_rate - LATENT_FRAME_RATE) > 0.05:
            return "hop", (f"sample_rate/hop = {self.frame_rate:.3f} frames/s; every profile keeps "
                           f"{LATENT_FRAME_RATE:.2f} (e.g. 22050/2048 or 44100/4096)")
        return None


@dataclass(frozen=True, kw_only=True)
class TimbreParams:
    eq_db: float = field(check=within(0.0, 24.0), doc="+- gain of each EQ band (low shelf, peak, high shelf)")
    gain_db: float = field(check=within(0.0, 24.0), doc="+- stem gain after loudness balancing")
    reverb_wet: tuple[float, float] = field(check=all_of(ordered_pair, within(0.0, 1.0)), doc="wet share range")
    reverb_decay_s: tuple[float, float] = field(check=all_of(ordered_pair, within(0.05, 10.0)),
                                                doc="T60 range of the noise reverb")
    detune_cents: float = field(check=within(0.0, 100.0), doc="+- synthesiser tuning (no resampling)")


@dataclass(frozen=True, kw_only=True)
class SyntheticParams:
    n_train: int = field(check=positive)
    n_validation: int = field(check=positive)
    n_test: int = field(check=positive)
    song_seconds: tuple[float, float] = field(check=ordered_pair, doc="song length range")
    tempo_bpm: tuple[float, float] = field(check=ordered_pair)
    seed: int = field(check=non_negative)
    soundfont: str | None = field(None, doc="SF2 path; null = the GM soundfont pretty_midi ships")
    workers: int = field(2, check=positive, doc="render processes")
    timbre: TimbreParams | None = field(None, doc="per-stem random EQ/gain/reverb/detune; null = off")


@dataclass(frozen=True, kw_only=True)
class SamplerParams:
    silence_db: float = field(-60.0, doc="a frame is active when above this level (dBFS)")
    min_active_fraction: float = field(0.5, check=probability, doc="of a crop, for target and mix")


@dataclass(frozen=True, kw_only=True)
class DataParams:
    slakh_root: str | None = field(None, doc="real Slakh2100 tree; null = build the synthetic set")
    slakh_sample_rate: int = field(44100, check=positive, doc="rate the real tree must have")
    synthetic: SyntheticParams = field()
    sampler: SamplerParams = field()


@dataclass(frozen=True, kw_only=True)
class AutoencoderTrainParams:
    steps: int = field(check=positive)
    batch_size: int = field(check=positive)
    crop_seconds: float = field(check=positive)
    lr: float = field(check=positive)
    warmup_steps: int = field(check=non_negative)
    checkpoint_every: int = field(check=positive)
    mix_probability: float = field(check=probability, doc="share of crops that are mixes, not stems")
    fft_sizes: tuple[int, ...] = field(doc="multi-resolution STFT loss windows")
    waveform_weight: float = field(check=non_negative, doc="L1 waveform term beside the STFT loss")
    seed: int = field(check=non_negative)
    preload_audio: bool = field(False, doc="decode the training stems into memory once (crops are "
                                           "slices, not FLAC seeks; ~2 bytes per sample)")


@dataclass(frozen=True, kw_only=True)
class AutoencoderParams:
    checkpoint: str | None = field(None, doc="external checkpoint of the same architecture: skip training")
    model: dict[str, Any] = field(doc="AutoencoderConfig fields except sample_rate/channels/hop")
    train: AutoencoderTrainParams = field()


@dataclass(frozen=True, kw_only=True)
class LatentsParams:
    targets_per_track: int | None = field(None, doc="target stems encoded per track; null = all")
    mixes_per_target: int = field(check=positive, doc="random mix subsets pre-encoded per target")
    seed: int = field(check=non_negative)


@dataclass(frozen=True, kw_only=True)
class AutoencoderReportParams:
    n_examples: int = field(check=positive, doc="test stems and mixes scored")
    seconds: float = field(check=positive, doc="length of each scored excerpt")
    lowpass_hz: float = field(check=positive, doc="cut-off of the low-passed-input reference")
    seed: int = field(check=non_negative)


@dataclass(frozen=True, kw_only=True)
class GradientPenaltyParams:
    mode: str = field(check=one_of("adaptive", "fixed"), doc="AdaGP or a fixed weight")
    weight: float = field(check=positive, doc="fixed weight, or AdaGP's initial weight")
    target_advantage: float = field(doc="AdaGP: target of mean D(real) - D(fake) on the D step")
    step_size: float = field(check=positive, doc="AdaGP: log-weight step per unit of advantage error")
    min_weight: float = field(1e-4, check=positive)
    max_weight: float = field(1e4, check=positive)
    penalty_interval: int = field(check=positive, doc="lazy R1/R2: every k D steps, alternating, scaled by k")
    adapt_after: int | None = field(None, check=non_negative,
                                    doc="AdaGP: weight frozen for this many steps; null = gan.train.warmup_steps")


@dataclass(frozen=True, kw_only=True)
class EmaParams:
    half_life_samples: float = field(check=positive, doc="half-life of the generator's weight average, in samples")
    rampup: float | None = field(0.05, check=positive,
                                 doc="half-life capped at rampup x samples seen so far; null = no ramp")


@dataclass(frozen=True, kw_only=True)
class GanTrainParams:
    steps: int = field(check=positive)
    batch_size: int = field(check=positive)
    lr: float = field(check=positive, doc="generator and discriminator (Adam)")
    betas: tuple[float, float] = field(doc="Adam betas; R3GAN uses beta1 = 0")
    warmup_steps: int = field(check=non_negative)
    class_dropout_generator: float = field(check=probability)
    class_dropout_discriminator: float = field(check=probability)
    gradient_penalty: GradientPenaltyParams = field()
    checkpoint_every: int = field(check=positive)
    seed: int = field(check=non_negative)
    snapshot_step: int | None = field(None, check=positive,
                                      doc="also keep the generator at this step (the ablation length): "
                                          "the sink/GP ablations compare against tau01 there, not a retrain")
    ema: EmaParams | None = field(None, doc="generator EMA, saved in the bundles; null = the raw weights")


@dataclass(frozen=True, kw_only=True)
class GanVariant:
    """One trained model of the tables; unset fields take the shared ``gan`` settings."""

    tau_seconds: float = field(check=non_negative, doc="anticipation; 0.1 s = 1 frame, 1 s = 11")
    causal: bool = field(True, doc="false: the bidirectional (offline) upper bound")
    sink: bool | None = field(None, doc="override gan.generator.sink")
    gp_mode: str | None = field(None, check=one_of("adaptive", "fixed"))
    gp_weight: float | None = field(None, check=positive)
    steps: int | None = field(None, check=positive, doc="override gan.train.steps (ablation length)")
    discriminator_width: int | None = field(None, check=positive, doc="override discriminator width")
    seed: int | None = field(None, check=non_negative, doc="override gan.train.seed (a training-seed replica)")
    scale: str = field("default", check=one_of("default", "extended"),
                       doc="default: built by `snakemake` (rule all); extended: only by the `extended` target")


@dataclass(frozen=True, kw_only=True)
class GanParams:
    generator: dict[str, Any] = field(doc="GeneratorConfig fields except latent_dim, n_classes, causal")
    discriminator: dict[str, Any] = field(doc="DiscriminatorConfig fields except latent_dim, n_classes")
    train: GanTrainParams = field()
    variants: dict[str, GanVariant] = field(doc="name -> variant; one DAG target each")

    def at_scale(self, scale: str) -> dict[str, GanVariant]:
        return {k: v for k, v in self.variants.items() if v.scale == scale}


@dataclass(frozen=True, kw_only=True)
class RVQTrainParams:
    kmeans_frames: int = field(check=positive, doc="training frames sampled for the k-means init")
    steps: int = field(check=non_negative, doc="EMA refinement steps after the init")
    batch_frames: int = field(check=positive)
    seed: int = field(check=non_negative)


@dataclass(frozen=True, kw_only=True)
class RVQParams:
    model: dict[str, Any] = field(doc="RVQConfig fields except latent_dim")
    train: RVQTrainParams = field()


@dataclass(frozen=True, kw_only=True)
class SMGTrainParams:
    steps: int = field(check=positive)
    batch_size: int = field(check=positive)
    lr: float = field(check=positive)
    betas: tuple[float, float] = field()
    warmup_steps: int = field(check=non_negative)
    class_dropout: float = field(check=probability)
    checkpoint_every: int = field(check=positive)
    validation_batches: int = field(check=positive, doc="batches of the validation split for token accuracy")
    seed: int = field(check=non_negative)


@dataclass(frozen=True, kw_only=True)
class SMGSampling:
    temperature: float = field(check=non_negative, doc="0 = greedy")
    top_k: int | None = field(None, check=positive)


@dataclass(frozen=True, kw_only=True)
class SMGVariant:
    tau_seconds: float = field(check=non_negative)
    seed: int | None = field(None, check=non_negative, doc="override smg.train.seed (a training-seed replica)")
    steps: int | None = field(None, check=positive, doc="override smg.train.steps")
    scale: str = field("default", check=one_of("default", "extended"),
                       doc="default: built by `snakemake` (rule all); extended: only by the `extended` target")


@dataclass(frozen=True, kw_only=True)
class SMGParams:
    model: dict[str, Any] = field(doc="SMGConfig fields except latent_dim, n_codebooks, codebook_size, n_classes, tau_frames")
    train: SMGTrainParams = field()
    sampling: SMGSampling = field()
    variants: dict[str, SMGVariant] = field()

    def at_scale(self, scale: str) -> dict[str, SMGVariant]:
        return {k: v for k, v in self.variants.items() if v.scale == scale}


@dataclass(frozen=True, kw_only=True)
class FadMetricParams:
    embedders: tuple[str, ...] = field(doc="vggish, clap (need checkpoints), crepe-embed, spectral")
    vggish_checkpoint: str | None = field(None, doc="local VGGish state_dict")
    clap_checkpoint: str | None = field(None, doc="local LAION-CLAP checkpoint")


@dataclass(frozen=True, kw_only=True)
class BeatMetricParams:
    tracker: str = field(check=one_of("madmom", "beat_this"))
    beat_this_checkpoint: str | None = field(None)


@dataclass(frozen=True, kw_only=True)
class CocolaLocalParams:
    n_tracks: int = field(check=positive, doc="training tracks whose (mix, stem) pairs train it")
    steps: int = field(check=positive)
    batch_size: int = field(check=positive)
    seed: int = field(check=non_negative)


@dataclass(frozen=True, kw_only=True)
class CocolaMetricParams:
    backend: str = field(check=one_of("cocola", "cocola-local"))
    checkpoint: str | None = field(None, doc="released COCOLA checkpoint (backend: cocola)")
    local: CocolaLocalParams = field()


@dataclass(frozen=True, kw_only=True)
class MetricsParams:
    fad: FadMetricParams = field()
    beats: BeatMetricParams = field()
    cocola: CocolaMetricParams = field()


@dataclass(frozen=True, kw_only=True)
class EvalSystem:
    kind: str = field(check=one_of("ground_truth", "codec", "mismatched", "liveband", "smg"))
    checkpoint: str = field(doc="model file it needs (the autoencoder for references)")
    drift: bool = field(True, doc="score the later segments too (drift); false = first segment only")
    extends: str | None = field(None, doc="extended scale: the default-scale system this one trains longer "
                                          "(it takes that system's place in results/extended/)")

    @property
    def scale(self) -> str:
        return "default" if self.extends is None else "extended"


@dataclass(frozen=True, kw_only=True)
class EvaluationParams:
    n_examples: int = field(check=positive, doc="at most this many examples (the list is fixed and saved)")
    targets_per_track: int = field(1, check=positive, doc="target stems scored per test track (distinct stems)")
    segment_seconds: float = field(check=positive)
    n_segments: int = field(2, check=positive, doc="first segment, then drift = second - first")
    lead_frames: int = field(check=non_negative, doc="scoring starts here for every system (1 s = 11)")
    n_reference: int = field(check=positive, doc="validation stems forming the FAD reference set")
    seed: int = field(check=non_negative)
    systems: dict[str, EvalSystem] = field()

    def at_scale(self, scale: str) -> dict[str, EvalSystem]:
        """The systems of one scale: ``default`` (the tables) or ``extended`` (results/extended/)."""
        return {k: v for k, v in self.systems.items() if v.scale == scale}

    def validate(self):
        for name, system in self.systems.items():
            base = self.systems.get(system.extends) if system.extends else None
            if system.extends and (base is None or base.extends is not None or base.kind != system.kind):
                return f"systems.{name}.extends", (f"'{system.extends}' is not a default-scale system of kind "
                                                   f"'{system.kind}'")
        return None


def _positive_items(values):
    return None if values and all(v > 0 for v in values) else "must be a non-empty list of values > 0"


@dataclass(frozen=True, kw_only=True)
class MetricValidationParams:
    n_examples: int = field(check=positive, doc="test-list examples used (at most the list's length)")
    shifts_seconds: tuple[float, ...] = field(check=_positive_items, doc="delays of the true stem: adherence and BA F1 must fall")
    snrs_db: tuple[float, ...] = field(doc="white noise added to the true stem: FAD/KAD must rise")
    lowpass_hz: float = field(check=positive, doc="cut-off of the low-passed stem: FAD/KAD must rise")
    n_bootstrap: int = field(check=positive, doc="clip resamples for the set-level (FAD/KAD) checks")
    alpha: float = field(check=probability, doc="level of every check (per-example: after Holm)")
    seed: int = field(check=non_negative, doc="noise, same-class partners, bootstrap")

    def validate(self):
        if not self.snrs_db:
            return "snrs_db", "must list at least one SNR"
        return None


@dataclass(frozen=True, kw_only=True)
class StatisticsParams:
    """Stage `tables`: intervals, paired tests and the claims' verdicts (liveband.stats)."""

    n_boot_mean: int = field(2000, check=positive, doc="bootstrap resamples for a mean over examples")
    n_boot_set: int = field(200, check=positive, doc="clip-level bootstrap replicates of FAD/KAD")
    level: float = field(0.95, check=probability, doc="confidence level of every interval")
    alpha: float = field(0.05, check=probability, doc="family-wise error rate (Holm) of the claims")
    seed: int = field(0, check=non_negative, doc="one seed: the same example draws for every system")


@dataclass(frozen=True, kw_only=True)
class PowerParams:
    """SIMULATION of the sessions needed (liveband.listening.power); the rating model is assumed."""

    sd: float = field(0.8, check=positive, doc="SD across participants of a participant's condition mean")
    rho: float = field(0.5, check=probability, doc="correlation of a participant's means across conditions")
    item_sd: float = field(0.7, check=non_negative, doc="SD of one item rating around the participant's mean")
    n_sim: int = field(500, check=positive, doc="simulated studies per number of sessions")
    max_sessions: int = field(60, check=positive, doc="largest number of sessions tried")
    target: float = field(0.8, check=probability, doc="power sought")
    seed: int = field(0, check=non_negative)


@dataclass(frozen=True, kw_only=True)
class ListeningParams:
    """Stages `listening_kit` and `listening_stats` (paper 6.4, Table 4; docs/LISTENING.md)."""

    items: int = field(16, check=positive, doc="pool of items per test (more than items_per_test)")
    items_per_test: int = field(10, check=positive, doc="items each participant rates per test")
    excerpt_seconds: float = field(10.0, check=positive, doc="every stimulus lasts this long")
    lead_seconds: float = field(1.0, check=non_negative, doc="earliest excerpt start (streaming warm-up)")
    fade_seconds: float = field(0.02, check=non_negative)
    loudness_lufs: float = field(-23.0, doc="every stimulus is normalised to this (BS.1770)")
    peak_dbfs: float = field(-1.0, doc="then turned down where needed so no peak exceeds this")
    stem_offset_db: float = field(5.0, doc="adherence: stem at L_mix - 10 log10(N) + this, N stems in the song")
    anchor_noise: float = field(2.0, check=non_negative,
                                doc="quality anchor: latent noise SD at the clip end, in latent SDs")
    seed: int = field(0, check=non_negative)
    responses: str = field("listening/responses", doc="folder of response files (not a DAG input)")
    power: PowerParams = field()

    def validate(self):
        if self.items <= self.items_per_test:
            return "items", "must be more than items_per_test"
        return None


@dataclass(frozen=True, kw_only=True)
class ComputeParams:
    """How the training stages (autoencoder, train_gan, train_smg) use a GPU. The defaults are
    plain float32 eager PyTorch: CPU profiles train bit for bit as before. The device itself
    is a machine setting (``--device`` / ``LIVEBAND_DEVICE``), not a param."""

    precision: str = field("float32", check=one_of("float32", "bfloat16", "auto"),
                           doc="bfloat16: autocast of the training forward passes (a CUDA GPU or CPU with "
                               "native bfloat16); auto: bfloat16 where native, else float32")
    compile: bool = field(False, doc="torch.compile of G and D, the autoencoder and SMG (Module.compile)")
    tf32: bool = field(False, doc="TF32 matmuls and convolutions on CUDA (no effect on CPU)")
    gpus: int = field(0, check=one_of(0, 1), doc="CUDA GPUs the profile needs (0: any machine); "
                                                 "training uses one GPU")
    preload: bool = field(False, doc="latent crops sampled from shards kept on the device (GAN, SMG); "
                                     "else pinned-memory copies per batch")


DATA_PARALLEL_RULES = ("autoencoder", "train_gan", "train_smg")  # stages that train under torchrun


@dataclass(frozen=True, kw_only=True)
class RuleResources:
    """One rule's job as a scheduler sees it (a null field: ``resources.default``'s)."""

    threads: int | None = field(None, check=non_negative, doc="CPU cores (Snakemake threads); 0: all of them")
    mem_mb: int | None = field(None, check=positive, doc="memory, MB")
    runtime: int | None = field(None, check=positive, doc="wall-time limit, minutes")
    gpus: int | None = field(None, check=non_negative,
                             doc="GPUs; above 1 the stage runs under torchrun, one data-parallel rank per GPU")


@dataclass(frozen=True, kw_only=True)
class ResourcesParams:
    """What each Snakemake rule asks of a cluster executor (workflow/profiles/, docs/CLUSTER.md).
    Scheduling only: no stage reads it, so no output depends on it."""

    default: RuleResources = field(default_factory=lambda: RuleResources(threads=1, mem_mb=4000, runtime=60, gpus=0))
    rules: dict[str, RuleResources] = field(default_factory=dict, doc="rule name -> what differs from default")

    def of(self, rule: str) -> dict[str, int]:
        """The rule's threads, mem_mb, runtime and gpus (its own values over the default's)."""
        own = self.rules.get(rule, RuleResources())
        return {k: v if v is not None else getattr(self.default, k)
                for k, v in dataclasses.asdict(own).items()}

    def validate(self):
        missing = [k for k, v in dataclasses.asdict(self.default).items() if v is None]
        if missing:
            return f"default.{missing[0]}", "the default must set every field"
        for rule, own in {"default": self.default, **self.rules}.items():
            if (own.gpus or 0) > 1 and rule not in DATA_PARALLEL_RULES:
                return (f"{'default' if rule == 'default' else 'rules.' + rule}.gpus",
                        f"only {', '.join(DATA_PARALLEL_RULES)} train on several GPUs")
        return None


@dataclass(frozen=True, kw_only=True)
class Params:
    profile: str = field(check=one_of("default", "ci", "paper"))
    audio: AudioParams = field()
    data: DataParams = field()
    autoencoder: AutoencoderParams = field()
    latents: LatentsParams = field()
    autoencoder_report: AutoencoderReportParams = field()
    gan: GanParams = field()
    rvq: RVQParams = field()
    smg: SMGParams = field()
    metrics: MetricsParams = field()
    evaluation: EvaluationParams = field()
    statistics: StatisticsParams = field()
    metric_validation: MetricValidationParams = field()
    listening: ListeningParams = field()
    latency: dict[str, Any] = field(doc="LatencySettings fields (src/liveband/streaming/latency.py)")
    compute: ComputeParams = field(default_factory=ComputeParams)
    resources: ResourcesParams = field(default_factory=ResourcesParams)

    def validate(self):
        from liveband import builders  # every model section, then the latency settings
        from liveband.streaming.latency import LatencySettings

        builders.validate_models(self)
        LatencySettings.from_params(self)
        return None


def _merge(base: dict, overlay: dict, source: str, prefix: str = "") -> dict:
    """Deep-merge ``overlay`` onto ``base``. New keys are allowed (an overlay may set an optional
    field the base leaves out); the schema then rejects any key it does not know."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if prefix == "" and key not in base:
            raise LiveBandError(f"{source}: {dotted}: unknown section (not in params.yaml)")
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value, source, dotted)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_yaml(path: str | Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise LiveBandError(f"{path}: file not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise LiveBandError(f"{path}: malformed YAML{where}") from None


def merged_params(path: str | Path = "params.yaml", profile: str | None = None) -> dict:
    """``params.yaml`` with the profile overlay applied (a plain dict, not yet validated)."""
    path = Path(path)
    base = read_yaml(path)
    if not isinstance(base, dict):
        raise LiveBandError(f"{path}: expected a mapping at the top level")
    name = check_name(profile or base.get("profile", "default"), "profile")
    if name != "default":
        overlay_path = path.parent / "profiles" / f"{name}.yaml"
        if not overlay_path.is_file():
            raise LiveBandError(f"profile: no overlay file {overlay_path} for profile '{name}'")
        overlay = read_yaml(overlay_path) or {}
        if not isinstance(overlay, dict):
            raise LiveBandError(f"{overlay_path}: expected a mapping at the top level")
        base = _merge(base, overlay, str(overlay_path))
    base["profile"] = name
    return base


def load_params(path: str | Path = "params.yaml", profile: str | None = None) -> Params:
    return from_dict(Params, merged_params(path, profile))
