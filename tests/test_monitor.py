"""`mlgit monitor`: schema, drift and production metrics of a model -> one action."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from tests.support import Project, Templates, conforms, drifting_table, write_parquet

SCHEMA = """\
fields:
  - {name: amount, type: number, constraints: {required: true}}
  - {name: age, type: integer, constraints: {minimum: 18, maximum: 90}}
  - {name: city, type: string, constraints: {enum: [paris, rome, oslo, lima]}}
  - {name: active, type: boolean}
"""

CONFIG = """
models:
  churn:
    metrics: metrics.json
    dataset: train
    gates:
      - {metric: roc_auc, min: 0.8}
"""


def monitor_model(project: Project) -> None:
    """A tracked dataset with its schema and reference profile, and a model with a gate."""
    write_parquet(drifting_table(2_000), project.root / "data" / "train.parquet")
    assert project.mlgit("track", "data/train.parquet").exit_code == 0
    project.write("schemas/train.schema.yaml", SCHEMA)
    config = project.root / "mlgit.yaml"
    text = config.read_text().replace(
        "    path: data/train.parquet\n",
        "    path: data/train.parquet\n    reference: profiles/train.json\n",
    )
    config.write_text(text.replace("models: {}\n", "") + CONFIG)
    project.write("metrics.json", json.dumps({"roc_auc": 0.91}))
    assert project.mlgit("profile", "train").exit_code == 0, "profile"
    project.commit("a monitored model")


@pytest.fixture
def monitored(tmp_path: Path, templates: Templates) -> Project:
    return templates.derived("monitored", monitor_model, tmp_path)


def monitor(project: Project, *args: str) -> tuple[int, dict]:
    result = project.mlgit("monitor", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output + result.stderr
    data = json.loads(result.output)
    conforms(data, "monitor-result.schema.json")
    return result.exit_code, data


def test_healthy_production_needs_nothing(monitored: Project) -> None:
    write_parquet(drifting_table(1_000, seed=5), monitored.root / "prod.parquet")
    monitored.write("prod-metrics.json", json.dumps({"roc_auc": 0.88}))
    code, data = monitor(monitored, "--data", "prod.parquet", "--metrics", "prod-metrics.json")
    assert code == 0
    assert data["action"] == "none" and data["reasons"] == []
    assert [s["status"] for s in data["signals"].values()] == ["ok", "ok", "ok"]
    assert data["model"] == "churn" and data["dataset"] == "train"


def test_drift_asks_for_retraining(monitored: Project) -> None:
    shifted = drifting_table(1_000, seed=5, scale=1.2, mix=(0.1, 0.2, 0.3, 0.4))
    write_parquet(shifted, monitored.root / "prod.parquet")
    code, data = monitor(monitored, "--data", "prod.parquet")
    assert code == 1
    assert data["action"] == "retrain"
    assert data["signals"]["drift"]["drifted_columns"] == ["amount", "city"]
    assert data["reasons"][0].startswith("drift: 2 of 4 columns drifted")


def test_schema_violation_asks_for_an_alert(monitored: Project) -> None:
    bad = drifting_table(1_000, seed=5).set_column(1, "age", pa.array([150] * 1_000))
    write_parquet(bad, monitored.root / "prod.parquet")
    code, data = monitor(monitored, "--data", "prod.parquet")
    assert code == 1
    assert data["signals"]["schema"]["status"] == "fail"
    assert any("age" in rule for rule in data["signals"]["schema"]["failed_rules"])
    # age also drifted (one column of four: no dataset drift), so schema decides alone
    assert data["signals"]["drift"]["status"] == "ok"
    assert data["action"] == "alert"


def test_degraded_metrics_ask_for_rollback_over_retraining(monitored: Project) -> None:
    write_parquet(
        drifting_table(1_000, seed=5, scale=1.2, mix=(0.1, 0.2, 0.3, 0.4)),
        monitored.root / "p.parquet",
    )
    monitored.write("prod-metrics.json", json.dumps({"roc_auc": 0.62}))
    code, data = monitor(monitored, "--data", "p.parquet", "--metrics", "prod-metrics.json")
    assert code == 1
    assert data["action"] == "rollback"  # rollback > retrain
    assert [r.split(":")[0] for r in data["reasons"]] == ["drift", "metrics"]
    assert data["signals"]["metrics"]["failed_gates"][0]["metric"] == "roc_auc"
    assert "failed: roc_auc 0.62 < min" in data["signals"]["metrics"]["detail"]  # names it


def test_actions_come_from_the_config(monitored: Project) -> None:
    monitored.configure("monitor:\n  actions: {metrics: alert}\n")
    monitored.write("prod-metrics.json", json.dumps({"roc_auc": 0.5}))
    code, data = monitor(monitored, "--metrics", "prod-metrics.json")
    assert code == 1 and data["action"] == "alert"
    assert list(data["signals"]) == ["metrics"]


def test_text_report_says_the_action(monitored: Project) -> None:
    monitored.write("prod-metrics.json", json.dumps({"roc_auc": 0.5}))
    result = monitored.mlgit("monitor", "--metrics", "prod-metrics.json")
    assert result.exit_code == 1
    assert "action: rollback because metrics:" in result.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--data", "missing.parquet"), ("missing.parquet", "no such file")),
        ((), ("nothing to monitor",)),
        (("--metrics", "nope.json"), ("nope.json", "not found")),
        (("--metrics", "metrics.json", "--model", "other"), ("no model named 'other'",)),
    ],
)
def test_bad_input(monitored: Project, args: tuple[str, ...], words: tuple[str, ...]) -> None:
    result = monitored.mlgit("monitor", *args, "-o", "decision.json")
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.stderr
    assert not (monitored.root / "decision.json").exists()


def test_the_production_sample_is_read_once(
    monitored: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema and drift come from one read of each file (issue 12), with the results the two
    separate reads give: partitioned, several row groups, a dictionary-read text column."""
    from mlgit.commands import monitor as command
    from mlgit.config import load
    from mlgit.data import io

    shifted = drifting_table(3_000, seed=5, scale=1.2, mix=(0.1, 0.2, 0.3, 0.4))
    shifted = shifted.set_column(1, "age", pa.array([150] * 100 + [40] * 2_900))
    files = [monitored.root / "prod" / f"part-{i}.parquet" for i in range(2)]
    write_parquet(shifted.slice(0, 1_000), files[0], row_group_size=300)
    write_parquet(shifted.slice(1_000), files[1], row_group_size=700)
    io.READS.clear()
    code, data = monitor(monitored, "--data", "prod")
    assert code == 1 and data["action"] == "retrain"
    read = {str(f.relative_to(monitored.root)) for f in files}  # as --data names them
    assert dict(io.READS) == dict.fromkeys(read, 1)

    monkeypatch.chdir(monitored.root)
    cfg = load()
    dataset = cfg.dataset("train")
    apart = {
        name: command.SIGNALS[name](dataset, cfg, Path("prod"), "x") for name in ("schema", "drift")
    }
    assert dict(io.READS) == dict.fromkeys(read, 3)  # + validate, + the drift profile
    for name, signal in apart.items():
        assert data["signals"][name]["status"] == signal.status == "fail"
        assert data["signals"][name]["detail"] == signal.detail
        assert {k: data["signals"][name][k] for k in signal.data} == signal.data
