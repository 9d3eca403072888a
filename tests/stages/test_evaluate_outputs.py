"""What `evaluate` keeps per system reads back unchanged: the per-example frame (both segments,
every metric) and the per-clip embeddings with their offsets."""

import numpy as np
import pandas as pd

from liveband.evaluation.scoring import SegmentScores
from liveband.evaluation.test_set import EvalExample
from liveband.reports.evidence import read_embeddings, read_examples
from liveband.stages.evaluate import per_example_frame, save_embeddings


def test_per_example_scores_and_embeddings_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    examples = [EvalExample(i, f"Track{i:05d}", "/data", "S00", "Bass", 1, ("S01",), "Track00009", "S02", True,
                            (i + 1) % 3) for i in range(3)]
    segments = []
    for _ in range(2):
        seg = SegmentScores(embeddings={"FAD-logmel": [rng.normal(size=(n, 4)) for n in (5, 3, 6)]},
                            beat_f1=list(rng.uniform(size=3)), beat_f1_true=[0.5, np.nan, 1.0],
                            adherence={"full": list(rng.normal(size=3))},
                            adherence_margin={"full": list(rng.normal(size=3))})
        segments.append(seg)
    frame = per_example_frame(examples, segments, "COCOLA-local", "madmom", flagged={1})
    frame.to_csv(tmp_path / "s.examples.csv", index=False)
    back = read_examples(tmp_path / "s.examples.csv")
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert list(back[back.segment == 1]["COCOLA-local full margin"]) == segments[1].adherence_margin["full"]
    assert back["BA F1 true beats (madmom)"].isna().sum() == 2 and back.mix_tracking_failed.sum() == 2

    save_embeddings(tmp_path / "s.npz", segments)
    arrays = read_embeddings(tmp_path / "s.npz")
    for k, seg in enumerate(segments):
        frames, offsets = arrays[f"FAD-logmel/seg{k}"], arrays[f"FAD-logmel/seg{k}/offsets"]
        assert list(offsets) == [0, 5, 8, 14]
        for i, clip in enumerate(seg.embeddings["FAD-logmel"]):
            np.testing.assert_allclose(frames[offsets[i]:offsets[i + 1]], clip, rtol=1e-6)
