from liveband.stages.runner import run_stage, training_args


def test_variant_that_is_not_a_name_touches_no_path(tmp_path, capsys):
    called = []
    code = run_stage("train_gan", lambda params, args: called.append(args), training_args("gan.variants"),
                     ["--variant", "../../escaped", "--results", str(tmp_path / "results")])
    assert code == 2 and not called
    assert capsys.readouterr().err.startswith("error: --variant: '../../escaped' is not a valid name")
    assert not any(tmp_path.rglob("*.log"))
