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


def test_check_large_files_prints_one_line_per_name_and_a_working_command(
    tmp_path: Path,
) -> None:
    name = "evil\nx.csv: ok\x1b[2J\u202e'q.csv"
    (tmp_path / name).write_text("a\n")
    result = run_cli(tmp_path, "check-large-files", name)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2, lines  # the refusal and its command, nothing forged
    assert "\x1b" not in result.output and "\u202e" not in result.output
    command = lines[1].strip().split(" && ")[0].replace("git rm --cached -q --", "printf %s")
    assert sh(tmp_path, "bash", "-c", command).stdout == name


def test_init_says_what_mlgit_gate_does_with_an_adopted_model_without_gates(
    tmp_path: Path,
) -> None:
    sh(tmp_path, "git", "init", "-q")
    sh(tmp_path, "dvc", "init", "-q")
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  train: {cmd: echo, outs: [model.pkl], metrics: [metrics.json]}\n"
        "artifacts:\n  churn: {type: model, path: model.pkl}\n"
    )
    (tmp_path / "metrics.json").write_text('{"roc_auc": 0.9}\n')
    result = run_cli(tmp_path, "init")
    assert result.exit_code == 0, result.output
    assert "passes everything" not in result.output
    assert "passes everything" not in (tmp_path / "mlgit.yaml").read_text()
    gate = run_cli(tmp_path, "gate", "churn")
    assert gate.exit_code == 2 and "gates is empty" in gate.output  # what init announced


def test_evaluate_baseline_refuses_training_labels_of_another_kind_in_one_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "reg.csv").write_text("y,p\n0.5,0.4\n1.5,1.6\n2.25,2.0\n")
    (tmp_path / "cls.csv").write_text("y,p\n1,1\n0,0\n1,0\n")
    (tmp_path / "text.csv").write_text("y\nyes\nno\nyes\n")
    (tmp_path / "floats.csv").write_text("y\n0.5\n1.25\n2.75\n")
    (tmp_path / "ints.csv").write_text("y\n1\n0\n1\n")
    cases = [("reg.csv", "text.csv"), ("cls.csv", "text.csv"), ("cls.csv", "floats.csv")]
    for predictions, train in cases:
        result = run_cli(
            tmp_path, "evaluate", "--predictions", predictions, "--label", "y",
            "--prediction", "p", "--baseline", "--train-labels", train,
        )  # fmt: skip
        assert result.exit_code == 2, (predictions, train, result.output)
        assert result.output.startswith(f"mlgit: error: {train}: label column 'y'")
        assert len(result.output.strip().splitlines()) == 1
    good = run_cli(
        tmp_path, "evaluate", "--predictions", "cls.csv", "--label", "y",
        "--prediction", "p", "--baseline", "--train-labels", "ints.csv",
    )  # fmt: skip
    assert good.exit_code == 0, good.output
