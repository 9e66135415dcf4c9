"""`mlgit report` laid out: validation of the changed datasets, their drift against the base,
metrics at the base and now, and gates — one section each, built by the commands' own
reporters so a check reads the same here as in `mlgit validate` or `mlgit gate`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlgit.report import FAIL, OK, WARN, Report, Table
from mlgit.report import drift as drift_report
from mlgit.report import gates as gates_report
from mlgit.report import validation as validation_report

if TYPE_CHECKING:
    from mlgit.commands.report import Review

SCHEMA_VERSION = 1
METRIC_COLUMNS = ("model", "metric", "base", "now", "change")
DRIFT_COLUMNS = ("dataset", "verdict", "drifted columns", "share", "rows (base → now)")
_ORDER = {OK: 0, WARN: 1, FAIL: 2}


def as_report(review: Review) -> Report:
    validation = validation_report.as_report(
        review.validation,
        base=review.base_commit,
        unchanged=review.unchanged,
        problems_only=True,
        warnings=review.warnings,
    )
    gate_reports = [gates_report.as_report(g.model, g.report, g.metrics_file) for g in review.gates]
    drifted = [d for d in review.drift if d.drifted]
    statuses = [validation.status, *(r.status for r in gate_reports)]
    statuses += [WARN for _ in drifted]  # new data is expected to move: drift only warns
    status = max(statuses, key=_ORDER.__getitem__, default=OK)
    tables = [*validation.tables]
    if review.drift:
        tables.append(_drift_table(review))
    if review.metrics:
        tables.append(_metrics_table(review))
    tables += [gates_report.table(g.report, f"Gates: {g.model}") for g in review.gates]
    failed_checks = sum(
        validation_report.status_of(r) == FAIL for d in review.validation for r in d.results
    )
    datasets = len(review.validation) + len(review.unchanged)
    parts = [
        f"{len(review.validation)} of {datasets} dataset(s) changed, {failed_checks} failed "
        f"check(s)",
        f"{len(drifted)} of {len(review.drift)} drifted",
        *(
            f"{g.model}: {sum(r.ok for r in g.report.results)} of {len(g.report.results)} "
            "gates pass"
            for g in review.gates
        ),
    ]
    summary = f"against {review.base} ({review.base_commit[:12]}): " + "; ".join(parts)
    return Report(
        command="report",
        title="mlgit report",
        status=status,
        summary=summary,
        tables=tuple(tables),
        notes=(*validation.notes, *review.notes),
        data=_data(review, status, validation, gate_reports),
    )


def _drift_table(review: Review) -> Table:
    rows = tuple(
        (
            d.dataset,
            "drift" if d.drifted else "no drift",
            ", ".join(c.column for c in d.compared if c.verdict == "drift") or None,
            f"{d.share:.2f} (threshold {d.share_threshold:.2f})",
            f"{d.reference_rows} → {d.current_rows}",
        )
        for d in review.drift
    )
    status = tuple(WARN if d.drifted else OK for d in review.drift)
    return Table("Drift against the base's data", DRIFT_COLUMNS, rows, status)


def _metrics_table(review: Review) -> Table:
    """The metrics that moved (or appeared, or went); the unchanged are only counted."""
    moved = [m for m in review.metrics if m.change != 0]
    rows = tuple(
        (m.model, m.metric, m.base, m.current, None if m.change is None else f"{m.change:+.4g}")
        for m in moved
    )
    same = len(review.metrics) - len(moved)
    title = f"Metrics at {review.base_commit[:12]} and now ({same} unchanged not shown)"
    return Table(title, METRIC_COLUMNS, rows)


def _data(
    review: Review, status: str, validation: Report, gate_reports: list[Report]
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "report",
        "status": status,
        "ok": status != FAIL,
        "base": review.base,
        "base_commit": review.base_commit,
        "validation": validation.data,
        "drift": [drift_report.as_json(d) for d in review.drift],
        "metrics": [
            {
                "model": m.model,
                "metric": m.metric,
                "base": m.base,
                "current": m.current,
                "change": m.change,
            }
            for m in review.metrics
        ],
        "gates": [r.data for r in gate_reports],
        "notes": list(review.notes),
    }
