"""A profile laid out: one row per column; the JSON format is the profile document itself.

Temporal columns are profiled as numbers (epoch units, days); they are shown as ISO dates and
times here, and their standard deviation as a duration."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from mlgit.data.profile import CATEGORICAL, NUMERIC, TEMPORAL_TYPE
from mlgit.report import OK, Report, Table

NUMERIC_COLUMNS = ("column", "type", "missing", "min", "median", "max", "mean", "std")
CATEGORICAL_COLUMNS = ("column", "type", "missing", "distinct", "top values")
OTHER_COLUMNS = ("column", "type", "kind", "missing")
_DICTIONARY = re.compile(r"dictionary<values=([^,]+), indices=\w+, ordered=\d>")
_UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "day": 86400.0}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def seconds_of(value: float, dtype: str) -> tuple[str, float] | None:
    """(temporal kind, `value` in seconds) for a temporal Arrow type, else None."""
    found = TEMPORAL_TYPE.fullmatch(dtype)
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


def _missing(column: dict[str, Any]) -> str:
    missing, count = column["null_count"], column["count"]
    return f"{missing} ({100 * missing / count:.1f}%)" if missing else "0"


def _type(column: dict[str, Any]) -> str:
    return _DICTIONARY.sub(r"\1", column["type"])  # dictionary-encoded is storage, not type


def _numeric_row(name: str, column: dict[str, Any]) -> tuple[Any, ...]:
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
        _type(column),
        _missing(column),
        value(column.get("min")),
        value(quantiles.get("0.5")),
        value(column.get("max")),
        temporal(column.get("mean"), dtype, daily),
        temporal_spread(column.get("std"), dtype),
    )


def _categorical_row(name: str, column: dict[str, Any], identifier: bool) -> tuple[Any, ...]:
    top = ", ".join(f"{t['value']} ({t['count']})" for t in (column.get("top") or [])[:3])
    return (
        name,
        _type(column),
        _missing(column),
        column.get("distinct"),
        "(identifier-like)" if identifier else top or None,
    )


def as_report(profile: dict[str, Any], written: str | None) -> Report:
    """One table for numeric (and temporal) columns, one for categories, one for the rest: a
    single table of every statistic is too wide to read in a 120-column log."""
    from mlgit.data.drift import identifier_like

    numeric, categorical, other, identifiers = [], [], [], []
    for name, column in profile["columns"].items():
        identifier = identifier_like(column)
        if identifier:
            identifiers.append(name)
        if column["kind"] == NUMERIC:
            numeric.append(_numeric_row(name, column))
        elif column["kind"] == CATEGORICAL:
            categorical.append(_categorical_row(name, column, identifier))
        else:
            other.append((name, _type(column), column["kind"], _missing(column)))
    tables = [
        Table(title, columns, tuple(rows))
        for title, columns, rows in (
            ("Numeric columns", NUMERIC_COLUMNS, numeric),
            ("Categorical columns", CATEGORICAL_COLUMNS, categorical),
            ("Other columns (counted only)", OTHER_COLUMNS, other),
        )
        if rows
    ]
    notes: tuple[str, ...] = ()
    if identifiers:
        notes = (
            f"identifier-like (nearly all values distinct), not compared by drift: "
            f"{', '.join(identifiers)}",
        )
    where = f"; written to {written}" if written else ""
    return Report(
        command="profile",
        title=f"Profile of {profile['source']}",
        status=OK,
        summary=f"{profile['rows']} rows, {len(profile['columns'])} columns{where}",
        tables=tuple(tables),
        notes=notes,
        data=profile,
    )
