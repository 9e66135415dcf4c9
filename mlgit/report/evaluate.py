"""`mlgit evaluate` laid out: overall metrics, then one table per slice column with its gaps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgit.report import OK, Report, Table

if TYPE_CHECKING:
    from mlgit.models.metrics import Evaluation


def as_report(result: Evaluation, source: str, written: str | None) -> Report:
    names = tuple(result.overall)
    tables = [Table("Overall", ("metric", "value"), tuple(result.overall.items()))]
    if result.baseline is not None:
        dummy = result.baseline
        compared = tuple((m, v, dummy.get(m)) for m, v in result.overall.items())
        title = f"Against a dummy model ({dummy['strategy']})"
        tables.append(Table(title, ("metric", "model", "baseline"), compared))
    for column, per_metric in result.slices.items():
        slices = sorted(result.slice_rows[column])
        rows = tuple(
            (
                value,
                result.slice_rows[column][value],
                *(per_metric[m].get(value) for m in names),
            )
            for value in slices
        )
        rows += (("gap (max − min)", None, *(result.gaps[column][m] for m in names)),)
        tables.append(Table(f"By {column}", (column, "rows", *names), rows))
    summary = f"{result.task} metrics over {result.rows} rows of {source}"
    if written:
        summary += f"; written to {written}"
    notes = list(result.notes)
    if result.positive is not None:
        notes.append(f"precision, recall, f1 and roc_auc are of the class {result.positive!r}")
    if result.dropped:
        notes.append(
            f"{result.dropped} row(s) left out: their label, prediction or score is missing"
        )
    return Report(
        command="evaluate",
        title="Evaluate",
        status=OK,
        summary=summary,
        tables=tuple(tables),
        notes=tuple(notes),
        data={
            "schema_version": 1,
            "predictions": source,
            "metrics_file": written,
            "metrics": result.as_metrics(),
        },
    )
