"""Review B: hostile registry tags reaching `mlgit ci check-tag`, CD's guard before deploying."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import Project, Workdir, run_cli, setup_model


def _tag(project: Project, name: str, body: str, target: str = "HEAD") -> None:
    project.sh("git", "tag", "-a", name, "-m", f"mlgit: by hand\n\n{body}", target)


def test_check_tag_refuses_a_stage_tag_on_a_tree_even_unverified(project: Project) -> None:
    setup_model(project)
    tree = project.sh("git", "rev-parse", "HEAD^{tree}").stdout.strip()
    _tag(project, "churn#prod#1", '{"mlgit": "1", "gates": []}', tree)
    result = project.mlgit("ci", "check-tag", "churn#prod#1", "--allow-unverified")
    assert result.exit_code == 1, result.output
    assert "not a commit" in result.stderr and "commit=" not in result.stdout


def test_check_tag_refuses_malformed_gates_without_a_bug(project: Project) -> None:
    setup_model(project)
    _tag(project, "churn#prod#1", '{"mlgit": "1", "gates": "all passed"}')
    result = project.mlgit("ci", "check-tag", "churn#prod#1")
    assert result.exit_code == 1, result.output
    assert "records no gate results" in result.stderr
    _tag(project, "churn#prod#2", '{"mlgit": "1", "gates": [{"metric": "a\\u001b[2J\\n@x"}]}')
    result = project.mlgit("ci", "check-tag", "churn#prod#2")
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.stderr and "\\x1b[2J" in result.stderr
    assert "@x" not in result.stderr and result.stderr.count("\n") == 1


def test_check_tag_verifies_a_rollback_claim(project: Project) -> None:
    setup_model(project)
    _tag(project, "churn#prod#1", '{"mlgit": "1", "rolled_back": "v9.9.9"}')
    fake = project.mlgit("ci", "check-tag", "churn#prod#1")
    assert fake.exit_code == 1, fake.output
    assert "claims a rollback" in fake.stderr

    project.sh("git", "tag", "-d", "churn#prod#1")
    assert project.mlgit("promote", "churn", "--to", "staging").exit_code == 0
    project.write("metrics.json", '{"roc_auc": 0.9, "slices": {}}')
    project.commit("retrain")
    assert project.mlgit("promote", "churn", "--to", "staging").exit_code == 0
    rolled = project.mlgit("rollback", "churn", "--stage", "staging")
    assert rolled.exit_code == 0, rolled.output
    tags = project.sh("git", "tag", "-l", "churn#staging#*").stdout.split()
    real = project.mlgit("ci", "check-tag", max(tags, key=lambda t: int(t.split("#")[-1])))
    assert real.exit_code == 0, real.output


def test_a_complex_yaml_key_is_an_input_error_not_a_bug(config_dir: Workdir) -> None:
    config = config_dir.root / "mlgit.yaml"
    config.write_text(config.read_text() + "? [a, b]\n: 1\n")
    result = config_dir.mlgit("check-config")
    assert result.exit_code == 2, result.output
    assert "mlgit.yaml:" in result.stderr and "a key that is a list or a mapping" in result.stderr


def test_init_reports_a_dvc_yaml_with_a_complex_key_as_a_problem(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text("stages: {}\n? {a: 1}\n: x\n")
    result = run_cli(tmp_path, "init", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "problem" in result.stderr and "a key that is a list or a mapping" in result.stderr


def test_reproduce_reads_no_metrics_file_outside_the_version(project: Project) -> None:
    project.write("mlgit.yaml", "version: 1\nmodels:\n  churn: {metrics: metrics.json}\n")
    project.write("train.py", "open('metrics.json', 'w').write('{}')\n")
    project.write("dvc.yaml", "stages:\n  train:\n    cmd: python train.py\n")
    project.commit("pipeline")
    secret = project.root.parent / "secret.json"
    secret.write_text('{"token": "s3cret"}')
    body = json.dumps({"mlgit": "1", "metrics_file": str(secret), "metrics": {"token": 0}})
    project.sh("git", "tag", "-a", "churn@v1.0.0", "-m", f"mlgit: register\n\n{body}")
    result = project.mlgit("reproduce", "churn@v1.0.0")
    assert result.exit_code == 2, result.output
    assert "leaves the repository" in result.stderr and "s3cret" not in result.output
    notes = project.sh("git", "notes", "--ref=mlgit", "list", check=False).stdout
    assert notes == ""


@pytest.mark.parametrize(
    "entry",
    [
        "models: [churn]\n",
        "models:\n  churn: {metrics: metrics.json, reproduce: 5}\n",
        "models:\n  churn: {metrics: metrics.json, reproduce: {tolerance: [1]}}\n",
        "models:\n  churn: {metrics: metrics.json, reproduce: {tolerance: {a: 1"
        + "0" * 400
        + "}}}\n",
    ],
)
def test_reproduce_reads_any_old_mlgit_yaml_without_a_bug(project: Project, entry: str) -> None:
    project.write("mlgit.yaml", "version: 1\n" + entry)
    project.write("train.py", "open('metrics.json', 'w').write('{\"a\": 1}')\n")
    project.write("dvc.yaml", "stages:\n  train:\n    cmd: python train.py\n")
    project.commit("pipeline")
    body = json.dumps({"mlgit": "1", "metrics_file": "metrics.json", "metrics": {"a": 1}})
    project.sh("git", "tag", "-a", "churn@v1.0.0", "-m", f"mlgit: register\n\n{body}")
    project.write("mlgit.yaml", "version: 1\nmodels:\n  churn: {metrics: metrics.json}\n")
    project.commit("config")
    result = project.mlgit("reproduce", "churn@v1.0.0")
    assert result.exit_code == 0, result.output
