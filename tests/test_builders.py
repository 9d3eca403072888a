"""Model files: checksummed weights, and configs validated before any model is built."""

import logging
import struct
import zipfile

import pytest
import torch

from liveband.builders import load_autoencoder, load_bundle
from liveband.errors import LiveBandError


def _flip_bit_in_tensor(path, record_suffix):
    """Flip one bit inside a stored tensor's raw bytes (the zip's CRC is not checked by torch)."""
    with zipfile.ZipFile(path) as archive:
        records = [i for i in archive.infolist() if "/data/" in i.filename and i.file_size >= 64]
        info = records[int(record_suffix) % len(records)]
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    data[info.header_offset + 30 + name_len + extra_len + info.file_size // 2] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("which", [0, 1, 5])
def test_flipped_bit_in_a_bundle_is_a_checksum_error(tiny_bundle, which):
    path = tiny_bundle(1)
    load_bundle(path)
    _flip_bit_in_tensor(path, which)
    with pytest.raises(LiveBandError) as err:
        load_bundle(path)
    assert str(err.value) == f"{path}: weights checksum mismatch (the file is corrupt or was altered)"


def test_flipped_bit_in_a_model_file_is_a_checksum_error(tiny_bundle, tmp_path):
    tiny_bundle(1)  # also writes ae.pt through save_model
    _flip_bit_in_tensor(tmp_path / "ae.pt", 0)
    with pytest.raises(LiveBandError, match="ae.pt: weights checksum mismatch"):
        load_autoencoder(tmp_path / "ae.pt")


def test_bundle_without_checksum_loads_with_a_warning(tiny_bundle, tmp_path, caplog):
    payload = torch.load(tiny_bundle(1), weights_only=True)
    del payload["sha256"]
    torch.save(payload, tmp_path / "old.pt")
    with caplog.at_level(logging.WARNING, logger="liveband"):
        bundle = load_bundle(tmp_path / "old.pt")
    assert bundle.kind == "liveband"
    assert "old.pt: no weights checksum" in caplog.text


@pytest.mark.parametrize("section, key, value, message", [
    ("config", "d_model", 10**9, "generator.d_model = 1000000000 is outside"),
    ("config", "context_frames", 10**8, "generator.context_frames = 100000000 is outside"),
    ("config", "n_layers", 10**6, "generator.n_layers = 1000000 is outside"),
    ("config", "d_model", -32, "generator.d_model: must be >= 1"),
    ("autoencoder", "encoder_frame_width", 10**9, "autoencoder.encoder_frame_width = 1000000000 is outside"),
    ("autoencoder", "latent_dim", -8, "autoencoder.latent_dim: must be >= 1"),
    ("config", "d_model", 64, "liveband weights do not fit this code's architecture"),
])
def test_absurd_bundle_configs_fail_before_building(tiny_bundle, tmp_path, monkeypatch, section, key, value, message):
    payload = torch.load(tiny_bundle(1), weights_only=True)
    config = payload["autoencoder"]["config"] if section == "autoencoder" else payload["config"]
    config[key] = value
    del payload["sha256"]  # a hand-edited file: the checksum would catch the edit first
    torch.save(payload, tmp_path / "absurd.pt")

    from liveband.models import autoencoder, generator

    real_builds = []
    for cls in (generator.Generator, autoencoder.CausalAutoencoder):
        def init(self, *args, _init=cls.__init__, **kwargs):
            if torch.empty(0).device.type != "meta":
                real_builds.append(type(self).__name__)
            _init(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", init)
    with pytest.raises(LiveBandError) as err:
        load_bundle(tmp_path / "absurd.pt")
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'absurd.pt'}: ") and message in text and "\n" not in text
    assert "Generator" not in real_builds                     # the mismatch is seen on the meta device
    assert real_builds == [] or value == 64                   # bad configs: nothing built at all


def test_smg_bundle_configs_are_checked_too(tiny_smg_bundle, tmp_path):
    payload = torch.load(tiny_smg_bundle(1), weights_only=True)
    payload["rvq"]["config"]["codebook_size"] = 10**9
    del payload["sha256"]
    torch.save(payload, tmp_path / "smg.pt")
    with pytest.raises(LiveBandError, match="rvq.codebook_size = 1000000000 is outside"):
        load_bundle(tmp_path / "smg.pt")


def test_builders_give_every_model_the_class_count_of_the_vocabulary():
    """Models take the class count as a plain argument; only builders read it from the data package."""
    from pathlib import Path

    from liveband import builders
    from liveband.config import load_params
    from liveband.data.classes import N_CLASSES

    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml", "ci")
    variant = next(iter(params.gan.variants))
    assert builders.generator_config(params, variant).n_classes == N_CLASSES
    assert builders.discriminator_config(params, variant).n_classes == N_CLASSES
    assert builders.smg_config(params, next(iter(params.smg.variants))).n_classes == N_CLASSES


def test_model_config_defaults_match_the_vocabulary():
    """The models' own default class count (used by tests and tools that build a model directly)."""
    from liveband.data.classes import N_CLASSES
    from liveband.models.discriminator import DiscriminatorConfig
    from liveband.models.generator import GeneratorConfig

    assert GeneratorConfig().n_classes == DiscriminatorConfig().n_classes == N_CLASSES
