"""Metrics files (work tree and git revisions) and `mlgit evaluate` (scikit-learn, slices)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn import metrics as skm

from mlgit.config import Gate, Model
from mlgit.models import metrics
from mlgit.models.gates import evaluate_gates
from mlgit.repo.git import open_repo
from tests.support import Project, conforms


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
    repo = open_repo(project.root)
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
    conforms(report, "evaluate-result.schema.json")
    written = json.loads((project.root / "eval/metrics.json").read_text())
    assert written == report["metrics"] and report["metrics_file"] == "eval/metrics.json"
    assert set(written) == {"task", "rows", "positive", "accuracy", "precision", "recall", "f1",
                            "roc_auc", "slices", "gaps"}  # fmt: skip
    assert written["positive"] == "1"
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


def evaluate_csv(project: Project, text: str, *args: str):
    project.write("p.csv", text)
    return project.mlgit("evaluate", "--predictions", "p.csv", "--format", "json", *args)


def test_every_slice_is_scored_like_the_whole(project: Project) -> None:
    """Slice b predicts only 1s: still binary precision/recall of class 1, as sklearn gives."""
    text = "y,p,g\n1,1,a\n1,1,a\n1,0,a\n0,0,a\n1,1,b\n1,1,b\n1,0,b\n"
    result = evaluate_csv(project, text, "--label", "y", "--prediction", "p", "--by", "g")
    assert result.exit_code == 0, result.output
    slices = json.loads(result.output)["metrics"]["slices"]["g"]
    assert slices["precision"] == {"a": 1.0, "b": 1.0}
    assert slices["recall"] == pytest.approx({"a": 2 / 3, "b": 2 / 3})
    gaps = json.loads(result.output)["metrics"]["gaps"]["g"]
    assert gaps["precision"] == 0 and gaps["recall"] == pytest.approx(0)


def test_nothing_to_measure_is_null_not_zero(project: Project) -> None:
    text = "y,p,g\n0,0,a\n0,0,a\n1,1,b\n0,1,b\n"  # slice a: no positives at all
    result = evaluate_csv(project, text, "--label", "y", "--prediction", "p", "--by", "g")
    slices = json.loads(result.output)["metrics"]["slices"]["g"]
    assert slices["precision"]["a"] is None and slices["recall"]["a"] is None
    reg = evaluate_csv(project, "y,p,g\n1,1,a\n1,2,a\n2,2,b\n3,2,b\n", "--label", "y",
                       "--prediction", "p", "--by", "g", "--task", "regression")  # fmt: skip
    assert json.loads(reg.output)["metrics"]["slices"]["g"]["r2"]["a"] is None  # constant


FRAUD = (
    "y,p,s\nfraud,fraud,0.9\nfraud,fraud,0.8\nfraud,legit,0.4\nlegit,legit,0.1\n"
    "legit,legit,0.2\nlegit,fraud,0.6\nlegit,legit,0.3\n"
)


def test_the_positive_class_is_asked_for_not_guessed(project: Project) -> None:
    args = ("--label", "y", "--prediction", "p", "--score", "s")
    asked = evaluate_csv(project, FRAUD, *args)
    assert asked.exit_code == 2
    assert "which class of 'y' is the positive one" in asked.stderr
    assert "--positive fraud" in asked.stderr
    result = evaluate_csv(project, FRAUD, *args, "--positive", "fraud")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)["metrics"]
    assert data["positive"] == "fraud"
    assert data["roc_auc"] == pytest.approx(11 / 12) and data["recall"] == pytest.approx(2 / 3)
    wrong = evaluate_csv(project, FRAUD, *args, "--positive", "spam")
    assert wrong.exit_code == 2 and "not a class of 'y' (classes: fraud, legit)" in wrong.stderr


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("y,p,s\n1,1,hi\n0,0,lo\n", ("--score", "s"), "column 's' holds 'hi', not a number"),
        ("y,p\nyes,no\nno,no\n", ("--task", "regression"), "column 'y' holds 'yes'"),
        ("y,p\n0.5,0.5\n1.25,1.5\n", ("--task", "classification"), "holds fractions"),
    ],
)
def test_columns_of_the_wrong_kind_are_exit_2(project: Project, text, args, message) -> None:
    result = evaluate_csv(project, text, "--label", "y", "--prediction", "p", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_rows_without_a_score_are_left_out_and_said(project: Project) -> None:
    text = "y,p,s\n1,1,0.9\n0,0,\n1,0,0.4\n0,1,0.3\n"
    result = evaluate_csv(project, text, "--label", "y", "--prediction", "p", "--score", "s")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["metrics"]["rows"] == 3
    text_report = project.mlgit("evaluate", "--predictions", "p.csv", "--label", "y",
                                "--prediction", "p", "--score", "s")  # fmt: skip
    assert "1 row(s) left out" in text_report.output


def test_notes_on_how_the_numbers_were_made(project: Project) -> None:
    rows = ["y,p,age,region"] + [f"{i % 2},{i % 2},{20 + i},{'' if i % 10 == 0 else 'eu'}"
                                 for i in range(120)]  # fmt: skip
    project.write("p.csv", "\n".join(rows) + "\n")
    args = ("evaluate", "--predictions", "p.csv", "--label", "y", "--prediction", "p")
    continuous = project.mlgit(*args, "--by", "age")
    assert "--by age: 120 slices, one per value" in continuous.output
    regions = project.mlgit(*args, "--by", "region", "--format", "json")
    slices = json.loads(regions.output)["metrics"]["slices"]["region"]["rows"]
    assert slices == {"(missing)": 12, "eu": 108}  # not "nan"
    project.write("q.csv", "y,p\n1,1\n0,0\n1,2\n")  # a predicted class the labels lack
    macro = project.mlgit("evaluate", "--predictions", "q.csv", "--label", "y", "--prediction", "p")
    assert "macro-averaged: the predictions hold classes the labels do not (2)" in macro.output
