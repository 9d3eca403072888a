"""The package's import graph: no cycles, and no stage module importing another stage module.

A static scan (AST) of every ``import liveband...`` / ``from liveband... import ...`` in
src/liveband, including imports inside functions (a lazy import still ties the two modules).
Importing ``liveband.a.b`` is an edge to module ``liveband.a.b`` only: package ``__init__``
files are entered only when a name is imported from the package itself.
"""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
STAGE_RUNNER = "liveband.stages.runner"  # the shared stage runner, imported by every stage


def module_files() -> dict[str, Path]:
    files = {}
    for path in sorted((SRC / "liveband").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    return files


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The liveband modules that ``path`` imports (anywhere in the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("liveband")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("liveband"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return found & modules


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imported_modules(path, set(files)) - {name} for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_detects_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycles_in_the_package():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_stage_imports_another_stage():
    bad = sorted(
        f"{name} imports {target}"
        for name, targets in import_graph().items() if name.startswith("liveband.stages.")
        for target in targets
        if target.startswith("liveband.stages.") and target != STAGE_RUNNER
    )
    assert not bad, "; ".join(bad)


# Layers that must not reach up: (importing modules' prefix, forbidden prefix).
FORBIDDEN = (
    ("liveband.models.", "liveband.data."),  # models take plain arguments (e.g. the class count)
    ("liveband.modules.", "liveband.data."),
    ("liveband.models.", "liveband.training."),
    ("liveband.modules.", "liveband.training."),
    ("liveband.metrics.", "liveband.training."),  # scoring never depends on the training package
    ("liveband.reports.", "liveband.training."),
    ("liveband.builders", "liveband.training."),
)


def test_lower_layers_do_not_import_upper_ones():
    bad = sorted(
        f"{name} imports {target}"
        for name, targets in import_graph().items() for target in targets
        for importer, forbidden in FORBIDDEN
        if name.startswith(importer) and target.startswith(forbidden)
    )
    assert not bad, "; ".join(bad)
