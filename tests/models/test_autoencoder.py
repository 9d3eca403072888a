"""Causal autoencoder: shapes, exact causality, streaming == offline, input errors, and that it learns."""

import math

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.losses.spectral import MultiResolutionSTFTLoss
from liveband.models.autoencoder import AutoencoderConfig, CausalAutoencoder
from liveband.utils.chunks import cycled_slices

HOP = 256


def tiny_config(channels: int = 1, **overrides) -> AutoencoderConfig:
    fields = dict(
        sample_rate=8000, channels=channels, hop=HOP, latent_dim=8,
        encoder_n_fft=128, encoder_stft_hop=32, encoder_frame_width=16, encoder_frame_depth=2,
        encoder_latent_width=24, encoder_latent_depth=2,
        decoder_latent_width=24, decoder_latent_depth=2, decoder_frame_width=16, decoder_frame_depth=2,
        head_n_fft=128, head_hop=32,
    )  # fmt: skip
    fields.update(overrides)
    return AutoencoderConfig(**fields)


def tiny_model(channels: int = 1, **overrides) -> CausalAutoencoder:
    torch.manual_seed(0)
    return CausalAutoencoder(tiny_config(channels, **overrides)).eval()




@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(1)


@pytest.mark.parametrize("channels", [1, 2])
def test_shapes_and_dropped_partial_hop(channels):
    model = tiny_model(channels)
    audio = 0.3 * torch.randn(3, channels, 5 * HOP + 100)
    with torch.no_grad():
        recon, latents = model(audio)
    assert latents.shape == (3, 8, 5)
    assert recon.shape == (3, channels, 5 * HOP)
    assert torch.isfinite(recon).all()
    with torch.no_grad():  # the partial hop does not change the complete frames
        assert torch.equal(model.encode(audio[..., : 5 * HOP]), latents)


def test_profile_frame_rates():
    # the default (22.05 kHz, hop 2048) and paper (44.1 kHz, hop 4096) profiles share one latent rate
    default = AutoencoderConfig(sample_rate=22050, hop=2048)
    paper = AutoencoderConfig(sample_rate=44100, channels=2, hop=4096, latent_dim=64, encoder_n_fft=2048,
                              encoder_stft_hop=512, head_n_fft=2048, head_hop=512)  # fmt: skip
    assert math.isclose(default.frame_rate, 10.7666, rel_tol=1e-4)
    assert math.isclose(paper.frame_rate, default.frame_rate)


@pytest.mark.parametrize("channels", [1, 2])
def test_encoder_latent_k_ignores_audio_from_next_hop_on(channels):
    model = tiny_model(channels)
    audio = (0.3 * torch.randn(1, channels, 8 * HOP)).requires_grad_(True)
    latents = model.encode(audio)
    for k in (0, 3, 6):
        audio.grad = None
        latents[..., k].sum().backward(retain_graph=True)
        end = (k + 1) * HOP
        assert torch.all(audio.grad[..., end:] == 0), f"latent {k} depends on the future"
        assert audio.grad[..., end - 1].abs().sum() > 0, f"latent {k} ignores its newest sample"


@pytest.mark.parametrize("channels", [1, 2])
def test_decoder_block_k_ignores_later_latents(channels):
    model = tiny_model(channels)
    latents = torch.randn(1, 8, 8, requires_grad=True)
    audio = model.decode(latents)
    for k in (0, 3, 6):
        latents.grad = None
        audio[..., k * HOP : (k + 1) * HOP].pow(2).sum().backward(retain_graph=True)
        assert torch.all(latents.grad[..., k + 1 :] == 0), (
            f"audio block {k} depends on later latents"
        )
        assert latents.grad[..., k].abs().sum() > 0, f"audio block {k} ignores latent {k}"


ENCODER_CHUNKINGS = [
    [HOP // 3],  # always less than a hop
    [5, 300, 77, 1024, 1, HOP],  # irregular
    [HOP],
    [10**9],  # one big chunk
]


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("sizes", ENCODER_CHUNKINGS)
def test_streaming_encoder_matches_offline(channels, sizes):
    model = tiny_model(channels)
    audio = 0.3 * torch.randn(2, channels, 12 * HOP + 50)
    with torch.no_grad():
        offline = model.encode(audio)
    stream = model.stream_encoder(batch_size=2)
    pieces = [stream.push(audio[..., s]) for s in cycled_slices(audio.shape[-1], sizes)]
    assert all(p.shape[:2] == (2, 8) for p in pieces)
    streamed = torch.cat(pieces, dim=-1)
    assert streamed.shape == offline.shape
    assert (streamed - offline).abs().max() <= 1e-5


def test_streaming_encoder_single_samples():
    model = tiny_model()
    audio = 0.3 * torch.randn(1, 1, 3 * HOP + 7)
    stream = model.stream_encoder(1)
    streamed = torch.cat(
        [stream.push(audio[..., t : t + 1]) for t in range(audio.shape[-1])], dim=-1
    )
    with torch.no_grad():
        assert (streamed - model.encode(audio)).abs().max() <= 1e-5


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("sizes", [[1], [2, 3, 1], [0, 1, 4], [100]])
def test_streaming_decoder_matches_offline(channels, sizes):
    model = tiny_model(channels)
    latents = torch.randn(2, 8, 12)
    with torch.no_grad():
        offline = model.decode(latents)
    stream = model.stream_decoder(batch_size=2)
    pieces, start, i = [], 0, 0
    while start < latents.shape[-1]:
        n = sizes[i % len(sizes)]
        pieces.append(stream.push(latents[..., start : start + n]))
        assert pieces[-1].shape == (2, channels, min(n, latents.shape[-1] - start) * HOP)
        start, i = start + n, i + 1
    streamed = torch.cat(pieces, dim=-1)
    assert streamed.shape == offline.shape
    assert (streamed - offline).abs().max() <= 1e-5


def test_streaming_round_trip_matches_forward_and_state_stays_bounded():
    model = tiny_model()
    audio = 0.3 * torch.randn(1, 1, 40 * HOP)
    with torch.no_grad():
        offline, _ = model(audio)
    encoder, decoder = model.stream_encoder(1), model.stream_decoder(1)

    def state_size():  # elements held by every tensor in both stream states
        def walk(s):
            if isinstance(s, torch.Tensor):
                return s.numel()
            if isinstance(s, (list, tuple)):
                return sum(walk(item) for item in s)
            if isinstance(s, dict):
                return sum(walk(item) for item in s.values())
            return sum(walk(v) for v in vars(s).values()) if hasattr(s, "__dict__") else 0

        return walk(encoder.state) + walk(decoder.state)

    out, sizes = [], []
    for s in cycled_slices(audio.shape[-1], [HOP // 2 + 3, HOP // 2 - 3]):  # one hop per two pushes
        out.append(decoder.push(encoder.push(audio[..., s])))
        sizes.append(state_size())
    assert (torch.cat(out, dim=-1) - offline).abs().max() <= 1e-5
    assert sizes[-2:] == sizes[10:12]  # the state repeats with the chunk pattern: no growth


@pytest.mark.parametrize(
    "make_audio,message",
    [
        (lambda: torch.full((1, 1, 2 * HOP), float("nan")), "NaN"),
        (lambda: torch.full((1, 1, 2 * HOP), float("inf")), "NaN or inf"),
        (lambda: torch.zeros(1, 2, 2 * HOP), "channel"),
        (lambda: torch.zeros(1, 1, HOP - 1), "shorter than one latent hop"),
        (lambda: torch.zeros(1, 2 * HOP), "(batch, channels, samples)"),
    ],
)
def test_bad_audio_raises_one_line_error(make_audio, message):
    model = tiny_model()
    with pytest.raises(
        LiveBandError, match=message.replace("(", r"\(").replace(")", r"\)")
    ) as info:
        model.encode(make_audio())
    assert "\n" not in str(info.value)


def test_bad_stream_and_latent_input_raises():
    model = tiny_model()
    with pytest.raises(LiveBandError, match="NaN"):
        model.stream_encoder(1).push(torch.tensor([[[0.0, float("nan")]]]))
    with pytest.raises(LiveBandError, match="channel"):
        model.stream_encoder(1).push(torch.zeros(1, 2, 10))
    with pytest.raises(LiveBandError, match="batch size"):
        model.stream_encoder(1).push(torch.zeros(2, 1, 10))
    with pytest.raises(LiveBandError, match="latents"):
        model.decode(torch.zeros(1, 7, 3))
    with pytest.raises(LiveBandError, match="NaN"):
        model.stream_decoder(1).push(torch.full((1, 8, 1), float("inf")))


@pytest.mark.parametrize(
    "overrides,key",
    [
        (dict(channels=3), "autoencoder.channels"),
        (dict(head_hop=48), "autoencoder.head_hop"),
        (dict(head_n_fft=32), "autoencoder.head_n_fft"),
        (dict(encoder_stft_hop=48), "autoencoder.encoder_stft_hop"),
        (dict(latent_dim=0), "autoencoder.latent_dim"),
    ],
)
def test_bad_config_names_the_key(overrides, key):
    with pytest.raises(LiveBandError, match=key):
        tiny_config(**overrides)


def test_tiny_model_learns_a_sine():
    torch.manual_seed(0)
    model = CausalAutoencoder(tiny_config()).train()
    t = torch.arange(16 * HOP) / 8000
    audio = (0.5 * torch.sin(2 * math.pi * 440 * t)).reshape(1, 1, -1)
    loss_fn = MultiResolutionSTFTLoss(fft_sizes=(64, 128, 256))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        recon, _ = model(audio)
        loss = loss_fn(recon, audio)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5, losses
