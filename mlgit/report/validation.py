"""Validation results laid out as a `Report`: per dataset, a table of its checks.

Every check is a row for JSON, junit and `--verbose` text; the terminal and pull-request views
list only the checks that did not pass and count the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlgit.data.checks import CheckResult, DatasetResult
from mlgit.report import FAIL, OK, SKIP, WARN, Report, Table

COLUMNS = ("check", "column", "elements", "unexpected", "unexpected %", "mostly", "details")
SCHEMA_VERSION = 1


def status_of(result: CheckResult) -> str:
    if result.skipped:
        return SKIP
    if result.ok:
        return OK
    return WARN if result.severity == "warn" else FAIL


def as_report(
    results: Sequence[DatasetResult],
    *,
    base: str | None = None,
    unchanged: Sequence[str] = (),
    examples_shown: int | None = None,
    compact: bool = False,
    problems_only: bool = False,
    warnings: Sequence[str] = (),
) -> Report:
    """The report of `mlgit validate`.

    By default every check is a row (JSON, junit and `--verbose` text keep it all).
    `compact` (for a pull-request comment) lists only the checks that failed or warned, with
    a count of those that passed in each table's title. `problems_only` (the terminal) starts
    with one row per dataset summing up its checks, then lists only the checks that failed or
    warned, so a failure is never buried under passing rows. `examples_shown` limits examples
    in the tables only.
    """
    from mlgit.fs import jsonable

    statuses = [status_of(r) for d in results for r in d.results]
    statuses += [WARN for _ in warnings]  # e.g. the data on disk is not the tracked data
    status = FAIL if FAIL in statuses else WARN if WARN in statuses else OK
    failed = statuses.count(FAIL)
    warned = statuses.count(WARN)
    checks = len(statuses)
    summary = f"{len(results)} dataset(s), {checks} checks: {failed} failed, {warned} warned"
    if base is not None:
        summary += f" (changed since {base[:12]}; {len(unchanged)} unchanged skipped)"
    if problems_only:
        tables: tuple[Table, ...] = (_overview(results),) if results else ()
        tables += tuple(
            _table(d, examples_shown, compact=True, counted=False)  # the overview counts
            for d in results
            if any(status_of(r) != OK for r in d.results)
        )
    else:
        tables = tuple(_table(d, examples_shown, compact) for d in results)
    notes = [*warnings, *(n for d in results for n in _notes(d))]
    if base is not None and not results:
        notes.append(f"no dataset changed since {base[:12]}; nothing to validate")
    if problems_only and results:
        notes.append("passing checks are only counted; `mlgit validate -v` lists every check")
    data = {
        "schema_version": SCHEMA_VERSION,
        "command": "validate",
        "ok": status != FAIL,
        "status": status,
        "base": base,
        "unchanged": list(unchanged),
        "warnings": list(warnings),
        "datasets": [_dataset_data(d) for d in results],
    }
    return Report(
        command="validate",
        title="mlgit validate",
        status=status,
        summary=summary,
        tables=tables,
        notes=tuple(notes),
        data=jsonable(data),
    )


def _overview(results: Sequence[DatasetResult]) -> Table:
    """One row per dataset: how many of its checks passed, failed, warned (or were skipped)."""
    rows: list[tuple[Any, ...]] = []
    statuses = []
    for dataset in results:
        counts = [status_of(r) for r in dataset.results]
        parts = [f"{counts.count(OK)} passed"]
        parts += [
            f"{counts.count(s)} {word}"
            for s, word in ((FAIL, "failed"), (WARN, "warned"), (SKIP, "skipped"))
            if counts.count(s)
        ]
        where = [dataset.source] if dataset.source and dataset.source != dataset.dataset else []
        where += ["cached"] if dataset.cached else []
        rows.append(
            (
                dataset.dataset,
                dataset.row_count,
                f"{len(counts)} checks: {', '.join(parts)}",
                ", ".join(where),
            )
        )
        dataset_status = FAIL if FAIL in counts else WARN if WARN in counts else OK
        statuses.append(dataset_status)
    columns: tuple[str, ...] = ("dataset", "rows", "checks", "source")
    if not any(row[-1] for row in rows):  # every dataset read from its own path, fresh
        columns, rows = columns[:-1], [row[:-1] for row in rows]
    return Table(title="datasets", columns=columns, rows=tuple(rows), status=tuple(statuses))


def _table(
    dataset: DatasetResult, examples_shown: int | None, compact: bool, counted: bool = True
) -> Table:
    rows = []
    shown = [r for r in dataset.results if not compact or status_of(r) != OK]
    for r in shown:
        details = r.message
        examples = r.examples if examples_shown is None else r.examples[:examples_shown]
        if examples:
            files = _files(r)
            details += ": " + ", ".join(
                _example(row, value, file)
                for (row, value), file in zip(examples, files, strict=False)
            )
        rows.append(
            (
                r.check,
                r.column or "",
                r.element_count,
                r.unexpected_count,
                None if r.unexpected_percent is None else round(r.unexpected_percent, 4),
                r.mostly,
                details,
            )
        )
    where = dataset.source if dataset.source and dataset.source != dataset.dataset else ""
    extra = [f"{dataset.row_count} rows"]
    if where:
        extra.append(where)
    if dataset.cached:
        extra.append("cached")
    if compact and counted:
        passed = sum(status_of(r) == OK for r in dataset.results)
        extra.append(f"{passed} of {len(dataset.results)} checks passed")
    return Table(
        title=f"{dataset.dataset} ({', '.join(extra)})",
        columns=COLUMNS,
        rows=tuple(rows),
        status=tuple(status_of(r) for r in shown),
    )


def _files(result: CheckResult) -> tuple[str | None, ...]:
    """The file of each example (None when the dataset is one file)."""
    return result.example_files or (None,) * len(result.examples)


def _example(row: int | None, value: Any, file: str | None = None) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if row is None:
        return f"{file}: {text}" if file else text
    return f"{file} row {row}: {text}" if file else f"row {row}: {text}"


def _example_data(row: int | None, value: Any, file: str | None) -> dict[str, Any]:
    return {"row": row, "value": value, **({"file": file} if file is not None else {})}


def _notes(dataset: DatasetResult) -> list[str]:
    notes = []
    if dataset.stopped_early:
        notes.append(
            f"{dataset.dataset}: --fail-fast stopped at the first failing batch after "
            f"{dataset.row_count} rows; counts cover those rows only"
        )
    if dataset.settled_chunks and not dataset.cached:
        notes.append(
            f"{dataset.dataset}: {dataset.settled_chunks} column chunks settled from Parquet "
            "statistics (every check on them proven to pass; their values were not read)"
        )
    for r in dataset.results:
        if r.examples_truncated:
            notes.append(
                f"{dataset.dataset}: {r.check} on {r.column or 'the dataset'}: "
                f"{r.unexpected_count} failing values, examples truncated to the first "
                f"{len(r.examples)} (`mlgit validate --sample N` shows more)"
            )
    return notes


def _dataset_data(dataset: DatasetResult) -> dict[str, Any]:
    return {
        "dataset": dataset.dataset,
        "source": dataset.source,
        "schema": dataset.schema,
        "ok": dataset.ok,
        "row_count": dataset.row_count,
        "cached": dataset.cached,
        "stopped_early": dataset.stopped_early,
        "settled_chunks": dataset.settled_chunks,
        "checks": [
            {
                "check": r.check,
                "column": r.column,
                "status": status_of(r),
                "ok": r.ok,
                "severity": r.severity,
                "element_count": r.element_count,
                "unexpected_count": r.unexpected_count,
                "unexpected_percent": r.unexpected_percent,
                "mostly": r.mostly,
                "observed": r.observed,
                "message": r.message,
                "examples": [
                    _example_data(row, value, file)
                    for (row, value), file in zip(r.examples, _files(r), strict=True)
                ],
                "examples_truncated": r.examples_truncated,
                "skipped": r.skipped,
            }
            for r in dataset.results
        ],
    }
