import json
import math

import pandas as pd

from liveband.reports.headline import headline_metrics, metric_key


def test_flat_short_keys_with_first_value_and_drift():
    summary = pd.DataFrame({"column": ["FAD-logmel", "COCOLA-local full", "BA F1 (madmom)"],
                            "value": [96.1864, 7.07512, math.nan], "drift": [-2.4691, math.nan, 0.01]})
    flat = headline_metrics(summary)
    assert flat == {"first": {"fad_logmel": 96.1864, "cocola_local_full": 7.0751, "ba_f1_madmom": None},
                    "drift": {"fad_logmel": -2.4691, "cocola_local_full": None, "ba_f1_madmom": 0.01}}
    json.dumps(flat, allow_nan=False)  # valid JSON for DVC: no NaN
    assert metric_key("KAD-logmel (x1000)") == "kad_logmel_x1000"
