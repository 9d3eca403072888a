"""AdaGP's tracking number and the per-variant training figure."""

import math

import pandas as pd
import pytest

from liveband.reports.curves import advantage_tracking
from liveband.reports.plots import plot_gan_training


def test_tracking_is_the_second_half_mean_absolute_error_raw_and_smoothed():
    curve = pd.DataFrame({"step": [1, 2, 3, 4], "advantage": [5.0, 0.0, 2.0, 0.0]})
    got = advantage_tracking(curve, target=1.0, smooth=2)
    assert got["advantage_error_second_half"] == pytest.approx((1.0 + 1.0) / 2)
    assert got["advantage_error_second_half_smoothed"] == pytest.approx((0.0 + 0.0) / 2)  # means 1.0, 1.0
    assert math.isnan(advantage_tracking(curve.iloc[:0], 1.0)["advantage_error_second_half"])


def test_training_figure_is_written_and_says_when_there_is_no_curve(tmp_path):
    rows = pd.DataFrame({"step": range(1, 61), "d_loss": 0.6, "g_loss": 0.8,
                         "advantage": [0.5 + 0.01 * i for i in range(60)], "gp_weight": 1.0})
    rows.to_csv(tmp_path / "c.csv", index=False)
    assert plot_gan_training(tmp_path / "c.csv", tmp_path / "f.png", "t", 1.0, advantage_tracking(rows, 1.0))
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    rows.iloc[:0].to_csv(tmp_path / "e.csv", index=False)
    assert not plot_gan_training(tmp_path / "e.csv", tmp_path / "g.png", "t", target=None)
