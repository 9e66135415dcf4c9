"""Metric gates: each kind, directions, missing metrics, baselines from stages and revisions."""

from __future__ import annotations

import pytest

from mlgit.config import Gate, Model
from mlgit.models.gates import direction_of, evaluate_gates
from tests.support import Project, json_output, metrics, retrain


def model(*gates: Gate) -> Model:
    return Model(name="churn", metrics="metrics.json", gates=gates)


def one(report):
    assert len(report.results) == 1
    return report.results[0]


# ---------------------------------------------------------------- the kinds
@pytest.mark.parametrize(
    ("gate", "value", "ok"),
    [
        (Gate("auc", min=0.8), 0.8, True),
        (Gate("auc", min=0.8), 0.79, False),
        (Gate("latency_ms", max=100), 100, True),
        (Gate("latency_ms", max=100), 100.5, False),
    ],
)
def test_min_and_max(gate: Gate, value: float, ok: bool) -> None:
    result = one(evaluate_gates(model(gate), {"auc": value, "latency_ms": value}, None))
    assert result.ok is ok and result.value == value and result.threshold in (0.8, 100)


def test_max_drop_absolute_and_relative() -> None:
    base = {"auc": 0.90}
    absolute = model(Gate("auc", max_drop=0.02))
    assert one(evaluate_gates(absolute, {"auc": 0.885}, base, "prod v1")).ok
    failed = one(evaluate_gates(absolute, {"auc": 0.87}, base, "prod v1"))
    assert not failed.ok and failed.baseline == 0.90
    assert failed.reason.startswith("fell by 0.03 from 0.9 (prod v1) to 0.87, worse")
    relative = model(Gate("auc", max_drop=0.05, relative=True))
    assert one(evaluate_gates(relative, {"auc": 0.86}, base)).ok  # 4.4% drop
    assert not one(evaluate_gates(relative, {"auc": 0.85}, base)).ok  # 5.6% drop


def test_max_rise_on_lower_is_better_metric() -> None:
    gate = Gate("rmse", max_rise=0.1)
    assert direction_of(gate) == "lower"
    worse = one(evaluate_gates(model(gate), {"rmse": 1.2}, {"rmse": 1.0}, "HEAD~1"))
    assert not worse.ok and "rose by 0.2" in worse.reason and "worse" in worse.reason
    better = one(evaluate_gates(model(gate), {"rmse": 0.9}, {"rmse": 1.0}, "HEAD~1"))
    assert better.ok and "better" in better.reason


def test_direction_decides_what_a_regression_is() -> None:
    """A gate bounds moves in the worse direction only; the other way passes as better."""
    improved = evaluate_gates(model(Gate("rmse", max_drop=0.1)), {"rmse": 0.5}, {"rmse": 1.0})
    assert improved.results[0].ok and "better" in improved.results[0].reason
    assert "rmse max_drop: lower is better" in improved.notes[0]
    assert "did you mean max_rise" in improved.notes[0]
    accuracy = Gate("accuracy", max_rise=0.01, direction="lower")  # an explicit direction wins
    assert not one(evaluate_gates(model(accuracy), {"accuracy": 0.9}, {"accuracy": 0.8})).ok
    assert one(evaluate_gates(model(accuracy), {"accuracy": 0.7}, {"accuracy": 0.8})).ok
    relative = model(Gate("latency_ms", max_rise=0.05, relative=True, direction="lower"))
    assert one(evaluate_gates(relative, {"latency_ms": 104}, {"latency_ms": 100})).ok
    slower = one(evaluate_gates(relative, {"latency_ms": 106}, {"latency_ms": 100}))
    assert not slower.ok and "rose by 6.00%" in slower.reason and "allowed 5.00%" in slower.reason
    faster = one(evaluate_gates(relative, {"latency_ms": 90}, {"latency_ms": 100}))
    assert faster.ok and faster.reason.startswith("fell by 10.00% from 100")  # not "rose by -"
    assert evaluate_gates(relative, {"latency_ms": 1}, {"latency_ms": 100}).notes == ()


def test_direction_defaults_and_override() -> None:
    assert direction_of(Gate("accuracy", min=0.5)) == "higher"
    for name in ("mae", "val_loss", "slices.sex.error_rate", "gaps.sex.accuracy"):
        assert direction_of(Gate(name, max=1)) == "lower"
    assert direction_of(Gate("mae", max=1, direction="higher")) == "higher"


def test_max_gap_over_slices_or_precomputed() -> None:
    current = {
        "slices": {"sex": {"accuracy": {"F": 0.80, "M": 0.87}}},
        "gaps": {"sex": {"accuracy": 0.07}},
    }
    gap = one(evaluate_gates(model(Gate("slices.sex.accuracy", max_gap=0.05)), current, None))
    assert not gap.ok and gap.value == pytest.approx(0.07) and "M=0.87 vs F=0.8" in gap.reason
    wide = one(evaluate_gates(model(Gate("gaps.sex.accuracy", max_gap=0.1)), current, None))
    assert wide.ok and wide.value == 0.07


def test_missing_metric_on_either_side_fails_with_reason() -> None:
    gates = model(Gate("auc", min=0.5), Gate("auc", max_drop=0.1))
    report = evaluate_gates(gates, {"accuracy": 0.9}, {"auc": 0.9}, "prod v1")
    assert not report.ok
    assert all(r.reason == "auc is missing in the current metrics" for r in report.results)
    report = evaluate_gates(model(Gate("auc", max_drop=0.1)), {"auc": 0.9}, {}, "prod v1")
    assert not report.ok and report.results[0].reason == "auc is missing in the baseline prod v1"
    sliced = {"slices": {"sex": {"auc": {"F": 1}}}}
    report = evaluate_gates(model(Gate("slices.sex.auc", min=0.5)), sliced, None)
    assert not report.ok and "a mapping of slices" in report.results[0].reason


def test_no_baseline_yet_passes_with_a_note() -> None:
    report = evaluate_gates(model(Gate("auc", max_drop=0.01)), {"auc": 0.5}, None, "prod")
    assert report.ok and report.results[0].ok
    assert report.notes == ("no baseline yet (prod): max_drop gates pass",)


def test_warning_severity_does_not_fail_the_report() -> None:
    report = evaluate_gates(model(Gate("auc", min=0.9, severity="warn")), {"auc": 0.5}, None)
    assert report.ok and not report.results[0].ok


def test_gates_naming_their_own_baseline() -> None:
    gates = model(Gate("auc", max_drop=0.01, baseline="prod"), Gate("auc", max_drop=0.01))
    report = evaluate_gates(
        gates, {"auc": 0.85}, {"auc": 0.85}, "HEAD~1", baselines={"prod": ({"auc": 0.9}, "prod")}
    )
    assert [r.ok for r in report.results] == [False, True]
    assert [r.baseline_label for r in report.results] == ["prod", "HEAD~1"]


# ---------------------------------------------------------------- mlgit gate
def gate_json(project: Project, *args: str) -> tuple[int, dict]:
    result = project.mlgit("gate", "churn", *args, "--format", "json")
    data = json_output(result.stdout, "gate-result.schema.json")
    return result.exit_code, data


def test_gate_command_against_stage_and_revision(churn: Project) -> None:
    code, data = gate_json(churn)
    assert code == 0 and data["ok"] and len(data["gates"]) == 2
    assert data["baseline"] == "prod: no version yet"
    assert data["notes"] == ["no baseline yet (prod: no version yet): max_drop gates pass"]
    text = churn.mlgit("gate", "churn")
    assert text.exit_code == 0 and "2 of 2 gates pass" in text.output
    assert "no baseline yet" in text.output
    rows = [ln for ln in text.output.splitlines() if "roc_auc" in ln]
    assert len(rows) == 2 and "min" in rows[0] and "max_drop" in rows[1]
    churn.mlgit("promote", "churn", "--to", "staging")
    churn.mlgit("promote", "churn", "--to", "prod")
    retrain(churn, 0.82)
    code, data = gate_json(churn)
    assert code == 1 and not data["ok"]
    dropped = data["gates"][1]
    assert (dropped["kind"], dropped["value"], dropped["baseline"]) == ("max_drop", 0.82, 0.85)
    assert dropped["baseline_label"] == "prod v0.0.1"
    # a revision as baseline; metrics read from git, not from the work tree
    code, data = gate_json(churn, "--baseline", "HEAD")
    assert code == 0 and data["gates"][1]["baseline"] == 0.82
    churn.write("metrics.json", metrics(0.5))  # uncommitted
    code, data = gate_json(churn, "--rev", "HEAD")
    assert code == 1 and data["metrics"] == "metrics.json@HEAD"
    assert data["gates"][0]["value"] == 0.82  # committed value; fails max_drop vs prod
    text = churn.mlgit("gate", "churn", "--format", "markdown")
    assert text.exit_code == 1 and "| ❌ | roc_auc | min | 0.5 |" in text.output


def test_gate_errors_are_exit_2(churn: Project) -> None:
    bad_rev = churn.mlgit("gate", "churn", "--baseline", "no-such-rev")
    assert bad_rev.exit_code == 2 and "revision 'no-such-rev' does not exist" in bad_rev.stderr
    unknown = churn.mlgit("gate", "chrn")
    assert unknown.exit_code == 2 and "no model named 'chrn'; did you mean 'churn'?" in (
        unknown.stderr
    )
    (churn.root / "metrics.json").write_text("{not json")
    broken = churn.mlgit("gate", "churn")
    assert broken.exit_code == 2 and broken.stderr.startswith(
        "mlgit: error: metrics.json: not valid"
    )
    (churn.root / "metrics.json").unlink()
    missing = churn.mlgit("gate", "churn")
    assert missing.exit_code == 2 and "metrics.json: metrics file not found" in missing.stderr


def test_gate_baseline_neither_stage_nor_revision(churn: Project) -> None:
    config = (churn.root / "mlgit.yaml").read_text()
    churn.write(
        "mlgit.yaml",
        config.replace(
            "{metric: roc_auc, max_drop: 0.02}", "{metric: roc_auc, max_drop: 0.02, baseline: prd}"
        ),
    )
    churn.commit("typo in baseline")
    result = churn.mlgit("gate", "churn")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert (
        "mlgit.yaml: models.churn.gates.1.baseline: 'prd' is neither a stage (staging, prod) "
        "nor a git revision"
    ) in result.stderr
