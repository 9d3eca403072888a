"""Third-party weight files never run code: malicious pickles are refused with one line."""

import os
import pickle

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.metrics.cocola import make_adherence_scorer
from liveband.metrics.fad import make_embedder


class _Payload:
    """Unpickling this runs a shell command that creates ``sentinel``."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return os.system, (f"touch {self.sentinel}",)


BACKENDS = [
    ("metrics.fad.vggish_checkpoint", lambda p: make_embedder("vggish", p)),
    ("metrics.fad.clap_checkpoint", lambda p: make_embedder("clap", p)),
    ("metrics.cocola.checkpoint", lambda p: make_adherence_scorer("cocola", p)),
]


def _plain_pickle(path, sentinel):
    path.write_bytes(pickle.dumps({"state_dict": {"w": _Payload(sentinel)}}))


def _torch_zip(path, sentinel):
    torch.save({"state_dict": {"w": torch.zeros(2)}, "hyper_parameters": _Payload(sentinel)}, path)


@pytest.mark.parametrize("write", [_plain_pickle, _torch_zip], ids=["plain-pickle", "torch-zip"])
@pytest.mark.parametrize("key, build", BACKENDS, ids=[k for k, _ in BACKENDS])
def test_malicious_checkpoint_is_refused_without_running_it(tmp_path, key, build, write):
    sentinel = tmp_path / "SENTINEL"
    path = tmp_path / "weights.ckpt"
    write(path, sentinel)
    with pytest.raises(LiveBandError) as err:
        build(path)
    assert not sentinel.exists()
    message = str(err.value)
    assert message.startswith(f"{key}: ") and "\n" not in message
    assert "liveband.metrics.convert_weights" in message
