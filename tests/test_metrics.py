"""Metrics files (work tree and git revisions) and `mlgit evaluate` (scikit-learn, slices)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from jsonschema import Draft202012Validator
from sklearn import metrics as skm

from mlgit.config import Gate, Model, bundled_schema
from mlgit.models import metrics
from mlgit.models.gates import evaluate_gates
from mlgit.repo import git as gitx
from tests.conftest import Project


# ---------------------------------------------------------------- reading
def test_lookup_nested_and_dotted_keys() -> None:
    data = {"a": {"b": {"c": 1}}, "x.y": 2, "slices": {"age": {"acc": {"1.5": 0.9}}}}
    assert metrics.lookup(data, "a.b.c") == 1
    assert metrics.lookup(data, "a.b") == {"c": 1}
    assert metrics.lookup(data, "x.y") == 2
    assert metrics.lookup(data, "slices.age.acc.1.5") == 0.9
    assert metrics.lookup(data, "a.b.d") is None
    assert metrics.flatten(data)["a.b.c"] == 1


def test_read_at_revisions_comes_from_git_not_the_work_tree(project: Project) -> None:
    project.write("metrics.json", json.dumps({"auc": 0.7}))
    project.commit("v1")
    project.write("metrics.json", json.dumps({"auc": 0.8}))
    project.commit("v2")
    project.write("metrics.json", json.dumps({"auc": 0.9}))  # not committed
    project.write("eval/scores.yaml", "loss:\n  val: 0.25\n")
    repo = gitx.open_repo(project.root)
    assert metrics.read(repo, "metrics.json") == {"auc": 0.9}
    assert metrics.read(repo, "metrics.json", "HEAD") == {"auc": 0.8}
    assert metrics.read(repo, "metrics.json", "HEAD~1") == {"auc": 0.7}
    assert metrics.lookup(metrics.read(repo, "eval/scores.yaml"), "loss.val") == 0.25
    assert metrics.read_or_none(repo, "eval/scores.yaml", "HEAD") is None
    with pytest.raises(Exception, match=r"eval/scores.yaml@HEAD: metrics file not in git"):
        metrics.read(repo, "eval/scores.yaml", "HEAD")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.json", "{oops", "m.json: not valid JSON/YAML"),
        ("m.yaml", "- 1\n- 2\n", "m.yaml: expected a mapping"),
    ],
)
def test_bad_metrics_files(name: str, text: str, message: str) -> None:
    with pytest.raises(Exception, match=message):
        metrics.parse(text, name)


# ---------------------------------------------------------------- evaluate
def predictions() -> pd.DataFrame:
    rows = [
        # label, prediction, score, sex, region
        (1, 1, 0.9, "F", "n"), (0, 0, 0.2, "F", "n"), (1, 0, 0.4, "F", "s"),
        (0, 0, 0.1, "F", "s"), (1, 1, 0.8, "M", "n"), (0, 1, 0.6, "M", "n"),
        (1, 1, 0.7, "M", "s"), (0, 0, 0.3, "M", "s"), (1, 1, 0.95, "M", "s"),
        (0, 0, 0.05, "M", "n"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["label", "pred", "score", "sex", "region"])


def test_classification_overall_and_per_slice_match_sklearn() -> None:
    frame = predictions()
    result = metrics.evaluate(frame, "label", "pred", "score", ("sex", "region"))
    assert result.task == "classification" and result.rows == 10
    y, p = frame["label"], frame["pred"]
    assert result.overall["accuracy"] == skm.accuracy_score(y, p)
    assert result.overall["precision"] == skm.precision_score(y, p)
    assert result.overall["recall"] == skm.recall_score(y, p)
    assert result.overall["f1"] == skm.f1_score(y, p)
    assert result.overall["roc_auc"] == skm.roc_auc_score(y, frame["score"])
    women = frame[frame["sex"] == "F"]
    assert result.slices["sex"]["accuracy"]["F"] == skm.accuracy_score(
        women["label"], women["pred"]
    )
    acc = result.slices["sex"]["accuracy"]
    assert result.gaps["sex"]["accuracy"] == pytest.approx(max(acc.values()) - min(acc.values()))
    assert result.slice_rows["sex"] == {"F": 4, "M": 6}
    data = result.as_metrics()
    assert data["slices"]["sex"]["rows"] == {"F": 4, "M": 6}
    # the layout is what a fairness gate addresses
    gate = Model("m", gates=(Gate("slices.sex.accuracy", max_gap=0.01),))
    report = evaluate_gates(gate, data, None)
    assert report.results[0].value == pytest.approx(result.gaps["sex"]["accuracy"])


def test_regression_is_inferred_from_a_continuous_label() -> None:
    frame = pd.DataFrame({"y": [1.5, 2.0, 3.25, 4.0], "p": [1.0, 2.5, 3.0, 4.5], "g": list("aabb")})
    result = metrics.evaluate(frame, "y", "p", by=("g",))
    assert result.task == "regression"
    assert result.overall["mae"] == pytest.approx(skm.mean_absolute_error(frame.y, frame.p))
    assert result.overall["rmse"] == pytest.approx(skm.mean_squared_error(frame.y, frame.p) ** 0.5)
    assert result.overall["r2"] == pytest.approx(skm.r2_score(frame.y, frame.p))
    assert set(result.slices["g"]) == {"mae", "rmse", "r2"}


def test_task_option_overrides_the_inferred_task() -> None:
    frame = pd.DataFrame({"y": [0, 1, 2, 3], "p": [0, 1, 1, 3]})  # few integers: classification
    assert metrics.evaluate(frame, "y", "p").task == "classification"
    forced = metrics.evaluate(frame, "y", "p", task="regression")
    assert forced.task == "regression" and forced.overall["mae"] == 0.25
    with pytest.raises(Exception, match="--task 'ranking': choose classification or regression"):
        metrics.evaluate(frame, "y", "p", task="ranking")


def test_roc_auc_is_null_on_a_slice_with_one_class() -> None:
    frame = predictions()
    frame.loc[frame["sex"] == "F", "label"] = 1
    result = metrics.evaluate(frame, "label", "pred", "score", ("sex",))
    assert result.slices["sex"]["roc_auc"]["F"] is None
    assert result.slices["sex"]["roc_auc"]["M"] is not None
    assert result.gaps["sex"]["roc_auc"] is None  # one slice with a value: no gap to measure
    gate = Model("m", gates=(Gate("gaps.sex.roc_auc", max_gap=0.1),))
    failed = evaluate_gates(gate, result.as_metrics(), None).results[0]
    assert not failed.ok and failed.reason == "gaps.sex.roc_auc is missing in the current metrics"


def test_multiclass_uses_macro_average() -> None:
    frame = pd.DataFrame({"y": ["a", "b", "c", "a"], "p": ["a", "b", "b", "a"]})
    result = metrics.evaluate(frame, "y", "p")
    assert result.overall["f1"] == skm.f1_score(frame.y, frame.p, average="macro")


def test_evaluate_cli_writes_a_dvc_metrics_file(project: Project) -> None:
    predictions().to_parquet(project.root / "preds.parquet")
    result = project.mlgit(
        "evaluate", "--predictions", "preds.parquet", "--label", "label", "--prediction", "pred",
        "--score", "score", "--by", "sex", "-o", "eval/metrics.json", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    Draft202012Validator(bundled_schema("evaluate-result.schema.json")).validate(report)
    written = json.loads((project.root / "eval/metrics.json").read_text())
    assert written == report["metrics"] and report["metrics_file"] == "eval/metrics.json"
    assert set(written) == {"task", "rows", "accuracy", "precision", "recall", "f1", "roc_auc",
                            "slices", "gaps"}  # fmt: skip
    shown = project.sh("dvc", "metrics", "show", "eval/metrics.json", "--json").stdout
    assert '"roc_auc"' in shown  # DVC reads the same file
    text = project.mlgit("evaluate", "--predictions", "preds.parquet", "--label", "label",
                         "--prediction", "pred", "--by", "region")  # fmt: skip
    assert text.exit_code == 0 and "By region" in text.output and "gap (max − min)" in text.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label", "nope", "--prediction", "pred"], "preds.csv: --label column 'nope' not found"),
        (["--label", "label", "--prediction", "pred", "--by", "age"], "--by column 'age'"),
        (["--label", "label", "--prediction", "pred", "--task", "regression", "--score", "score"],
         "--score is for classification"),
    ],
)  # fmt: skip
def test_evaluate_bad_input_is_exit_2_and_writes_nothing(
    project: Project, args: list[str], message: str
) -> None:
    predictions().to_csv(project.root / "preds.csv", index=False)
    result = project.mlgit("evaluate", "--predictions", "preds.csv", *args, "-o", "m.json")
    assert result.exit_code == 2 and message in result.stderr
    assert not (project.root / "m.json").exists()


def test_evaluate_missing_predictions_file(tmp_path: Path) -> None:
    project = Project(root=tmp_path, remote=tmp_path)
    result = project.mlgit(
        "evaluate", "--predictions", "p.csv", "--label", "a", "--prediction", "b"
    )
    assert result.exit_code == 2 and "p.csv: no such file" in result.stderr
