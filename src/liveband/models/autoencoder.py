"""Causal audio autoencoder: waveform <-> continuous latents at sample_rate / hop frames per second.

Both halves are strictly causal, so they stream with no lookahead (paper, section 4.2):
- encoder: a causal STFT front end (each window ends at the current sample) giving compressed
  magnitudes, ConvNeXt-style causal blocks at STFT-frame rate, a strided causal conv down to the
  latent rate, more blocks, and a pointwise projection to `latent_dim`. Latent k reads audio
  samples < (k + 1) * hop. Phase is not an input: at this latent rate it cannot be kept, and
  as a feature it only made stationary sounds look time-varying (training then stalled).
- decoder: causal blocks at the latent rate, a transposed conv up to the rate of the output
  head's STFT frames, more blocks, and an inverse-STFT head (as in Vocos): per frame it
  predicts a log magnitude and a phase for every bin, and the waveform is the windowed
  overlap-add of the inverse FFTs. Frame j starts at sample j * head_hop, so output block k
  (samples [k * hop, (k + 1) * hop)) depends only on latents <= k; window tails carry into
  later blocks.

All causal padding and streaming state come from `liveband.modules.causal_conv`.
Audio is (B, C, T); latents are (B, D, F) with F = T // hop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from liveband.errors import LiveBandError, check_finite
from liveband.modules.causal_conv import (
    CausalConv1d,
    CausalConvTranspose1d,
    CausalFrames,
    OverlapAdd,
    OverlapBuffer,
    StreamingSequential,
)


@dataclass(frozen=True)
class AutoencoderConfig:
    sample_rate: int = 22050  # audio sample rate in Hz
    channels: int = 1  # audio channels: 1 (mono) or 2 (stereo)
    hop: int = 2048  # audio samples per latent frame (latent rate = sample_rate / hop)
    latent_dim: int = 32  # D, channels of the continuous latent
    # encoder
    encoder_n_fft: int = 1024  # front-end STFT window; each window ends at the newest sample
    encoder_stft_hop: int = 256  # front-end STFT hop; divides `hop`
    encoder_frame_width: int = 128  # channels of the encoder blocks at STFT-frame rate
    encoder_frame_depth: int = 2  # number of encoder blocks at STFT-frame rate
    encoder_latent_width: int = 256  # channels of the encoder blocks at latent rate
    encoder_latent_depth: int = 2  # number of encoder blocks at latent rate
    # decoder
    decoder_latent_width: int = 256  # channels of the decoder blocks at latent rate
    decoder_latent_depth: int = 3  # number of decoder blocks at latent rate
    decoder_frame_width: int = 128  # channels of the decoder blocks at head-STFT-frame rate
    decoder_frame_depth: int = 2  # number of decoder blocks at head-STFT-frame rate
    # shared block shape
    frame_kernel_size: int = 7  # depthwise causal kernel of the blocks at STFT-frame rate
    latent_kernel_size: int = 3  # depthwise kernel at latent rate (dilation doubles per block)
    mlp_ratio: int = 3  # hidden width of a block's MLP, as a multiple of its width
    # decoder output head (inverse STFT)
    head_n_fft: int = 1024  # inverse-STFT window length; a multiple of `head_hop`, at least 2x
    head_hop: int = 256  # inverse-STFT hop; divides `hop`
    head_max_log_magnitude: float = 3.0  # safety clamp of a bin's log amplitude (e^3 ~ 20)

    def __post_init__(self):
        for key in _POSITIVE_FIELDS:
            _need(getattr(self, key) >= 1, key, f"must be >= 1, got {getattr(self, key)}")
        for key in _DEPTH_FIELDS:
            _need(getattr(self, key) >= 0, key, f"must be >= 0, got {getattr(self, key)}")
        _need(self.channels in (1, 2), "channels", f"must be 1 or 2, got {self.channels}")
        for key, hop in (("encoder_stft_hop", self.encoder_stft_hop), ("head_hop", self.head_hop)):
            _need(self.hop % hop == 0, key, f"{hop} does not divide hop {self.hop}")
        _need(
            self.encoder_n_fft >= self.encoder_stft_hop,
            "encoder_n_fft",
            "is below encoder_stft_hop",
        )
        _need(
            self.head_n_fft % self.head_hop == 0 and self.head_n_fft >= 2 * self.head_hop,
            "head_n_fft",
            f"{self.head_n_fft} is not a multiple (>= 2) of head_hop {self.head_hop}",
        )

    @property
    def frame_rate(self) -> float:
        """Latent frames per second."""
        return self.sample_rate / self.hop


_POSITIVE_FIELDS = (
    "sample_rate", "hop", "latent_dim", "encoder_n_fft", "encoder_stft_hop", "head_n_fft",
    "head_hop", "frame_kernel_size", "latent_kernel_size", "mlp_ratio", "encoder_frame_width",
    "encoder_latent_width", "decoder_latent_width", "decoder_frame_width",
)  # fmt: skip
_DEPTH_FIELDS = (
    "encoder_frame_depth",
    "encoder_latent_depth",
    "decoder_latent_depth",
    "decoder_frame_depth",
)


def _need(ok: bool, key: str, why: str) -> None:
    if not ok:
        raise LiveBandError(f"autoencoder.{key}: {why}")


class _Block(nn.Module):
    """ConvNeXt-style causal block: depthwise causal conv, per-step LayerNorm, MLP, scaled residual."""

    def __init__(
        self, width: int, kernel_size: int, dilation: int, mlp_ratio: int, residual_scale: float
    ):
        super().__init__()
        self.mix = CausalConv1d(width, width, kernel_size, dilation=dilation, groups=width)
        self.norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, mlp_ratio * width), nn.GELU(), nn.Linear(mlp_ratio * width, width)
        )
        self.scale = nn.Parameter(torch.full((width,), residual_scale))

    def _finish(self, x: Tensor, mixed: Tensor) -> Tensor:
        y = self.mlp(self.norm(mixed.transpose(1, 2)))  # (B, T, W)
        return x + (self.scale * y).transpose(1, 2)  # (B, W, T)

    def forward(self, x: Tensor) -> Tensor:  # (B, W, T) -> (B, W, T)
        return self._finish(x, self.mix(x))

    def init_state(self, batch_size: int):
        return self.mix.init_state(batch_size)

    def push(self, x: Tensor, state) -> Tensor:
        return self._finish(x, self.mix.push(x, state))


class _ChannelNorm(nn.LayerNorm):
    """LayerNorm over the channels of a (B, W, T) sequence, at each time step (so causal)."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


def _blocks(width: int, depth: int, kernel_size: int, mlp_ratio: int, dilate: bool) -> list:
    scale = 1.0 / max(depth, 1)
    return [
        _Block(width, kernel_size, 2**i if dilate else 1, mlp_ratio, scale) for i in range(depth)
    ]


class CausalEncoder(nn.Module):
    """(B, C, T) audio -> (B, D, T // hop) latents; latent k reads samples < (k + 1) * hop."""

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.frames = CausalFrames(cfg.encoder_n_fft, cfg.encoder_stft_hop)
        window = torch.hann_window(cfg.encoder_n_fft, periodic=True)
        # normalised so that a full-scale sine gives a peak |X| of about 0.5
        self.register_buffer("window", window / window.sum(), persistent=False)
        n_features = cfg.channels * (cfg.encoder_n_fft // 2 + 1)  # see `features`
        down = cfg.hop // cfg.encoder_stft_hop  # STFT frames per latent frame
        k_frame, k_latent, mlp = cfg.frame_kernel_size, cfg.latent_kernel_size, cfg.mlp_ratio
        frame_width, latent_width = cfg.encoder_frame_width, cfg.encoder_latent_width
        self.net = StreamingSequential(
            CausalConv1d(n_features, frame_width, 1),  # (B, W_frame, T // stft_hop)
            _ChannelNorm(frame_width),
            *_blocks(frame_width, cfg.encoder_frame_depth, k_frame, mlp, dilate=False),
            CausalConv1d(frame_width, latent_width, 2 * down, stride=down),  # (B, W_latent, F)
            *_blocks(latent_width, cfg.encoder_latent_depth, k_latent, mlp, dilate=True),
            CausalConv1d(latent_width, cfg.latent_dim, 1),  # (B, D, F)
        )

    def features(self, frames: Tensor) -> Tensor:
        """(B, C, n, N) frames -> (B, C * bins, n) power-law compressed magnitudes |X|^0.3."""
        spec = torch.fft.rfft(frames * self.window, dim=-1)  # (B, C, n, bins)
        feats = spec.abs().clamp_min(1e-6).pow(0.3)
        B, C, n, bins = feats.shape
        return feats.transpose(2, 3).reshape(B, C * bins, n)

    def forward(self, audio: Tensor) -> Tensor:  # (B, C, T) -> (B, D, T // hop)
        return self.net(self.features(self.frames(audio)))

    def init_state(self, batch_size: int) -> tuple:
        return self.frames.init_state(batch_size), self.net.init_state(batch_size)

    def push(self, audio: Tensor, state: tuple) -> Tensor | None:
        """Stream a (B, C, n) chunk; returns new latents (B, D, k) or None when no frame completed."""
        frames = self.frames.push(audio, state[0])  # (B, C, n_frames, N)
        if frames.shape[2] == 0:
            return None
        return self.net.push(self.features(frames), state[1])


class CausalDecoder(nn.Module):
    """(B, D, F) latents -> (B, C, F * hop) audio; output block k depends on latents <= k only."""

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.channels, self.bins = cfg.channels, cfg.head_n_fft // 2 + 1
        self.max_log_magnitude = cfg.head_max_log_magnitude
        up = cfg.hop // cfg.head_hop  # head STFT frames per latent frame
        k_frame, k_latent, mlp = cfg.frame_kernel_size, cfg.latent_kernel_size, cfg.mlp_ratio
        latent_width, frame_width = cfg.decoder_latent_width, cfg.decoder_frame_width
        self.net = StreamingSequential(
            CausalConv1d(cfg.latent_dim, latent_width, k_latent),  # (B, W_latent, F)
            _ChannelNorm(latent_width),
            *_blocks(latent_width, cfg.decoder_latent_depth, k_latent, mlp, dilate=True),
            # up to the head's frame rate: (B, W_frame, F * up)
            CausalConvTranspose1d(latent_width, frame_width, 2 * up, stride=up),
            *_blocks(frame_width, cfg.decoder_frame_depth, k_frame, mlp, dilate=False),
        )
        self.head_norm = nn.LayerNorm(cfg.decoder_frame_width)
        # per channel and bin: a log magnitude and a phase
        self.head = nn.Linear(cfg.decoder_frame_width, cfg.channels * 2 * self.bins)
        with torch.no_grad():  # start as quiet noise (about -25 dBFS), not at 0 dBFS per bin
            self.head.bias.view(cfg.channels, 2, self.bins)[:, 0] = -6.0
        self.overlap_add = OverlapAdd(cfg.head_n_fft, cfg.head_hop)
        # The synthesis window is a Hann window divided by twice the sum of the overlapping
        # windows (per sample of a hop): with an unnormalised inverse FFT, a magnitude of M in
        # bin k of every frame then gives a partial of amplitude M (in [-1, 1] units).
        window = torch.hann_window(cfg.head_n_fft, periodic=True).reshape(-1, cfg.head_hop)
        synthesis = window / (2 * window.sum(0).clamp_min(1e-3))  # (overlap, head_hop)
        self.register_buffer("window", synthesis.reshape(-1), persistent=False)  # (head_n_fft,)

    def synthesis_frames(self, hidden: Tensor, work: _HeadWork | None = None) -> Tensor:
        """(B, W, n) head-rate features -> (B, C, n, head_n_fft) windowed time-domain frames.

        With `work` (streaming) the same maths runs in place in preallocated tensors.
        """
        h = self.head_norm(hidden.transpose(1, 2))  # (B, n, W)
        B, n, _ = h.shape
        if work is None:
            out = self.head(h).view(B, n, self.channels, 2, self.bins)  # log magnitude, phase
            magnitude = out[..., 0, :].clamp(max=self.max_log_magnitude).exp()  # (B, n, C, bins)
            spec = torch.polar(magnitude, out[..., 1, :])
            frames = torch.fft.irfft(spec, n=self.window.numel(), norm="forward") * self.window
        else:
            out = torch.matmul(h, self.head.weight.t(), out=work.linear).add_(self.head.bias)
            out = out.view(B, n, self.channels, 2, self.bins)
            torch.clamp(out[..., 0, :], max=self.max_log_magnitude, out=work.magnitude).exp_()
            torch.polar(work.magnitude, out[..., 1, :], out=work.spectrum)
            frames = torch.fft.irfft(
                work.spectrum, n=self.window.numel(), norm="forward", out=work.frames
            )
            frames.mul_(self.window)
        return frames.transpose(1, 2)  # (B, C, n, N)

    def forward(self, latents: Tensor) -> Tensor:  # (B, D, F) -> (B, C, F * hop)
        return self.overlap_add(self.synthesis_frames(self.net(latents)))

    def init_state(self, batch_size: int) -> DecoderState:
        return DecoderState(
            self.net.init_state(batch_size), self.overlap_add.init_state(batch_size)
        )

    def push(self, latents: Tensor, state: DecoderState) -> Tensor:
        """Stream (B, D, k) latents, k >= 1; returns the (B, C, k * hop) samples they complete."""
        hidden = self.net.push(latents, state.net)  # (B, W, n) with n = k * hop // head_hop
        n = hidden.shape[-1]
        if state.head_work is None or state.head_work.frames.shape[1] != n:
            # one set of buffers, for the stream's usual step size
            state.head_work = _HeadWork.allocate(
                hidden, n, self.channels, self.bins, self.window.numel()
            )
        frames = self.synthesis_frames(hidden, state.head_work)
        return self.overlap_add.push(frames, state.overlap)


@dataclass
class _HeadWork:
    """Preallocated tensors of the streaming output head for one step size (n head frames).

    Reused across steps: a step of the paper-size decoder would otherwise allocate a few
    hundred kB of fresh (page-faulting) memory for tensors that live a few microseconds.
    """

    linear: Tensor  # (B, n, C * 2 * bins) head output
    magnitude: Tensor  # (B, n, C, bins)
    spectrum: Tensor  # (B, n, C, bins) complex
    frames: Tensor  # (B, n, C, N)

    @staticmethod
    def allocate(like: Tensor, n: int, channels: int, bins: int, n_fft: int) -> _HeadWork:
        B = like.shape[0]
        complex_dtype = torch.complex128 if like.dtype == torch.float64 else torch.complex64
        return _HeadWork(
            linear=like.new_empty(B, n, channels * 2 * bins),
            magnitude=like.new_empty(B, n, channels, bins),
            spectrum=torch.empty(B, n, channels, bins, dtype=complex_dtype, device=like.device),
            frames=like.new_empty(B, n, channels, n_fft),
        )


@dataclass
class DecoderState:
    """Streaming state of the decoder: conv histories, the overlap-add tail, head work tensors."""

    net: list  # per-layer states of `CausalDecoder.net`
    overlap: OverlapBuffer  # window tails of the inverse STFT not yet emitted
    head_work: _HeadWork | None = None  # preallocated on the first step


def _check_stream_batch(batch_size: int, x: Tensor) -> None:
    if x.shape[0] != batch_size:
        raise LiveBandError(
            f"stream: opened for batch size {batch_size}, got a chunk of batch size {x.shape[0]}"
        )


class EncoderStream:
    """Streaming encoder for one batch of live inputs: push audio of any length, get the completed latents."""

    def __init__(self, model: CausalAutoencoder, batch_size: int):
        self.model, self.batch_size = model, batch_size
        self.state = model.encoder.init_state(batch_size)

    @torch.no_grad()
    def push(self, audio: Tensor) -> Tensor:
        """(B, C, n) audio, any n >= 0 -> (B, D, k) latents, k >= 0 (partial hops wait in the state)."""
        self.model._check_audio(audio, min_samples=0)
        _check_stream_batch(self.batch_size, audio)
        latents = self.model.encoder.push(audio, self.state)
        if latents is None:
            return audio.new_zeros(audio.shape[0], self.model.cfg.latent_dim, 0)
        return latents


class DecoderStream:
    """Streaming decoder for one batch: push latent frames, get the audio they complete."""

    def __init__(self, model: CausalAutoencoder, batch_size: int):
        self.model, self.batch_size = model, batch_size
        self.state = model.decoder.init_state(batch_size)

    @torch.no_grad()
    def push(self, latents: Tensor) -> Tensor:
        """(B, D, k) latents, k >= 0 -> (B, C, k * hop) audio."""
        self.model._check_latents(latents, min_frames=0)
        _check_stream_batch(self.batch_size, latents)
        if latents.shape[-1] == 0:
            return latents.new_zeros(latents.shape[0], self.model.cfg.channels, 0)
        return self.model.decoder.push(latents, self.state)


class CausalAutoencoder(nn.Module):
    """Causal encoder and decoder between (B, C, T) audio and (B, D, T // hop) latents."""

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = CausalEncoder(cfg)
        self.decoder = CausalDecoder(cfg)

    def _check_audio(self, audio: Tensor, min_samples: int) -> None:
        if not isinstance(audio, Tensor) or audio.dim() != 3:
            shape = tuple(getattr(audio, "shape", ()))
            raise LiveBandError(f"audio: expected a (batch, channels, samples) tensor, got {shape}")
        if not audio.is_floating_point():
            raise LiveBandError(f"audio: expected floating-point samples, got {audio.dtype}")
        if audio.shape[1] != self.cfg.channels:
            raise LiveBandError(
                f"audio: expected {self.cfg.channels} channel(s), got {audio.shape[1]}"
            )
        if audio.shape[-1] < min_samples:
            n, hop = audio.shape[-1], self.cfg.hop
            raise LiveBandError(f"audio: {n} samples is shorter than one latent hop ({hop})")
        check_finite("audio", audio)

    def _check_latents(self, latents: Tensor, min_frames: int) -> None:
        D = self.cfg.latent_dim
        if not isinstance(latents, Tensor) or latents.dim() != 3 or latents.shape[1] != D:
            shape = tuple(getattr(latents, "shape", ()))
            raise LiveBandError(f"latents: expected shape (batch, {D}, frames), got {shape}")
        if latents.shape[-1] < min_frames:
            raise LiveBandError(f"latents: need at least {min_frames} frame(s), got none")
        check_finite("latents", latents)

    def encode(self, audio: Tensor) -> Tensor:
        """(B, C, T) -> (B, D, T // hop); a trailing partial hop is dropped."""
        self._check_audio(audio, min_samples=self.cfg.hop)
        n_frames = audio.shape[-1] // self.cfg.hop
        return self.encoder(audio[..., : n_frames * self.cfg.hop])

    def decode(self, latents: Tensor) -> Tensor:
        """(B, D, F) -> (B, C, F * hop)."""
        self._check_latents(latents, min_frames=1)
        return self.decoder(latents)

    def forward(self, audio: Tensor) -> tuple[Tensor, Tensor]:
        """(B, C, T) -> (reconstruction (B, C, F * hop), latents (B, D, F))."""
        latents = self.encode(audio)
        return self.decode(latents), latents

    def stream_encoder(self, batch_size: int = 1) -> EncoderStream:
        return EncoderStream(self, batch_size)

    def stream_decoder(self, batch_size: int = 1) -> DecoderStream:
        return DecoderStream(self, batch_size)


def count_parameters(module: nn.Module) -> int:
    return sum(math.prod(p.shape) for p in module.parameters())
