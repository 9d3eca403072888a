from pathlib import Path

import pytest
import yaml

from liveband.config import LATENT_FRAME_RATE, load_params, merged_params
from liveband.errors import LiveBandError

REPO = Path(__file__).resolve().parents[1]


def copy_params(tmp_path: Path, edit=None, overlay=None) -> Path:
    data = yaml.safe_load((REPO / "params.yaml").read_text())
    if edit:
        edit(data)
    (tmp_path / "profiles").mkdir(parents=True)
    for f in (REPO / "profiles").glob("*.yaml"):
        (tmp_path / "profiles" / f.name).write_text(f.read_text())
    if overlay is not None:
        (tmp_path / "profiles" / "ci.yaml").write_text(yaml.safe_dump(overlay))
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path  # noqa: RET504


@pytest.mark.parametrize("profile", ["default", "ci", "paper"])
def test_every_profile_loads_and_keeps_the_latent_frame_rate(profile):
    params = load_params(REPO / "params.yaml", profile)
    assert params.profile == profile
    assert params.audio.frame_rate == pytest.approx(LATENT_FRAME_RATE, abs=0.05)


def test_paper_profile_has_the_paper_audio_format():
    audio = load_params(REPO / "params.yaml", "paper").audio
    assert (audio.sample_rate, audio.channels, audio.hop) == (44100, 2, 4096)


@pytest.mark.parametrize("edit, key", [
    (lambda d: d["data"].update(bogus=1), "data.bogus: unknown key"),
    (lambda d: d["data"]["synthetic"].update(n_train="many"), "data.synthetic.n_train: expected an integer"),
    (lambda d: d["data"]["synthetic"].update(n_train=0), "data.synthetic.n_train: must be > 0"),
    (lambda d: d["data"]["sampler"].update(min_active_fraction=1.5), "data.sampler.min_active_fraction"),
    (lambda d: d["audio"].update(hop=1000), "audio.hop"),
    (lambda d: d["audio"].pop("channels"), "audio.channels: missing key"),
    (lambda d: d["data"]["synthetic"].update(tempo_bpm=[180, 70]), "data.synthetic.tempo_bpm"),
    (lambda d: d["data"]["synthetic"]["timbre"].update(reverb_wet=[0.1, 1.5]),
     "data.synthetic.timbre.reverb_wet: must be in [0.0, 1.0]"),
    (lambda d: d["data"]["synthetic"]["timbre"].update(reverb_decay_s=[2.0, 0.5]),
     "data.synthetic.timbre.reverb_decay_s: must be [low, high]"),
    (lambda d: d["data"]["synthetic"]["timbre"].update(detune_cents=300), "data.synthetic.timbre.detune_cents"),
    (lambda d: d["data"]["synthetic"]["timbre"].update(eq_db="loud"), "data.synthetic.timbre.eq_db: expected a number"),
    (lambda d: d["data"]["synthetic"]["timbre"].pop("gain_db"), "data.synthetic.timbre.gain_db: missing key"),
    (lambda d: d["data"]["synthetic"]["timbre"].update(wet=0.2), "data.synthetic.timbre.wet: unknown key"),
    (lambda d: d.update(profile="huge"), "profile"),
    (lambda d: d["metric_validation"].update(shifts_seconds=[0.05, -1.0]), "metric_validation.shifts_seconds"),
    (lambda d: d["metric_validation"].update(snrs_db=[]), "metric_validation.snrs_db"),
    (lambda d: d["metric_validation"].update(alpha=2.0), "metric_validation.alpha"),
    (lambda d: d["resources"]["rules"].update(evaluate={"gpus": 2}),
     "resources.rules.evaluate.gpus: only autoencoder, train_gan, train_smg train on several GPUs"),
    (lambda d: d["resources"]["default"].update(gpus=2), "resources.default.gpus: only"),
    (lambda d: d["resources"]["default"].update(mem_mb=None), "resources.default.mem_mb: the default must set"),
    (lambda d: d["resources"]["rules"].update(train_gan={"runtime": 0}), "resources.rules.train_gan.runtime"),
])
def test_bad_params_name_the_key(tmp_path, edit, key):
    path = copy_params(tmp_path, edit)
    with pytest.raises(LiveBandError) as err:
        load_params(path)
    assert key in str(err.value)
    assert "\n" not in str(err.value)


def test_overlay_cannot_invent_keys(tmp_path):
    path = copy_params(tmp_path, overlay={"data": {"synthetic": {"n_trian": 3}}})
    with pytest.raises(LiveBandError, match=r"^data.synthetic.n_trian: unknown key"):
        load_params(path, "ci")
    path = copy_params(tmp_path / "b", overlay={"dataa": {}})
    with pytest.raises(LiveBandError, match=r"ci.yaml: dataa: unknown section"):
        load_params(path, "ci")


def test_overlay_may_set_optional_fields(tmp_path):
    path = copy_params(tmp_path, overlay={"gan": {"variants": {"abl_nosink": {"discriminator_width": 64}}}})
    assert load_params(path, "ci").gan.variants["abl_nosink"].discriminator_width == 64


def test_overlay_overrides_only_what_it_names(tmp_path):
    path = copy_params(tmp_path, overlay={"data": {"synthetic": {"n_train": 3}}})
    base, ci = merged_params(path), merged_params(path, "ci")
    assert ci["data"]["synthetic"]["n_train"] == 3
    assert ci["data"]["synthetic"]["n_test"] == base["data"]["synthetic"]["n_test"]


def test_malformed_yaml_is_one_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("audio: [unclosed\n")
    with pytest.raises(LiveBandError, match="params.yaml: malformed YAML"):
        load_params(path)


@pytest.mark.parametrize("section", [("smg", "variants"), ("evaluation", "systems"), ("gan", "variants")])
def test_names_that_reach_commands_are_identifiers(tmp_path, section):
    sentinel = tmp_path / "SENTINEL"
    bad = f"x`touch {sentinel}`$(touch {sentinel})"

    base = yaml.safe_load((REPO / "params.yaml").read_text())[section[0]][section[1]]
    path = copy_params(tmp_path, overlay={section[0]: {section[1]: {bad: next(iter(base.values()))}}})
    with pytest.raises(LiveBandError) as err:
        load_params(path, "ci")
    message = str(err.value)
    assert message.startswith(f"{section[0]}.{section[1]}.{bad!r}: ") and "\n" not in message
    assert not sentinel.exists()


@pytest.mark.parametrize("name", ["../ci", "ci; touch x", "-ci", ".hidden", "a'b"])
def test_profile_name_is_an_identifier(tmp_path, name):
    path = copy_params(tmp_path)
    with pytest.raises(LiveBandError, match=r"^profile: .* is not a valid name"):
        merged_params(path, name)


def test_names_may_hold_dots_and_dashes(tmp_path):
    path = copy_params(tmp_path, lambda d: d["smg"]["variants"].update({"tau-1.0": {"tau_seconds": 1.0}}))
    assert "tau-1.0" in load_params(path).smg.variants


def test_timbre_may_be_switched_off(tmp_path):
    path = copy_params(tmp_path / "off", lambda d: d["data"]["synthetic"].update(timbre=None))
    assert load_params(path).data.synthetic.timbre is None
    assert load_params(copy_params(tmp_path / "on")).data.synthetic.timbre.detune_cents == 20.0


def test_resources_of_a_rule_are_its_own_fields_over_the_default():
    resources = load_params(REPO / "params.yaml", "paper").resources
    assert resources.of("train_gan") == {"threads": 8, "mem_mb": 32000, "runtime": 2880, "gpus": 1}
    assert resources.of("data") == {"threads": 2, "mem_mb": 4000, "runtime": 60, "gpus": 0}
    assert load_params(REPO / "params.yaml", "default").resources.of("train_gan")["gpus"] == 0
