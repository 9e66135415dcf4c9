"""Baseline gates: `mlgit evaluate --baseline --train-labels FILE` scores scikit-learn's dummy
model beside the real one (`baseline.*`), and a `min_lift` gate fails a model that does not
beat it by the margin."""

from __future__ import annotations

import json

import pytest

from tests.support import Project, json_output

PREDICTIONS = "y,pred,score\n1,1,0.9\n0,0,0.2\n1,1,0.8\n0,1,0.6\n1,1,0.7\n0,0,0.1\n"
TRAIN = "x,y\n1,1\n2,1\n3,0\n4,1\n5,0\n"  # majority class 1, prior 0.6


def config(gates: str, metrics: str = "metrics.json") -> str:
    return (
        "version: 1\nmodels:\n  churn:\n"
        f"    metrics: {metrics}\n    gates:\n{gates}stages: [staging, prod]\n"
    )


def evaluate(project: Project, *extra: str):
    project.write("predictions.csv", PREDICTIONS)
    project.write("data/train.csv", TRAIN)
    return project.mlgit(
        "evaluate", "--predictions", "predictions.csv", "--label", "y", "--prediction", "pred",
        "--score", "score", *extra,
    )  # fmt: skip


def test_evaluate_scores_the_dummy_classifier(project: Project) -> None:
    result = evaluate(
        project, "--baseline", "--train-labels", "data/train.csv", "-o", "metrics.json",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json_output(result.output, "evaluate-result.schema.json")
    dummy = data["metrics"]["baseline"]
    assert dummy["strategy"].startswith("most_frequent")
    assert dummy["accuracy"] == pytest.approx(0.5)  # always 1: right on 3 of 6
    assert dummy["recall"] == 1.0
    assert dummy["roc_auc"] == 0.5  # a constant prior score ranks nothing
    assert data["metrics"]["roc_auc"] == 1.0
    written = json.loads((project.root / "metrics.json").read_text())
    assert written["baseline"] == dummy
    text = evaluate(project, "--baseline", "--train-labels", "data/train.csv")
    assert "dummy model" in text.output


def test_evaluate_scores_the_dummy_regressor(project: Project) -> None:
    project.write("predictions.csv", "y,pred\n1.0,1.1\n2.0,2.1\n3.0,2.9\n10.5,10.0\n")
    project.write("data/train.csv", "y\n1.0\n3.0\n")  # mean 2.0
    result = project.mlgit(
        "evaluate", "--predictions", "predictions.csv", "--label", "y", "--prediction", "pred",
        "--baseline", "--train-labels", "data/train.csv", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    dummy = json_output(result.output, "evaluate-result.schema.json")["metrics"]["baseline"]
    assert dummy["strategy"] == "mean"
    assert dummy["mae"] == pytest.approx((1 + 0 + 1 + 8.5) / 4)
    assert dummy["r2"] < 0.1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--baseline",), "--train-labels"),
        (("--train-labels", "data/train.csv"), "--baseline"),
        (("--baseline", "--train-labels", "data/nothing.csv"), "no such file"),
        (("--baseline", "--train-labels", "data/other.csv"), "no label column 'y'"),
        (("--baseline", "--train-labels", "data/empty.csv"), "no values"),
    ],
)
def test_bad_baseline_input(project: Project, args: tuple[str, ...], message: str) -> None:
    project.write("data/other.csv", "x,label\n1,0\n")
    project.write("data/empty.csv", "x,y\n1,\n")
    result = evaluate(project, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def gate(project: Project, gates: str, **metrics: object):
    project.write("mlgit.yaml", config(gates))
    project.write("metrics.json", json.dumps(metrics))
    return project.mlgit("gate", "churn", "--format", "json")


def test_min_lift_passes_when_the_model_beats_the_dummy(project: Project) -> None:
    gates = "      - {metric: roc_auc, min_lift: 0.05, baseline: dummy}\n"
    result = gate(project, gates, roc_auc=0.8, baseline={"roc_auc": 0.5})
    assert result.exit_code == 0, result.output
    row = json_output(result.output, "gate-result.schema.json")["gates"][0]
    assert row["kind"] == "min_lift" and row["baseline"] == 0.5 and row["ok"] is True


def test_min_lift_fails_a_model_no_better_than_the_dummy(project: Project) -> None:
    gates = "      - {metric: accuracy, min_lift: 0.05, baseline: dummy}\n"
    result = gate(project, gates, accuracy=0.91, baseline={"accuracy": 0.9})
    assert result.exit_code == 1, result.output
    row = json_output(result.output, "gate-result.schema.json")["gates"][0]
    assert row["ok"] is False and "dummy" in row["reason"]


def test_min_lift_on_a_lower_is_better_metric(project: Project) -> None:
    gates = "      - {metric: rmse, min_lift: 1.0, baseline: dummy}\n"
    assert gate(project, gates, rmse=2.0, baseline={"rmse": 3.5}).exit_code == 0
    assert gate(project, gates, rmse=3.0, baseline={"rmse": 3.5}).exit_code == 1
    assert gate(project, gates, rmse=4.0, baseline={"rmse": 3.5}).exit_code == 1


def test_min_lift_without_baseline_metrics_says_how_to_make_them(project: Project) -> None:
    gates = "      - {metric: roc_auc, min_lift: 0.05, baseline: dummy}\n"
    result = gate(project, gates, roc_auc=0.9)
    assert result.exit_code == 1, result.output
    row = json.loads(result.output)["gates"][0]
    assert "mlgit evaluate --baseline --train-labels" in row["reason"]


def test_min_lift_end_to_end_from_evaluate(project: Project) -> None:
    project.write("mlgit.yaml", config("      - {metric: roc_auc, min_lift: 0.3}\n"))
    assert evaluate(
        project, "--baseline", "--train-labels", "data/train.csv", "-o", "metrics.json"
    ).exit_code == 0  # fmt: skip
    assert project.mlgit("gate", "churn").exit_code == 0  # 1.0 vs 0.5


@pytest.mark.parametrize(
    ("gates", "message"),
    [
        ("      - {metric: roc_auc, min_lift: 0.05, baseline: prod}\n", "baseline: dummy"),
        ("      - {metric: roc_auc, min_lift: -0.1, baseline: dummy}\n", "min_lift"),
        ("      - {metric: roc_auc, min_lift: high, baseline: dummy}\n", "min_lift"),
    ],
)
def test_bad_min_lift_gates(project: Project, gates: str, message: str) -> None:
    result = gate(project, gates, roc_auc=0.8, baseline={"roc_auc": 0.5})
    assert result.exit_code == 2, result.output
    assert message in result.output
