"""The pre-commit hooks `mlgit init` writes, run by the real pre-commit."""

from __future__ import annotations

from tests.conftest import Project


def test_check_config_hook_blocks_a_broken_config(project: Project) -> None:
    project.write("mlgit.yaml", "version: 1\ndatasetz: {}\n")
    project.sh("git", "add", "mlgit.yaml")
    run = project.sh("pre-commit", "run", "mlgit-check-config", check=False)
    assert run.returncode != 0
    assert "datasetz: unknown key; did you mean 'datasets'?" in run.stdout + run.stderr

    project.write("mlgit.yaml", "version: 1\ndatasets: {}\n")
    project.sh("git", "add", "mlgit.yaml")
    run = project.sh("pre-commit", "run", "mlgit-check-config", check=False)
    assert run.returncode == 0, run.stdout + run.stderr
