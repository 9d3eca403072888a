import numpy as np
import pytest

from liveband.evaluation.scoring import SegmentScores
from liveband.metrics.fad import fad
from liveband.metrics.kad import kad


def test_summary_adds_kad_beside_unchanged_fad_keys():
    rng = np.random.default_rng(0)
    reference = {"FAD-logmel": rng.standard_normal((40, 6))}
    clips = [rng.standard_normal((8, 6)) + 1.0 for _ in range(3)]
    scores = SegmentScores(embeddings={"FAD-logmel": clips}, beat_f1=[0.5, 1.0], adherence={"full": [2.0, 4.0]})
    out = scores.summary(reference, "COCOLA-local", "madmom")
    assert list(out) == ["FAD-logmel", "KAD-logmel", "BA F1 (madmom)", "COCOLA-local full"]
    assert out["FAD-logmel"] == {"value": fad(reference["FAD-logmel"], np.concatenate(clips)).value,
                                 "n_reference": 40, "n_eval": 24}
    expected = kad(reference["FAD-logmel"], np.concatenate(clips))
    assert out["KAD-logmel"]["value"] == pytest.approx(expected.value) and out["KAD-logmel"]["value"] > 0
    assert out["KAD-logmel"]["bandwidth"] == pytest.approx(expected.bandwidth)


def test_active_percent_counts_frames_above_the_silence_level():
    from liveband.evaluation.scoring import active_percent

    hop = 256
    tone = 0.1 * np.sin(np.arange(4 * hop) * 0.05)[None]            # about -23 dBFS
    rest = np.zeros((1, 4 * hop))
    assert active_percent(np.concatenate([tone, rest], axis=1), hop, -60.0) == 50.0
    assert active_percent(rest, hop, -60.0) == 0.0
    assert active_percent(tone, hop, -60.0) == 100.0
    assert active_percent(tone, hop, -10.0) == 0.0                  # the threshold is read
