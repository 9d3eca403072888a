"""Snakemake and DVC keep one state: after a Snakemake run DVC has nothing to rerun; a change to
one variant's params makes both want exactly the same stages; after `dvc repro` Snakemake has
nothing to do. The `ci` sizes, as the default profile (the one dvc.yaml describes), in a
scratch DVC repository."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from liveband.config import merged_params
from snakemake_dry_run import TARGETS, job_blocks

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(work, *cmd, env):
    done = subprocess.run([str(BIN / cmd[0]), *cmd[1:]], cwd=work, env=env, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, f"{' '.join(cmd)}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def snakemake_would_run(work, env) -> dict[str, str]:
    """Job (DVC stage name) -> Snakemake's reason, for every job a dry run would run."""
    out = _run(work, "snakemake", *TARGETS, "-n", "--cores", "1", env=env)
    return {name: re.search(r"^\s+reason: (.*)$", block, re.M).group(1) for name, block in job_blocks(out)}


def dvc_would_run(work, env) -> set[str]:
    """DVC stages whose deps, params or outputs changed (dvc status)."""
    return set(json.loads(_run(work, "dvc", "status", "--json", env=env) or "{}"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("agreement")
    for name in ("Snakefile", "dvc.yaml", ".dvcignore"):
        shutil.copy(REPO / name, work / name)
    for name in ("workflow", "profiles", "src"):
        shutil.copytree(REPO / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    params = merged_params(REPO / "params.yaml", "ci") | {"profile": "default"}  # ci sizes, default paths
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", XDG_CACHE_HOME=str(work / ".cache"),
               OMP_NUM_THREADS="1", PYTHONPATH=str(REPO / "src"), DVC_NO_ANALYTICS="1")
    _run(work, "dvc", "init", "--no-scm", "-q", env=env)
    _run(work, "snakemake", *TARGETS, "--cores", "2", env=env)  # all of dvc.yaml; records dvc.lock
    return work, env


@pytest.mark.slow
def test_one_state_for_both_tools(built):
    work, env = built
    assert (work / "dvc.lock").is_file()
    assert dvc_would_run(work, env) == set(), "DVC would rerun what Snakemake built"
    assert snakemake_would_run(work, env) == {}

    # One variant's params: both tools invalidate exactly its training stage.
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["gan"]["variants"]["tau1"]["seed"] = 7
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    snake = snakemake_would_run(work, env)
    direct = {job for job, reason in snake.items() if not reason.startswith("Input files updated by another job")}
    assert direct == dvc_would_run(work, env) == {"train_gan@tau1"}
    assert set(snake) == {"train_gan@tau1", "evaluate@gan_tau1", "tables",  # and what reads its outputs
                          "companion", "extended_report"}

    # DVC reruns it; Snakemake then has nothing left to do, and DVC agrees.
    _run(work, "dvc", "repro", env=env)
    assert snakemake_would_run(work, env) == {}
    assert dvc_would_run(work, env) == set()
