"""Snakemake and DVC must describe the same stages: names, commands and outputs.

Both tools' own parsers are asked: Snakemake through a forced dry run (every job with its
shell command and outputs), DVC through its stage index (foreach/matrix expanded).
A Snakemake job with wildcards ``rule`` + ``variant=x`` corresponds to DVC stage ``rule@x``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from snakemake_dry_run import TARGETS, job_blocks

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SETTINGS = ".snakemake/liveband/settings/"  # Snakemake's form of DVC's params (liveband.pipeline)


def snakemake_jobs(profile: str) -> dict[str, tuple[str, frozenset]]:
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", XDG_CACHE_HOME=str(REPO / ".snakemake" / "cache"))
    out = subprocess.run(
        [str(BIN / "snakemake"), *TARGETS, "-n", "-p", "--forceall", "--nolock", "--rerun-incomplete",
         "--cores", "1", "--config", f"profile={profile}"],
        cwd=REPO, capture_output=True, text=True, env=env, check=True,
    ).stdout
    jobs = {}
    for name, block in job_blocks(out):
        outputs = re.search(r"^\s+output: (.*)$", block, re.M)
        inputs = re.search(r"^\s+input: (.*)$", block, re.M)
        cmd = re.search(r"^Shell command: (.*)$", block, re.M)
        jobs[name] = (" ".join(cmd.group(1).split()), frozenset(outputs.group(1).split(", ")),
                      frozenset(i for i in inputs.group(1).split(", ") if not i.startswith(SETTINGS))
                      if inputs else frozenset())
    return jobs


def dvc_stages() -> dict[str, tuple[str, frozenset]]:
    from dvc.repo import Repo

    with Repo(str(REPO)) as repo:
        return {s.addressing: (" ".join(s.cmd.split()), frozenset(o.def_path for o in s.outs),
                               frozenset(_expand(d.def_path) for d in s.deps) - {"", "params.yaml"})
                for s in repo.index.stages}


def _expand(dep: str) -> str:
    """A folder dep as the files Snakemake sees (workflow/rules/common.smk expands them too)."""
    path = REPO / dep
    if path.is_dir():
        files = sorted(str(p.relative_to(REPO)) for p in path.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts)
        return ", ".join(files)
    return dep


@pytest.fixture(scope="module")
def graphs():
    return snakemake_jobs("default"), dvc_stages()


def test_same_stage_names(graphs):
    snake, dvc = graphs
    assert sorted(snake) == sorted(dvc)


def test_same_commands_and_outputs(graphs):
    snake, dvc = graphs
    for name in snake:
        assert snake[name][0] == dvc[name][0], f"{name}: commands differ"
        assert snake[name][1] == dvc[name][1], f"{name}: outputs differ"


def test_same_inputs(graphs):
    snake, dvc = graphs
    for name in snake:
        dvc_inputs = frozenset(", ".join(dvc[name][2]).split(", "))
        assert snake[name][2] == dvc_inputs, f"{name}: inputs differ: {snake[name][2] ^ dvc_inputs}"


def test_commands_are_stage_entry_points(graphs):
    for cmd, *_ in graphs[0].values():
        assert re.fullmatch(r"python -m liveband\.stages\.\w+ --profile 'default'( --variant '[\w.-]+')?", cmd), cmd
