"""The machine and code a result was produced on: recorded with every stage's timing and printed
in every table caption, because float kernels (and so trained weights and scores) differ between
CPU types: reruns are bit-identical only on the same machine type."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


CODE_PATHS = ("src", "workflow", "Snakefile", "dvc.yaml", "params.yaml", "profiles")  # results/ changes by design


def git_commit(cwd: str | os.PathLike = ".") -> str:
    """HEAD's commit, with ``+dirty`` when the code or params differ from it; ``unknown`` outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",  # from the top:
                                *(f":/{p}" for p in CODE_PATHS)], cwd=cwd,  # a profile's stage runs in runs/<profile>/
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def environment(profile: str | None = None) -> dict:
    """What a result depends on besides params: CPU, cores, torch and its threads, commit."""
    import torch

    env = {
        "cpu": cpu_model(), "machine": platform.machine(), "cores": os.cpu_count(),
        "python": platform.python_version(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "git_commit": git_commit(),
    }
    return env if profile is None else {"profile": profile, **env}


def describe(env: dict) -> str:
    """One line for a caption."""
    device = f", GPU {env['cuda']}" if env.get("cuda") else ", no GPU"
    return (f"Produced on {env.get('cpu', 'unknown CPU')} ({env.get('cores')} cores{device}), torch "
            f"{env.get('torch')}, {env.get('torch_threads')} torch threads, commit {str(env.get('git_commit'))[:12]}")
