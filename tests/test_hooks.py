"""The pre-commit hooks `mlgit init` writes, run by the real pre-commit."""

from __future__ import annotations

from tests.support import Project


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


def test_validate_hook_blocks_a_commit_of_bad_data(project: Project) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = project.root / "data" / "scores.parquet"
    data.parent.mkdir()
    pq.write_table(pa.table({"id": [1, 2, 3], "score": [0.1, 0.5, 0.9]}), data)
    assert project.mlgit("track", "data/scores.parquet", "--name", "scores").exit_code == 0
    project.commit("track scores")

    # nothing changed since HEAD: the hook has nothing to read
    run = project.sh("pre-commit", "run", "mlgit-validate", "--all-files", check=False)
    assert run.returncode == 0, run.stdout + run.stderr

    pq.write_table(pa.table({"id": [1, 2, 2], "score": [0.1, 0.5, 7.0]}), data)
    project.sh("dvc", "add", "data/scores.parquet")
    project.sh("git", "add", "data/scores.parquet.dvc")
    run = project.sh("pre-commit", "run", "mlgit-validate", check=False)
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "maximum" in output and "unique" in output
