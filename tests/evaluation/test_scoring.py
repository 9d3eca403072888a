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
