"""mlgit's pre-commit hooks, run by the real `pre-commit` (`try-repo`) on a staged commit.

`try-repo` reads the hooks from `.pre-commit-hooks.yaml` of a local repository. With
`language: python` pre-commit would build a fresh virtual environment and install mlgit with
all its dependencies into it for every test; a copy of the file with `language: system` runs
the same ids, entries, file filters and stages with the mlgit under test instead.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlgit.cli import cli
from mlgit.commands.no_large_data import data_extension, parse_size
from tests.support import Project, sh

# the unified diff `--check` prints for the workflows and .gitlab-ci.yml
PYTHON_DIFF_LINES = (
    '+          python-version: "3.12"',
    '+  image: "python:3.12"',
)
HOOKS_FILE = Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml"


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding mlgit's hook definitions, run with the mlgit on PATH."""
    repo = tmp_path_factory.mktemp("hook-repo")
    text = HOOKS_FILE.read_text(encoding="utf-8")
    (repo / ".pre-commit-hooks.yaml").write_text(
        re.sub(r"(?m)^(\s*)language: python$", r"\1language: system", text), encoding="utf-8"
    )
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "hooks")):
        sh_env(repo, env, "git", *args)
    return repo


def sh_env(cwd: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)


def try_hook(cwd: Path, hook_repo: Path, hook: str, *files: str) -> tuple[int, str]:
    """`pre-commit try-repo` of one hook on the given files; (exit code, all output)."""
    args = ["pre-commit", "try-repo", str(hook_repo), hook, "--verbose"]
    if files:
        args += ["--files", *files]
    else:
        args.append("--all-files")
    proc = sh(cwd, *args, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def stage(project: Project, rel: str, content: bytes) -> None:
    path = project.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    project.sh("git", "add", rel)


# ---------------------------------------------------------------- mlgit-no-large-data
def test_a_file_above_the_limit_is_refused(project: Project, hook_repo: Path) -> None:
    stage(project, "blobs/big.bin", b"\0" * (6 * 1024 * 1024))
    code, output = try_hook(project.root, hook_repo, "mlgit-no-large-data", "blobs/big.bin")
    assert code == 1, output
    assert "blobs/big.bin: 6.0 MB, above the 5.0 MB limit" in output
    assert "mlgit track blobs/big.bin" in output


def test_a_parquet_file_is_refused_with_the_track_command(
    project: Project, hook_repo: Path
) -> None:
    stage(project, "data/new rows.parquet", b"PAR1 small")
    code, output = try_hook(project.root, hook_repo, "mlgit-no-large-data", "data/new rows.parquet")
    assert code == 1, output
    assert "a .parquet file is data or a model" in output
    quoted = "'data/new rows.parquet'"
    assert f"git rm --cached -q -- {quoted} && mlgit track {quoted}" in output


def test_small_code_and_dvc_files_pass(project: Project, hook_repo: Path) -> None:
    stage(project, "train.py", b"print('train')\n")
    stage(project, "data/train.parquet.dvc", b"outs:\n- md5: 0\n  path: train.parquet\n")
    code, output = try_hook(
        project.root, hook_repo, "mlgit-no-large-data", "train.py", "data/train.parquet.dvc"
    )
    assert code == 0, output
    assert "Passed" in output


def test_the_hook_sees_every_file_of_the_commit(project: Project, hook_repo: Path) -> None:
    """Without --files pre-commit passes every tracked file: the init commit's files pass,
    a model pickle among them does not."""
    stage(project, "models/churn.pkl", b"\x80\x04K\x01.")
    code, output = try_hook(project.root, hook_repo, "mlgit-no-large-data")
    assert code == 1, output
    assert "models/churn.pkl: a .pkl file is data or a model" in output
    assert "mlgit.yaml" not in output


def test_max_size_is_an_argument_and_a_bad_one_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"x" * 2048)
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        refused = CliRunner().invoke(cli, ["check-large-files", "--max-size", "1KB", "notes.txt"])
        passed = CliRunner().invoke(cli, ["check-large-files", "--max-size", "2KB", "notes.txt"])
        bad = CliRunner().invoke(cli, ["check-large-files", "--max-size", "lots", "notes.txt"])
    finally:
        os.chdir(old)
    assert refused.exit_code == 1
    assert "2.0 KB, above the 1.0 KB limit" in refused.output
    assert passed.exit_code == 0, passed.output
    assert bad.exit_code == 2
    assert "--max-size 'lots': not a size" in bad.output


@pytest.mark.parametrize(
    ("text", "size"),
    [("500KB", 500 * 1024), ("5MB", 5 * 1024**2), ("5M", 5 * 1024**2), ("1.5GiB", 3 * 1024**3 // 2),
     ("123", 123), (" 2 kb ", 2048)],
)  # fmt: skip
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("name", "extension"),
    [("a/b/train.parquet", "parquet"), ("rows.CSV", "csv"), ("rows.csv.gz", "csv"),
     ("model.safetensors", "safetensors"), ("weights.pt", "pt"), ("train.parquet.dvc", None),
     ("notes.gz", None), ("Makefile", None), ("script.py", None)],
)  # fmt: skip
def test_data_extensions(name: str, extension: str | None) -> None:
    assert data_extension(name) == extension


# ---------------------------------------------------------------- mlgit-ci-check
def test_ci_check_hook_fails_until_the_pipelines_are_regenerated(
    project: Project, hook_repo: Path
) -> None:
    project.configure('ci:\n  providers: [github, gitlab]\n  python: "3.11"\n')
    assert project.mlgit("ci", "generate").exit_code == 0
    project.commit("pipelines")

    project.configure('ci:\n  providers: [github, gitlab]\n  python: "3.12"\n')
    project.sh("git", "add", "mlgit.yaml")
    code, output = try_hook(project.root, hook_repo, "mlgit-ci-check", "mlgit.yaml")
    assert code == 1, output
    assert "stale: run `mlgit ci generate` and commit the files" in output
    assert all(line in output.splitlines() for line in PYTHON_DIFF_LINES), output

    assert project.mlgit("ci", "generate").exit_code == 0
    project.sh("git", "add", "-A")
    code, output = try_hook(project.root, hook_repo, "mlgit-ci-check", "mlgit.yaml")
    assert code == 0, output


def test_ci_check_hook_runs_only_when_mlgit_yaml_changes(project: Project, hook_repo: Path) -> None:
    project.configure("ci:\n  providers: [github]\n")  # pipelines never generated: stale
    stage(project, "train.py", b"print('train')\n")
    code, output = try_hook(project.root, hook_repo, "mlgit-ci-check", "train.py")
    assert code == 0, output
    assert "(no files to check)Skipped" in output
