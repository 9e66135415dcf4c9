"""Review A: new commands as a new user (init, check-large-files)."""

from __future__ import annotations

from pathlib import Path

from tests.support import run_cli, sh


def test_init_in_a_fresh_directory_reports_no_problem_with_dvcs_own_directory(
    tmp_path: Path,
) -> None:
    sh(tmp_path, "git", "init", "-q")
    result = run_cli(tmp_path, "init")
    assert result.exit_code == 0, result.output
    assert "problem" not in result.output, result.output
    again = run_cli(tmp_path, "init", "--dry-run")  # .dvc/ exists now, nothing tracked yet
    assert again.exit_code == 0 and "problem" not in again.output, again.output
