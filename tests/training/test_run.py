import pytest
import torch

from liveband.errors import LiveBandError
from liveband.training.run import GeneratorState, TrainingRun, warmup_lr


def train(tmp_path, total, stop_after=None, poison_at=None, main=True):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(1)
    run = TrainingRun("toy", {"lr": 1e-2}, tmp_path / "ckpt.pt", tmp_path / "curve.csv",
                      total_steps=total, checkpoint_every=3, stop_after=stop_after, main=main)
    run.attach(model=model, opt=opt, data=GeneratorState(gen))
    run.resume()
    for step in run.steps():
        x = torch.randn(8, 4, generator=gen)
        noise = torch.randn(8, 1)  # global RNG: must be restored on resume too
        loss = ((model(x) - x.sum(1, keepdim=True) - 0.01 * noise) ** 2).mean()
        if poison_at is not None and step == poison_at:
            loss = loss * float("nan")
        opt.zero_grad()
        loss.backward()
        opt.step()
        run.record(step, {"loss": loss.item()})
    return model, run


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path):
    straight, _ = train(tmp_path / "a", 10)
    train(tmp_path / "b", 10, stop_after=6)   # "killed" after a checkpoint at step 6
    resumed, run = train(tmp_path / "b", 10)
    assert run.resumed_from == 6
    for p, q in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(p, q)
    lines = (tmp_path / "b" / "curve.csv").read_text().splitlines()
    assert len(lines) == 11  # header + 10 steps, no duplicates after resume


def test_curve_is_rebuilt_when_the_csv_was_deleted(tmp_path):
    train(tmp_path, 6)
    (tmp_path / "curve.csv").unlink()       # as Snakemake does to a rerun job's outputs
    _, run = train(tmp_path, 6)             # nothing left to train
    assert run.resumed_from == 6
    assert len((tmp_path / "curve.csv").read_text().splitlines()) == 7


def test_interruption_between_checkpoints_replays_from_the_last_one(tmp_path):
    straight, _ = train(tmp_path / "a", 10)
    train(tmp_path / "b", 10, stop_after=7)   # last checkpoint at 6; step 7 is lost
    resumed, run = train(tmp_path / "b", 10)
    assert run.resumed_from == 6
    assert all(torch.equal(p, q) for p, q in zip(straight.parameters(), resumed.parameters()))


def test_nan_stops_with_one_line_and_keeps_last_good_checkpoint(tmp_path):
    with pytest.raises(LiveBandError, match=r"training diverged at step 4: loss is nan"):
        train(tmp_path, 10, poison_at=4)
    payload = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert payload["step"] == 3


def test_changed_params_start_over(tmp_path):
    train(tmp_path, 3)
    run = TrainingRun("toy", {"lr": 5.0}, tmp_path / "ckpt.pt", tmp_path / "curve.csv", 3, 3)
    assert run.resume() == 0 and run.resumed_from is None


def test_warmup():
    assert warmup_lr(0, 1.0, 10) == pytest.approx(0.1)
    assert warmup_lr(9, 1.0, 10) == 1.0 and warmup_lr(500, 1.0, 10) == 1.0


def test_interrupted_run_leaves_no_declared_curve(tmp_path):
    _, run = train(tmp_path, 10, stop_after=7)       # checkpoint at 6, then "Ctrl-C"
    assert not run.finished and (tmp_path / "ckpt.pt").exists()
    assert not (tmp_path / "curve.csv").exists()
    with pytest.raises(LiveBandError):
        train(tmp_path / "b", 10, poison_at=4)      # a raised exception mid-run
    assert not (tmp_path / "b" / "curve.csv").exists()
    train(tmp_path, 10)                              # the completed rerun writes it, whole
    assert len((tmp_path / "curve.csv").read_text().splitlines()) == 11


def test_orphan_temp_of_a_killed_save_is_removed_on_resume(tmp_path):
    train(tmp_path, 10, stop_after=3)
    orphan = tmp_path / ".ckpt.pt.k3jx9_2a.tmp"      # what kill -9 during torch.save leaves
    orphan.write_bytes(b"half a checkpoint")
    other = tmp_path / ".curve.csv.a1b2c3.tmp"       # another target's temporary is not ours
    other.write_text("x")
    _, run = train(tmp_path, 10)
    assert run.resumed_from == 3
    assert not orphan.exists() and other.exists()


def test_divergence_before_any_checkpoint_says_nothing_is_kept(tmp_path):
    with pytest.raises(LiveBandError) as err:
        train(tmp_path, 10, poison_at=1)             # checkpoint_every=3: none written yet
    assert str(err.value) == ("training diverged at step 1: loss is nan; "
                              "no checkpoint of this run was written yet, so nothing is kept")
    assert not (tmp_path / "ckpt.pt").exists()
    with pytest.raises(LiveBandError, match=f"the checkpoint of step 3 is kept at {tmp_path / 'ckpt.pt'}$"):
        train(tmp_path, 10, poison_at=4)


def _slow_run(tmp_path, stop_after=None):
    import time

    model = torch.nn.Linear(2, 1)
    run = TrainingRun("toy", {"lr": 1.0}, tmp_path / "ckpt.pt", tmp_path / "curve.csv",
                      total_steps=6, checkpoint_every=2, stop_after=stop_after)
    run.attach(model=model)
    run.resume()
    for step in run.steps():
        time.sleep(0.05)
        run.record(step, {"loss": 1.0})
    return run


def test_rerun_of_a_finished_run_keeps_its_training_time(tmp_path):
    trained = _slow_run(tmp_path).train_seconds
    assert trained >= 0.3
    rerun = _slow_run(tmp_path)  # nothing left to do: the resume must not overwrite the time
    assert rerun.finished and rerun.resumed_from == 6
    assert rerun.train_seconds == trained


def test_training_time_adds_up_over_an_interruption(tmp_path):
    first = _slow_run(tmp_path, stop_after=4).train_seconds
    total = _slow_run(tmp_path).train_seconds
    assert first >= 0.2 and total > first + 0.05  # the resumed process adds its 2 steps


def test_a_rank_other_than_the_main_one_writes_nothing_but_keeps_the_same_run(tmp_path):
    (tmp_path / ".ckpt.pt.inflight.tmp").write_bytes(b"")      # the main rank's save in flight
    model, run = train(tmp_path, total=6, main=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ckpt.pt.inflight.tmp"]
    assert run.saved_step == 6 and run.finished and len(run.rows) == 6
    main_model, main_run = train(tmp_path / "main", total=6)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), main_model.state_dict().values()))
    assert (tmp_path / "main" / "ckpt.pt").is_file() and (tmp_path / "main" / "curve.csv").is_file()
