"""Drift results laid out: one row per column (verdict, metrics, missing values, note)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlgit.data.drift import DRIFT, NEW
from mlgit.report import FAIL, OK, SKIP, WARN, Report, Table

if TYPE_CHECKING:
    from mlgit.data.drift import ColumnDrift, DriftResult

_ROW_STATUS = {OK: OK, WARN: WARN, DRIFT: FAIL, SKIP: SKIP, NEW: WARN}
METRIC_COLUMNS = ("psi", "wasserstein", "ks", "js", "chi2")
# no "kind" column: the metrics shown say it (numbers: wasserstein and ks; categories: js, chi2)
COLUMNS = ("column", "verdict", "psi", "wasserstein", "ks", "js", "chi2 p", "missing", "note")


def status(result: DriftResult) -> str:
    if result.drifted:
        return FAIL
    return WARN if any(_ROW_STATUS[c.verdict] in (WARN, FAIL) for c in result.columns) else OK


def summary(result: DriftResult) -> str:
    drifted = [c.column for c in result.compared if c.verdict == "drift"]
    verdict = "dataset drift" if result.drifted else "no dataset drift"
    listed = f" ({', '.join(drifted)})" if drifted else ""
    return (
        f"{verdict}: {len(drifted)} of {len(result.compared)} columns drifted{listed}, "
        f"share {result.share:.2f} vs threshold {result.share_threshold:.2f}; "
        f"{result.current} ({result.current_rows} rows) against {result.reference} "
        f"({result.reference_rows} rows)"
    )


def _missing(column: ColumnDrift) -> str | None:
    if column.reference_missing is None and column.current_missing is None:
        return None

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{100 * value:.1f}".removesuffix(".0") + "%"

    return f"{pct(column.reference_missing)} → {pct(column.current_missing)}"


def _score(value: float | None) -> str | None:
    """Three significant digits: enough to compare with a threshold, narrow enough for a
    terminal (the JSON keeps every digit)."""
    return None if value is None else f"{value:.3g}"


def table(result: DriftResult) -> Table:
    rows = tuple(
        (
            c.column,
            c.verdict,
            *(_score(c.value(m)) for m in METRIC_COLUMNS),
            _missing(c),
            c.note,
        )
        for c in result.columns
    )
    return Table("Columns", COLUMNS, rows, tuple(_ROW_STATUS[c.verdict] for c in result.columns))


def column_json(column: ColumnDrift) -> dict[str, Any]:
    return {
        "column": column.column,
        "kind": column.kind,
        "verdict": column.verdict,
        "note": column.note,
        "missing": {"reference": column.reference_missing, "current": column.current_missing},
        "metrics": {
            m.metric: {
                "value": m.value,
                "warn": m.warn,
                "fail": m.fail,
                "verdict": m.verdict or None,
            }
            for m in column.metrics
        },
    }


def as_json(result: DriftResult, plots: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "command": "drift",
        "dataset": result.dataset,
        "status": status(result),
        "drift": result.drifted,
        "share": result.share,
        "share_threshold": result.share_threshold,
        "reference": {"source": result.reference, "rows": result.reference_rows},
        "current": {"source": result.current, "rows": result.current_rows},
        "drifted_columns": [c.column for c in result.compared if c.verdict == "drift"],
        "columns": [column_json(c) for c in result.columns],
        "plots": list(plots),
    }


def as_report(result: DriftResult, images: tuple[tuple[str, str], ...] = ()) -> Report:
    """`images` are (caption, path relative to the report) of the PNGs written by --plots."""
    thresholds = "; ".join(
        sorted(
            {
                f"{m.metric}: warn {m.warn if m.warn is not None else '—'}, "
                f"fail {m.fail if m.fail is not None else '—'}"
                for c in result.columns
                for m in c.metrics
                if m.warn is not None or m.fail is not None
            }
        )
    )
    notes = (f"thresholds: {thresholds}",) if thresholds else ()
    return Report(
        command="drift",
        title=f"Drift of {result.dataset}",
        status=status(result),
        summary=summary(result),
        tables=(table(result),),
        notes=notes,
        data=as_json(result, [path for _, path in images]),
        images=images,
    )
