"""The extended scale: which systems form a training-steps family, and which claims it can decide."""

import pytest

from liveband.config import load_params
from liveband.errors import LiveBandError
from liveband.stages.extended_report import decidable, families


def test_a_family_is_every_checkpoint_of_the_run_and_of_the_run_it_extends():
    params = load_params("params.yaml")
    fams = families(params)
    assert set(fams) == {"gan_tau01_long", "smg_tau0_long"}
    assert set(fams["gan_tau01_long"]) == {"gan_tau01", "gan_abl_sink", "gan_tau01_long"}  # snapshot, final, long
    assert set(fams["smg_tau0_long"]) == {"smg_tau0", "smg_tau0_long"}                     # not the seed replica


def test_only_claims_whose_systems_both_exist_are_decidable():
    present = {"gan_tau01": "gan_tau01_long", "smg_tau0": "smg_tau0_long", "codec": "codec"}
    claims = decidable(present)
    assert claims and all(c.a in present and (c.b is None or c.b in present) for c in claims)
    assert any(c.b is None for c in claims) and any(c.a == "gan_tau01" and c.b == "smg_tau0" for c in claims)
    assert not decidable({"ground_truth": "ground_truth"}) or all(
        c.a == "ground_truth" and c.b in (None, "ground_truth") for c in decidable({"ground_truth": "ground_truth"}))


def test_an_extended_system_must_extend_a_default_system_of_its_kind(tmp_path):
    text = open("params.yaml").read().replace("extends: smg_tau0}", "extends: gan_tau01}")
    (tmp_path / "params.yaml").write_text(text)
    with pytest.raises(LiveBandError, match=r"evaluation\.systems\.smg_tau0_long\.extends"):
        load_params(tmp_path / "params.yaml")
