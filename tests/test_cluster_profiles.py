"""The cluster executor profiles (workflow/profiles/slurm, workflow/profiles/kubernetes) dry-run
with their executor plugins (no cluster needed): every job carries params `resources`, the paper
profile's training rules ask for a GPU and nothing else does, and a training rule given several
GPUs runs under torchrun with one rank per GPU. The default profile asks for no GPU at all."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from snakemake_dry_run import TARGETS, job_blocks

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TRAINING = {"autoencoder", "train_gan", "train_smg"}


def dry_run(root: Path, *args: str) -> dict[str, tuple[dict[str, str], str]]:
    """job name -> (its resources, its shell command), from `snakemake -n` in ``root``."""
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", XDG_CACHE_HOME=str(root / ".snakemake" / "cache"),
               PYTHONPATH=os.pathsep.join([str(root / "src"), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([str(BIN / "snakemake"), *TARGETS, "-n", "-p", "--forceall", "--nolock", *args],
                         cwd=root, capture_output=True, text=True, env=env, check=True).stdout
    jobs = {}
    for name, block in job_blocks(out):
        res = re.search(r"^\s+resources: (.*)$", block, re.M).group(1)
        cmd = re.search(r"^Shell command: (.*)$", block, re.M).group(1)
        jobs[name] = (dict(kv.split("=", 1) for kv in res.split(", ")), cmd)
    return jobs


def gpu_jobs(jobs) -> dict[str, str]:
    return {name: res["gpu"] for name, (res, _) in jobs.items() if "gpu" in res}


@pytest.mark.parametrize("executor, extra", [("slurm", ()), ("kubernetes", ("--default-storage-prefix", str(REPO)))])
def test_executor_profile_dry_runs_with_gpu_requests_on_the_training_rules(executor, extra):
    jobs = dry_run(REPO, "--executor", executor, "--profile", f"workflow/profiles/{executor}", *extra,
                   "--cores", "16", "--config", "profile=paper")
    gpus = gpu_jobs(jobs)
    assert {name.split("@")[0] for name in gpus} == TRAINING and set(gpus.values()) == {"1"}
    assert all(name in gpus for name in jobs if name.split("@")[0] in TRAINING)
    res, cmd = jobs["train_gan@tau01"]
    assert res["mem_mb"] == "32000" and res["runtime"] == "2880"
    assert "python -m liveband.stages.train_gan" in cmd and "torchrun" not in cmd
    assert jobs["data"][0]["runtime"] == "60"
    if executor == "kubernetes":
        assert res["gpu_manufacturer"] == "nvidia"


def test_default_profile_asks_for_no_gpu_and_runs_no_launcher():
    jobs = dry_run(REPO, "--cores", "2")
    assert not gpu_jobs(jobs) and not any("torchrun" in cmd for _, cmd in jobs.values())


def test_a_training_rule_on_four_gpus_runs_under_torchrun(tmp_path):
    for name in ("src", "workflow", "profiles"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Snakefile", "params.yaml", "dvc.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    overlay = tmp_path / "profiles" / "paper.yaml"
    paper = yaml.safe_load(overlay.read_text())
    paper["resources"]["rules"]["train_gan"]["gpus"] = 4
    overlay.write_text(yaml.safe_dump(paper))
    jobs = dry_run(tmp_path, "--executor", "slurm", "--profile", "workflow/profiles/slurm", "--cores", "16",
                   "--config", "profile=paper")
    res, cmd = jobs["train_gan@tau01"]
    assert res["gpu"] == "4"
    assert "torchrun --standalone --nproc-per-node 4 -m liveband.stages.train_gan --profile 'paper'" in cmd
    assert "torchrun" not in jobs["train_smg@tau0"][1]
