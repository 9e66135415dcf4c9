"""Gate results laid out: one row per gate (metric, kind, value, baseline, threshold, verdict)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgit.report import FAIL, OK, WARN, Report, Table

if TYPE_CHECKING:
    from mlgit.models.gates import GateReport, GateResult

COLUMNS = ("metric", "gate", "value", "baseline", "threshold", "reason")


def row_status(result: GateResult) -> str:
    if result.ok:
        return OK
    return WARN if result.severity == "warn" else FAIL


def table(report: GateReport, title: str = "Gates") -> Table:
    rows = tuple(
        (r.metric, r.kind, r.value, r.baseline, r.threshold, r.reason) for r in report.results
    )
    return Table(title, COLUMNS, rows, tuple(row_status(r) for r in report.results))


def status(report: GateReport) -> str:
    if not report.ok:
        return FAIL
    return WARN if any(not r.ok for r in report.results) else OK


def as_json(model: str, report: GateReport, metrics_label: str) -> dict:
    from mlgit.models.gates import gate_json  # `mlgit registry` lays out no gates: start fast

    return {
        "schema_version": 1,
        "model": model,
        "metrics": metrics_label,
        "ok": report.ok,
        "baseline": report.baseline_label,
        "gates": [gate_json(r) for r in report.results],
        "notes": list(report.notes),
    }


def as_report(model: str, report: GateReport, metrics_label: str) -> Report:
    failed = [r for r in report.results if not r.ok]
    summary = (
        f"{len(report.results) - len(failed)} of {len(report.results)} gates pass "
        f"for {model} ({metrics_label}"
        + (f" vs {report.baseline_label})" if report.baseline_label else ")")
    )
    return Report(
        command="gate",
        title=f"Gates: {model}",
        status=status(report),
        summary=summary,
        tables=(table(report),),
        notes=report.notes,
        data=as_json(model, report, metrics_label),
    )
