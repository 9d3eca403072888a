"""Every dvc.yaml stage lists, in its deps, every package file its entry point imports.

Otherwise a model change would not rerun the stage (DVC), nor the rule (Snakemake reads the
same list through workflow/rules/common.smk).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def imported_package_files(module: str) -> set[str]:
    code = (f"import sys, json, {module}; print(json.dumps(sorted(m.__file__ for n, m in sys.modules.items() "
            "if n.startswith('liveband') and getattr(m, '__file__', None))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return {str(Path(f).resolve().relative_to(REPO)) for f in json.loads(out.stdout)}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_deps_cover_imports(name):
    spec = STAGES[name].get("do", STAGES[name])
    module = re.search(r"python -m (\S+)", spec["cmd"]).group(1)
    deps = [d for d in spec["deps"] if d.startswith("src/")]
    missing = [f for f in sorted(imported_package_files(module))
               if not f.endswith("__init__.py")
               and not any(f == d or f.startswith(d.rstrip("/") + "/") for d in deps)]
    assert not missing, f"dvc.yaml stage {name} lacks deps: {missing}"
