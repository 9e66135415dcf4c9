"""A profile laid out: one row per column; the JSON format is the profile document itself."""

from __future__ import annotations

from typing import Any

from mlgit.report import OK, Report, Table

COLUMNS = ("column", "kind", "type", "missing", "min", "median", "max", "mean", "std", "top values")


def _row(name: str, column: dict[str, Any]) -> tuple[Any, ...]:
    missing = f"{column['null_count']} of {column['count']}"
    top = ", ".join(f"{t['value']} ({t['count']})" for t in (column.get("top") or [])[:3])
    quantiles = column.get("quantiles") or {}
    return (
        name,
        column["kind"],
        column["type"],
        missing,
        column.get("min"),
        quantiles.get("0.5"),
        column.get("max"),
        column.get("mean"),
        column.get("std"),
        top or None,
    )


def build(profile: dict[str, Any], written: str | None) -> Report:
    rows = tuple(_row(name, column) for name, column in profile["columns"].items())
    where = f"; written to {written}" if written else ""
    return Report(
        command="profile",
        title=f"Profile of {profile['source']}",
        status=OK,
        summary=f"{profile['rows']} rows, {len(rows)} columns{where}",
        tables=(Table("Columns", COLUMNS, rows),),
        data=profile,
    )
