"""liveband.pipeline: profile paths, per-job settings (Snakemake's form of DVC's params) and
their files' time stamps."""

import copy
import dataclasses
import os

import pytest
import yaml

from liveband import builders
from liveband.config import Params, from_dict, merged_params
from liveband.errors import LiveBandError
from liveband.pipeline import job_settings, run_root, write_settings
from liveband.stages.train_gan import setup_for, train_params


@pytest.fixture(scope="module")
def merged():
    return merged_params("params.yaml", "default")


def test_default_paths_stay_put_and_other_profiles_get_their_own():
    assert run_root("default") == ""
    assert run_root("ci") == "runs/ci/"
    with pytest.raises(LiveBandError, match="profile"):
        run_root("../x")


def _edit(merged, path, value):
    edited = copy.deepcopy(merged)
    node = edited
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return edited


def _training(merged, variant):
    """What a variant's training uses: its setup, and gan.train with the setup's steps and GP."""
    params = from_dict(Params, merged)
    setup, train = setup_for(params, variant), train_params(params, variant)
    gp = dataclasses.replace(train.gradient_penalty, mode=setup.gp_mode, weight=setup.gp_weight)
    return setup, dataclasses.replace(train, steps=setup.steps, gradient_penalty=gp)


@pytest.mark.parametrize("path, value, changed", [
    (("gan", "variants", "tau1", "tau_seconds"), 0.5, {"tau1"}),                  # one variant: only it
    (("gan", "train", "steps"), 123, {"tau0", "tau01", "tau01_seed1", "tau1", "bidirectional"}),  # not the
    (("gan", "train", "seed"), 5, {"tau0", "tau01", "tau1", "bidirectional", "abl_nosink",     # ablations
                                   "abl_gp_small", "abl_gp_tuned", "tau01_long"}),  # (own steps), not tau01_seed1
    (("gan", "train", "gradient_penalty", "weight"), 0.3, {"tau0", "tau01", "tau01_seed1", "tau1",
                                                           "bidirectional", "abl_nosink", "tau01_long"}),
])
def test_a_gan_edit_changes_the_settings_of_exactly_the_variants_that_read_it(merged, path, value, changed):
    edited = _edit(merged, path, value)
    found = {v for v in merged["gan"]["variants"]
             if job_settings(merged, ("gan", "audio"), v) != job_settings(edited, ("gan", "audio"), v)}
    assert found == changed
    for v in merged["gan"]["variants"]:  # the settings tell the truth: unchanged settings, unchanged training
        if v not in changed:
            assert _training(merged, v) == _training(edited, v)


def test_an_smg_variant_edit_touches_only_that_variant(merged):
    edited = _edit(merged, ("smg", "variants", "tau1", "tau_seconds"), 2.0)
    found = {v for v in merged["smg"]["variants"]
             if job_settings(merged, ("smg", "audio"), v) != job_settings(edited, ("smg", "audio"), v)}
    assert found == {"tau1"}
    assert builders.smg_config(from_dict(Params, edited), "tau0") == builders.smg_config(from_dict(Params, merged), "tau0")


def test_settings_files_change_only_with_their_values_and_carry_the_edit_time(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"a": 1}))
    os.utime(params, (1000, 1000))
    path = write_settings(tmp_path / "s" / "job.json", {"a": 1}, [params])
    assert path.stat().st_mtime == 1000  # stamped with the edit, not now
    os.utime(path, (2000, 2000))
    write_settings(path, {"a": 1}, [params])  # same values: untouched
    assert path.stat().st_mtime == 2000
    os.utime(params, (3000, 3000))
    write_settings(path, {"a": 2}, [params])
    assert path.stat().st_mtime == 3000 and '"a": 2' in path.read_text()


def test_a_sub_section_is_read_by_its_dotted_name(merged):
    edited = _edit(merged, ("data", "sampler", "silence_db"), -50.0)
    sections = ("gan", "audio", "data.sampler")
    assert job_settings(merged, sections, "tau1") != job_settings(edited, sections, "tau1")
    edited = _edit(merged, ("data", "synthetic", "seed"), 7)  # the data stage's; not read by training
    assert job_settings(merged, sections, "tau1") == job_settings(edited, sections, "tau1")
