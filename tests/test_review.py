"""`mlgit report`: a pull request's summary against its base (validation, drift, metrics, gates)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from tests.support import Project, Templates, conforms, drifting_table, write_parquet

MODELS = """\
models:
  churn:
    path: models/churn.pkl
    metrics: metrics.json
    dataset: train
    gates:
      - {metric: roc_auc, min: 0.80}
"""


def on_main(project: Project) -> Project:
    """main: a tracked dataset with its schema and a model with metrics and a gate."""
    write_parquet(drifting_table(2_000), project.root / "data" / "train.parquet")
    assert project.mlgit("track", "data/train.parquet").exit_code == 0
    config = project.root / "mlgit.yaml"
    config.write_text(config.read_text().replace("models: {}\n", MODELS))
    project.write("metrics.json", json.dumps({"roc_auc": 0.85, "loss": 0.3}))
    project.sh("dvc", "push", "-q")
    project.commit("train on main")
    project.sh("git", "checkout", "-q", "-b", "new-data")
    return project


@pytest.fixture
def pull_request(tmp_path: Path, templates: Templates) -> Project:
    """`on_main`, built once per session and copied: the branch `new-data` of a PR."""
    return templates.derived("review-main", on_main, tmp_path)


def report(project: Project, *args: str) -> tuple[int, dict]:
    result = project.mlgit("report", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    conforms(data, "report-result.schema.json")
    conforms(data["validation"], "validate-result.schema.json")
    for part, schema in (("drift", "drift-result"), ("gates", "gate-result")):
        for item in data[part]:
            conforms(item, f"{schema}.schema.json")
    return result.exit_code, data


def test_a_pull_request_with_new_data_and_a_worse_model(pull_request: Project) -> None:
    shifted = drifting_table(2_000, seed=1, scale=1.2, mix=(0.1, 0.2, 0.3, 0.4))
    write_parquet(shifted, pull_request.root / "data" / "train.parquet")
    pull_request.sh("dvc", "add", "-q", "data/train.parquet")
    pull_request.write("metrics.json", json.dumps({"roc_auc": 0.78, "loss": 0.3, "f1": 0.5}))
    pull_request.commit("new data, retrained")
    before = pull_request.sh("dvc", "status").stdout

    code, data = report(pull_request)
    assert code == 1 and data["status"] == "fail"  # the gate roc_auc >= 0.8 fails
    assert data["base"] == "the merge-base with main"
    main = pull_request.sh("git", "rev-parse", "main").stdout.strip()
    assert data["base_commit"] == main
    [dataset] = data["validation"]["datasets"]
    assert dataset["dataset"] == "train" and dataset["row_count"] == 2_000
    [drift] = data["drift"]
    assert drift["drift"] is True and drift["drifted_columns"] == ["amount", "city"]
    changes = {(m["metric"]): (m["base"], m["current"]) for m in data["metrics"]}
    assert changes == {"roc_auc": (0.85, 0.78), "loss": (0.3, 0.3), "f1": (None, 0.5)}
    [gates] = data["gates"]
    assert gates["model"] == "churn" and gates["ok"] is False
    assert pull_request.sh("dvc", "status").stdout == before  # nothing touched

    markdown = pull_request.mlgit("report", "--base", "main")
    assert markdown.exit_code == 1
    text = markdown.output
    assert text.startswith("### ❌ mlgit report")
    assert (
        "**Drift against the base's data**" in text and "| train | drift | amount, city |" in text
    )
    assert "| churn | roc_auc | 0.85 | 0.78 | -0.07 |" in text
    assert "| churn | f1 | — | 0.5 | — |" in text
    assert "(1 unchanged not shown)" in text  # loss
    assert "**Gates: churn**" in text


def test_nothing_changed_and_a_new_dataset(pull_request: Project) -> None:
    code, data = report(pull_request)
    assert code == 0 and data["status"] == "ok"
    assert data["validation"]["datasets"] == [] and data["validation"]["unchanged"] == ["train"]
    assert data["drift"] == []
    assert all(m["change"] == 0 for m in data["metrics"])
    write_parquet(drifting_table(300, seed=4), pull_request.root / "data" / "extra.parquet")
    assert pull_request.mlgit("track", "data/extra.parquet").exit_code == 0
    pull_request.commit("another dataset")
    code, data = report(pull_request)
    assert code == 0
    assert [d["dataset"] for d in data["validation"]["datasets"]] == ["extra"]
    assert data["drift"] == []
    assert "dataset extra is new: no data at the base to compare with" in data["notes"]


def test_only_a_schema_change_is_validated_but_not_drifted(pull_request: Project) -> None:
    schema = pull_request.root / "schemas" / "train.schema.yaml"
    schema.write_text(schema.read_text() + "# reviewed\n")
    pull_request.commit("touch the schema")
    code, data = report(pull_request)
    assert code == 0
    assert [d["dataset"] for d in data["validation"]["datasets"]] == ["train"]
    assert data["drift"] == []


def test_bad_input(pull_request: Project) -> None:
    result = pull_request.mlgit("report", "--base", "no-such-branch", "-o", "r.md")
    assert result.exit_code == 2
    assert "no-such-branch" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (pull_request.root / "r.md").exists()
    pull_request.write("metrics.json", "{not json")
    broken = pull_request.mlgit("report", "-o", "r.md")
    assert broken.exit_code == 2 and "metrics.json" in broken.stderr
    assert not (pull_request.root / "r.md").exists()


def test_a_project_with_nothing_to_report(project: Project) -> None:
    result = project.mlgit("report")
    assert result.exit_code == 2
    assert "mlgit.yaml: no datasets and no models to report on" in result.stderr


def test_data_that_no_longer_fits_its_schema_is_an_input_error(pull_request: Project) -> None:
    (pull_request.root / "data" / "train.parquet").unlink()
    write_parquet(pa.table({"other": [1]}), pull_request.root / "data" / "train.parquet")
    pull_request.sh("dvc", "add", "-q", "data/train.parquet")
    pull_request.commit("data of another shape")
    result = pull_request.mlgit("report", "-o", "r.md")
    assert result.exit_code == 2, result.output  # as `mlgit validate` says it
    assert "train.schema.yaml: fields.0.name: column 'amount' is not in" in result.stderr
    assert not (pull_request.root / "r.md").exists()


def test_data_on_disk_that_is_not_the_tracked_data_is_a_warning(pull_request: Project) -> None:
    """`git checkout` without `dvc checkout`: the .dvc file says one thing, the disk holds
    another. validate reads the disk, so it says which data it checked."""
    bad = drifting_table(2_000, seed=1).set_column(0, "amount", pa.array([-1.0] * 2_000))
    write_parquet(bad, pull_request.root / "data" / "train.parquet")
    pull_request.sh("dvc", "add", "-q", "data/train.parquet")
    pull_request.commit("bad data")
    assert pull_request.mlgit("validate").exit_code == 1  # the tracked (bad) data fails
    pull_request.sh("git", "checkout", "-q", "main")
    pull_request.sh("dvc", "checkout", "-q")
    pull_request.sh("git", "checkout", "-q", "new-data")  # the disk keeps main's good data
    result = pull_request.mlgit("validate", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "warn"
    [warning] = data["warnings"]
    assert warning.startswith("data/train.parquet is modified against data/train.parquet.dvc")
    assert "run `dvc checkout data/train.parquet`" in warning
    code, review = report(pull_request)
    assert (
        code == 0 and review["status"] == "warn" and review["validation"]["warnings"] == [warning]
    )
    pull_request.sh("dvc", "checkout", "-q")
    assert pull_request.mlgit("validate").exit_code == 1  # the tracked data again
