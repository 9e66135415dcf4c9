"""A profile laid out: one row per column; the JSON format is the profile document itself.

Temporal columns are profiled as numbers (epoch units, days); they are shown as ISO dates and
times here, and their standard deviation as a duration."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from mlgit.report import OK, Report, Table

COLUMNS = ("column", "kind", "type", "missing", "min", "median", "max", "mean", "std", "top values")
_TEMPORAL = re.compile(r"(timestamp|date32|date64|time32|time64|duration)\[(\w+)")
_DICTIONARY = re.compile(r"dictionary<values=([^,]+), indices=\w+, ordered=\d>")
_UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "day": 86400.0}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def seconds_of(value: float, dtype: str) -> tuple[str, float] | None:
    """(temporal kind, `value` in seconds) for a temporal Arrow type, else None."""
    found = _TEMPORAL.match(dtype)
    if found is None or found.group(2) not in _UNIT_SECONDS:
        return None
    return found.group(1), value * _UNIT_SECONDS[found.group(2)]


def _duration(seconds: float) -> str:
    if abs(seconds) >= 86400:
        return f"{seconds / 86400:.4g} days"
    return f"{seconds / 3600:.4g} h" if abs(seconds) >= 3600 else f"{seconds:.4g} s"


def temporal(value: Any, dtype: str, dates_only: bool = False) -> Any:
    """`value` as an ISO date/time when `dtype` (an Arrow type) is temporal, else unchanged."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return value
    found = seconds_of(value, dtype)
    if found is None:
        return value
    kind, seconds = found
    if kind == "duration":
        return _duration(seconds)
    try:
        moment = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return value
    if kind in ("time32", "time64"):
        return moment.time().isoformat(timespec="seconds")
    if kind.startswith("date") or dates_only or moment.time() == datetime.min.time():
        return moment.date().isoformat()
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")


def temporal_spread(value: Any, dtype: str) -> Any:
    """A standard deviation of a temporal column as a duration."""
    found = seconds_of(value, dtype) if isinstance(value, int | float) else None
    return _duration(found[1]) if found else value


def _at_midnight(value: Any, dtype: str) -> bool:
    found = seconds_of(value, dtype) if isinstance(value, int | float) else None
    return found is not None and found[1] % 86400 == 0


def _row(name: str, column: dict[str, Any]) -> tuple[Any, ...]:
    from mlgit.data.drift import identifier_like

    missing = f"{column['null_count']} of {column['count']}"
    if identifier_like(column):
        top = f"{column['distinct']} distinct (identifier-like)"
    else:
        top = ", ".join(f"{t['value']} ({t['count']})" for t in (column.get("top") or [])[:3])
    quantiles = column.get("quantiles") or {}
    dtype = column["type"]
    # daily data (min and max at midnight) shows dates: sketch quantiles are approximate
    daily = _at_midnight(column.get("min"), dtype) and _at_midnight(column.get("max"), dtype)

    def value(number: Any) -> Any:
        if "distinct" in column and isinstance(number, float):
            return round(number)  # integer columns (e.g. ids) in full, not as 1e+07
        return temporal(number, dtype, daily)

    return (
        name,
        column["kind"],
        _DICTIONARY.sub(r"\1", dtype),  # dictionary-encoded is how it is stored, not its type
        missing,
        value(column.get("min")),
        value(quantiles.get("0.5")),
        value(column.get("max")),
        temporal(column.get("mean"), dtype, daily),
        temporal_spread(column.get("std"), dtype),
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
