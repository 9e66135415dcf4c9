"""`mlgit monitor`: what a scheduled job runs against production, and the decision it makes.

Three signals, each optional: the production sample's schema (the training dataset's schema
file), its drift against the training dataset's reference profile, and production metrics
against the model's gates. Each failing signal asks for an action (mlgit.yaml `monitor.actions`,
defaults in `DEFAULT_ACTIONS`); the decision is the strongest action asked for, by `PRECEDENCE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError
from mlgit.status import FAIL, OK, SKIP

if TYPE_CHECKING:
    from mlgit.config import Config, Dataset, Model
    from mlgit.data.checks import DatasetResult
    from mlgit.data.drift import DriftResult
    from mlgit.data.engine import Engine
    from mlgit.report import Report

DEFAULT_ACTIONS = {"drift": "retrain", "schema": "alert", "metrics": "rollback"}
PRECEDENCE = ("rollback", "retrain", "alert", "none")  # strongest first


@dataclass(frozen=True)
class Signal:
    name: str  # schema | drift | metrics
    status: str  # ok | fail | skip
    action: str  # what this signal asks for when it fails
    detail: str
    data: dict[str, Any]  # signal-specific JSON (drifted columns, failed gates, ...)


@dataclass(frozen=True)
class MonitorResult:
    model: str
    dataset: str | None
    data: str | None
    metrics: str | None
    signals: tuple[Signal, ...]

    @property
    def action(self) -> str:
        asked = {s.action for s in self.signals if s.status == FAIL}
        return next((a for a in PRECEDENCE if a in asked), "none")

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(
            f"{s.name}: {s.detail} -> {s.action}" for s in self.signals if s.status == FAIL
        )


# ---------------------------------------------------------------- the signals
def _data_signals(
    dataset: Dataset, cfg: Config, data: str | Path, actions: dict[str, str]
) -> list[Signal]:
    """The schema and drift signals; with both configured, from one read of `data`."""
    if not (dataset.schema and dataset.reference):
        return [SIGNALS[name](dataset, cfg, data, actions[name]) for name in ("schema", "drift")]
    from mlgit.data import drift, profile
    from mlgit.data.combined import validate_and_drift
    from mlgit.data.schema import load_schema
    from mlgit.data.targets import open_data

    schema = load_schema(cfg.root / dataset.schema)
    rules = drift.settings(cfg.drift, cfg.place)
    reference = profile.load(cfg.root / dataset.reference)
    checked, drifted = validate_and_drift(
        dataset.name,
        open_data(data, dataset.format, cfg, engine_of(cfg)),
        schema,
        reference,
        rules,
        dataset.reference,
        sample=5,
        root=cfg.root,
    )
    return [
        _schema_outcome(dataset, checked, actions["schema"]),
        _drift_outcome(dataset, drifted, actions["drift"]),
    ]


def _schema_signal(dataset: Dataset, cfg: Config, data: str | Path, action: str) -> Signal:
    from mlgit.data.checks import validate
    from mlgit.data.schema import load_schema
    from mlgit.data.targets import open_data

    if not dataset.schema:
        return Signal("schema", SKIP, action, f"datasets.{dataset.name}.schema is not set", {})
    schema = load_schema(cfg.root / dataset.schema)
    source = open_data(data, dataset.format, cfg, engine_of(cfg))
    result = validate(source, schema, sample=5, root=cfg.root)
    return _schema_outcome(dataset, result, action)


def _schema_outcome(dataset: Dataset, result: DatasetResult, action: str) -> Signal:
    failed = [r for r in result.results if not r.ok and r.severity == "error"]
    names = [f"{r.check}{f'({r.column})' if r.column else ''}" for r in failed]
    detail = (
        f"{len(failed)} rule(s) of {dataset.schema} failed: {', '.join(names[:5])}"
        if failed
        else f"{len(result.results)} rules of {dataset.schema} pass"
    )
    return Signal(
        "schema",
        OK if result.ok else FAIL,
        action,
        detail,
        {"schema": dataset.schema, "rows": result.row_count, "failed_rules": names},
    )


def _drift_signal(dataset: Dataset, cfg: Config, data: str | Path, action: str) -> Signal:
    from mlgit.data import drift, profile
    from mlgit.data.targets import open_data

    if not dataset.reference:
        return Signal(
            "drift",
            SKIP,
            action,
            f"datasets.{dataset.name}.reference is not set; write one with "
            f"`mlgit profile {dataset.name}`",
            {},
        )
    rules = drift.settings(cfg.drift, cfg.place)
    reference = profile.load(cfg.root / dataset.reference)
    source = open_data(data, dataset.format, cfg, engine_of(cfg))
    result: DriftResult = drift.compare_source(
        dataset.name, reference, source, rules, dataset.reference
    )
    return _drift_outcome(dataset, result, action)


def _drift_outcome(dataset: Dataset, result: DriftResult, action: str) -> Signal:
    drifted = [c.column for c in result.compared if c.verdict == "drift"]
    detail = (
        f"{len(drifted)} of {len(result.compared)} columns drifted"
        f"{' (' + ', '.join(drifted) + ')' if drifted else ''}, share {result.share:.2f} "
        f"{'>=' if result.drifted else '<'} {result.share_threshold:.2f}"
    )
    return Signal(
        "drift",
        FAIL if result.drifted else OK,
        action,
        detail,
        {"reference": dataset.reference, "share": result.share, "drifted_columns": drifted},
    )


def _metrics_signal(model: Model, cfg: Config, metrics_file: Path, action: str) -> Signal:
    from mlgit.models import gates, metrics

    if not model.gates:
        return Signal("metrics", SKIP, action, f"models.{model.name}.gates is empty", {})
    try:
        text = metrics_file.read_bytes()
    except FileNotFoundError:
        raise MlgitError(f"{metrics_file}: metrics file not found; check --metrics") from None
    current = metrics.parse(text, str(metrics_file))
    # relative gates against their baselines (a stage's version or a revision), or the last
    # stage when a gate names none
    report = gates.compare(cfg, model, current)
    failed = [r for r in report.results if not r.ok and r.severity == "error"]
    reasons = [r.reason if r.metric in r.reason else f"{r.metric} {r.reason}" for r in failed]
    detail = (
        f"{len(failed)} gate(s) failed: " + "; ".join(reasons)
        if failed
        else f"{len(report.results)} gates pass"
    )
    return Signal(
        "metrics",
        OK if report.ok else FAIL,
        action,
        detail,
        {
            "metrics": str(metrics_file),
            "failed_gates": [
                {"metric": r.metric, "kind": r.kind, "reason": r.reason} for r in failed
            ],
        },
    )


SIGNALS: dict[str, Callable[..., Signal]] = {
    "schema": _schema_signal,
    "drift": _drift_signal,
    "metrics": _metrics_signal,
}


# ---------------------------------------------------------------- the command
def monitor(model_name: str | None, data: str | Path | None, metrics_file: Path | None) -> Report:
    from mlgit.config import load
    from mlgit.report.monitor import as_report

    return as_report(run(model_name, data, metrics_file, load()))


def run(
    model_name: str | None, data: str | Path | None, metrics_file: Path | None, cfg: Config
) -> MonitorResult:
    if data is None and metrics_file is None:
        raise MlgitError(
            "nothing to monitor: give --data PATH (a production sample) and/or "
            "--metrics FILE (production metrics)"
        )
    model = cfg.model(_model_name(model_name, cfg))
    actions = {**DEFAULT_ACTIONS, **(cfg.monitor.get("actions") or {})}
    signals = []
    if data is not None:
        from mlgit.data.urls import is_url

        if not is_url(str(data)) and not Path(data).exists():
            raise MlgitError(f"{data}: no such file or directory; check --data")
        dataset = _dataset(model, cfg)
        signals.extend(_data_signals(dataset, cfg, data, actions))
    if metrics_file is not None:
        signals.append(SIGNALS["metrics"](model, cfg, metrics_file, actions["metrics"]))
    return MonitorResult(
        model=model.name,
        dataset=model.dataset or cfg.monitor.get("dataset"),
        data=str(data) if data is not None else None,
        metrics=str(metrics_file) if metrics_file is not None else None,
        signals=tuple(signals),
    )


def _model_name(given: str | None, cfg: Config) -> str:
    if given:
        return given
    if cfg.monitor.get("model"):
        return cfg.monitor["model"]
    if len(cfg.models) == 1:
        return next(iter(cfg.models))
    raise MlgitError(
        f"{cfg.file}: which model? pass --model NAME or set monitor.model "
        f"(models: {', '.join(cfg.models) or 'none'})"
    )


def _dataset(model: Model, cfg: Config) -> Dataset:
    name = model.dataset or cfg.monitor.get("dataset")
    if not name:
        raise MlgitError(
            f"{cfg.file}: models.{model.name}.dataset is not set; name the dataset the model is "
            "trained on, so --data can be checked against its schema and reference profile"
        )
    return cfg.dataset(name)


def engine_of(cfg: Config) -> Engine:
    """mlgit.yaml's `engine:` (or MLGIT_DASK_SCHEDULER): monitor takes no engine options."""
    from mlgit.data.engine import chosen

    return chosen(None, cfg)
