"""`mlgit check-config`: every error with its place, exit 0 / 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import Project, Workdir

VALID = """\
version: 1
datasets:
  train:
    path: data/train.csv
models:
  churn:
    path: models/churn.pkl
    metrics: metrics.json
    gates:
      - {metric: roc_auc, min: 0.8}
      - {metric: roc_auc, max_drop: 0.01, baseline: prod}
stages: [staging, prod]
promotion:
  requires:
    prod: [staging]
drift: {psi: {warn: 0.1, fail: 0.2}, share: 0.5}
ci:
  providers: [github, gitlab]
  python: "3.11"
"""


def check(workdir: Workdir, text: str):
    workdir.write("data/train.csv", "a,b\n1,2\n")
    workdir.write("mlgit.yaml", text)
    before = (workdir.root / "mlgit.yaml").read_bytes()
    result = workdir.mlgit("check-config")
    assert (workdir.root / "mlgit.yaml").read_bytes() == before  # nothing written
    return result


def test_valid_config(config_dir: Workdir) -> None:
    result = check(config_dir, VALID)
    assert result.exit_code == 0, result.output
    assert "mlgit.yaml: ok" in result.output


def test_config_given_as_argument(config_dir: Workdir, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("version: 2\n")
    result = config_dir.mlgit("check-config", str(other))
    assert result.exit_code == 2
    assert f"{other}:1: version: must be 1, got 2" in result.stderr


def test_generated_config_is_valid(config_dir: Workdir) -> None:
    assert config_dir.mlgit("check-config").exit_code == 0


def test_not_yaml(config_dir: Workdir) -> None:
    result = check(config_dir, "version: 1\ndatasets: [unclosed\n")
    assert result.exit_code == 2
    assert "mlgit.yaml:3: not valid YAML" in result.stderr
    assert "Traceback" not in result.output


def test_duplicate_keys_are_refused_by_every_command(project: Project) -> None:
    """PyYAML keeps the last of two equal keys silently; a second `models:` block would drop
    the first one's models without a word."""
    config = VALID + "stages: [prod]\n"
    result = check(project, config)
    assert result.exit_code == 2
    assert "stages: duplicate key (first on line 12)" in result.stderr
    project.write("data/extra.csv", "a\n1\n")
    track = project.mlgit("track", "data/extra.csv")
    assert track.exit_code == 2 and "duplicate key" in track.stderr  # not a crash
    assert (project.root / "mlgit.yaml").read_text() == config  # nothing written


def test_a_list_instead_of_a_mapping(config_dir: Workdir) -> None:
    result = check(config_dir, "- version: 1\n")
    assert result.exit_code == 2
    assert "expected a mapping with `version: 1`, got list" in result.stderr


def test_wrong_type(config_dir: Workdir) -> None:
    result = check(config_dir, VALID.replace("stages: [staging, prod]", "stages: prod"))
    assert result.exit_code == 2
    assert "mlgit.yaml:12: stages: expected a list, got string" in result.stderr


def test_unknown_key_gets_did_you_mean(config_dir: Workdir) -> None:
    result = check(
        config_dir, VALID.replace("    metrics: metrics.json", "    metrix: metrics.json")
    )
    assert result.exit_code == 2
    assert (
        "mlgit.yaml:8: models.churn.metrix: unknown key; did you mean 'metrics'?" in result.stderr
    )


def test_missing_required_key_names_its_path(config_dir: Workdir) -> None:
    result = check(config_dir, VALID.replace("    path: data/train.csv", "    schema: s.yaml"))
    assert result.exit_code == 2
    assert "datasets.train.path: required" in result.stderr


def test_dataset_path_that_does_not_exist(config_dir: Workdir) -> None:
    result = check(config_dir, VALID.replace("data/train.csv", "data/nope.csv"))
    assert result.exit_code == 2
    assert "mlgit.yaml:4: datasets.train.path: data/nope.csv does not exist" in result.stderr


def test_every_error_is_reported(config_dir: Workdir) -> None:
    text = (
        VALID.replace("version: 1", "version: 1\ncolour: red")
        .replace('python: "3.11"', "python: 3.11")
        .replace("providers: [github, gitlab]", "providers: [jenkins]")
    )
    text = text.replace("{metric: roc_auc, min: 0.8}", "{metric: roc_auc}")
    result = check(config_dir, text)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("mlgit: error: ")]
    assert len(errors) >= 4, result.stderr
    assert any("colour: unknown key" in e for e in errors)
    assert any("models.churn.gates.0: needs one of: min, max" in e for e in errors)
    assert any("ci.python: expected a string, got number" in e for e in errors)


def test_a_schema_file_is_checked_as_a_schema(config_dir: Workdir) -> None:
    config_dir.write("s.schema.yaml", "fields:\n  - {name: a, type: integer}\n")
    ok = config_dir.mlgit("check-config", "s.schema.yaml")
    assert ok.exit_code == 0, ok.output
    config_dir.write("s.schema.yaml", "fields:\n  - {name: a, type: integr}\n")
    bad = config_dir.mlgit("check-config", "s.schema.yaml")
    assert bad.exit_code == 2 and "fields.0.type" in bad.stderr
    assert "version" not in bad.stderr  # not taken for mlgit.yaml


def test_stages_that_require_each_other(config_dir: Workdir) -> None:
    text = VALID.replace("prod: [staging]", "prod: [staging]\n    staging: [prod]")
    result = check(config_dir, text)
    assert result.exit_code == 2
    assert "promotion.requires.prod: prod -> staging -> prod require each other" in result.stderr


def test_unknown_stage_in_policy(config_dir: Workdir) -> None:
    result = check(config_dir, VALID.replace("prod: [staging]", "prod: [stagin]"))
    assert result.exit_code == 2
    assert (
        "promotion.requires.prod: unknown stage 'stagin'; did you mean 'staging'?" in result.stderr
    )


def test_dvc_tracked_path_not_pulled_is_fine(project: Project) -> None:
    project.write("data/big.parquet.dvc", "outs:\n- md5: abc\n  path: big.parquet\n")
    result = check(project, VALID.replace("data/train.csv", "data/big.parquet"))
    assert result.exit_code == 0, result.stderr


def test_no_config_at_all(tmp_path: Path, project: Project) -> None:
    (project.root / "mlgit.yaml").unlink()
    result = project.mlgit("check-config")
    assert result.exit_code == 2
    assert "no mlgit.yaml" in result.stderr and "mlgit init" in result.stderr


@pytest.mark.parametrize("content", [b"\xff\xfe\x00bad", b"version: 1\n\x00"])
def test_binary_garbage(config_dir: Workdir, content: bytes) -> None:
    (config_dir.root / "mlgit.yaml").write_bytes(content)
    result = config_dir.mlgit("check-config")
    assert result.exit_code == 2
    assert "mlgit.yaml" in result.stderr
