"""The Python API shown in README.md works as written: names re-exported from ``liveband``."""

import subprocess
import sys

import numpy as np
import soundfile as sf
import torch

import liveband

SR = 22050


def test_import_liveband_does_not_load_torch_until_an_api_name_is_used():
    code = ("import sys, liveband; assert 'torch' not in sys.modules; "
            "liveband.load_bundle; assert 'torch' in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_readme_api_accompanies_an_array_a_file_and_chunks(tiny_bundle, tmp_path):
    from liveband.data.classes import parse_instrument

    bundle = liveband.load_bundle(tiny_bundle(1))
    assert liveband.describe_bundle(bundle)["sample_rate"] == SR
    mix = (0.2 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32)
    out, _ = liveband.accompany_array(bundle, mix, "Bass", seed=3)              # mono (T,) and a name
    by_id, _ = liveband.accompany_array(bundle, mix[None], parse_instrument("Bass"), seed=3)
    assert out.shape == (1, SR) and np.abs(out).max() > 1e-3
    np.testing.assert_array_equal(out, by_id)
    acc = liveband.Accompanist(bundle, "bass", seed=3)                            # stream chunks
    chunks = [acc.push(torch.from_numpy(mix[None, None, i:i + 1000])) for i in range(0, SR, 1000)]
    streamed = torch.cat([torch.zeros(1, 1, acc.tau * acc.hop), *chunks], -1)[0].numpy()
    n = min(streamed.shape[-1], SR)  # the streamed frames, each hop long, cover the array's length
    assert n > SR - acc.hop
    np.testing.assert_allclose(streamed[:, :n], out[:, :n], atol=1e-6)
    sf.write(tmp_path / "song.wav", mix, SR)
    result = liveband.accompany_file(bundle, tmp_path / "song.wav", "Bass", tmp_path / "bass.wav", seed=3)
    assert isinstance(result, liveband.AccompanimentResult) and result.samples == SR


def test_unknown_names_are_attribute_errors():
    import pytest

    with pytest.raises(AttributeError):
        liveband.no_such_thing  # noqa: B018
    assert "accompany_file" in dir(liveband) and "accompany_file" in liveband.__all__
