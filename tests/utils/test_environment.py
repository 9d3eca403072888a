"""The environment record names the CPU, torch and the commit, and flags edited code."""

import subprocess

from liveband.utils.environment import describe, environment, git_commit


def test_environment_names_what_results_depend_on():
    env = environment("ci")
    assert env["profile"] == "ci" and env["torch"] and env["cpu"] and env["cores"] >= 1
    line = describe(env)
    assert env["cpu"] in line and env["torch"] in line and "\n" not in line


def test_commit_is_marked_dirty_only_for_code_changes(tmp_path):
    run = lambda *a: subprocess.run(a, cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("git", "init", "-q")
    (tmp_path / "src").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    (tmp_path / "results" / "t.md").write_text("old\n")
    run("git", "add", ".")
    run("git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    clean = git_commit(tmp_path)
    assert len(clean) == 40
    (tmp_path / "results" / "t.md").write_text("new\n")       # a pipeline run rewrites results/
    assert git_commit(tmp_path) == clean
    (tmp_path / "src" / "a.py").write_text("x = 2\n")
    assert git_commit(tmp_path) == clean + "+dirty"
    assert git_commit(tmp_path.parent / "nowhere") == "unknown"
