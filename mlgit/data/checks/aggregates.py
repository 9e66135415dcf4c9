"""Aggregate checks: one number measured over the whole column must lie in [min, max].

Each keeps a mergeable summary: counts, (count, mean, M2) moments (mlgit/data/moments.py), the
values for an exact quantile, the keys for the unique fraction.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from mlgit.data.arrays import as_numpy, decoded
from mlgit.data.checks.base import Check
from mlgit.data.checks.results import CheckResult
from mlgit.data.checks.scalars import EPOCH, PER_SECOND, holds
from mlgit.data.checks.unique import KeyStore
from mlgit.data.moments import combine
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


class AggregateCheck(Check):
    """A rule on one number measured over the whole column: observed must be in [min, max]."""

    what = "value"

    def __init__(self, name: str, column: str | None, low: Any, high: Any, severity: str) -> None:
        self.name, self.column, self.severity = name, column, severity
        self.low, self.high = low, high

    def observed(self) -> tuple[float | None, int]:  # pragma: no cover
        raise NotImplementedError

    def shown(self, value: Any) -> str:
        return _fmt(value)

    def result(self) -> CheckResult:
        value, elements = self.observed()
        if value is None:
            ok, message = False, f"no values to measure {self.what} of"
        else:
            ok = (self.low is None or value >= self.low) and (
                self.high is None or value <= self.high
            )
            limits = bounds(self.low, self.high)
            message = f"{self.what} is {self.shown(value)}" + ("" if ok else f", expected {limits}")
        return CheckResult(
            check=self.name,
            column=self.column,
            ok=ok,
            severity=self.severity,
            element_count=elements,
            unexpected_count=None,
            unexpected_percent=None,
            mostly=None,
            examples=(),
            examples_truncated=False,
            message=message,
            observed=value,
        )


def bounds(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


class RowCount(AggregateCheck):
    what = "the row count"

    def __init__(self, low: Any, high: Any, severity: str) -> None:
        super().__init__("row_count", None, low, high, severity)
        self.rows = 0

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        self.rows += batch.num_rows

    def merge(self, other: RowCount) -> None:
        self.rows += other.rows

    def observed(self) -> tuple[float | None, int]:
        return self.rows, self.rows


class NullFraction(AggregateCheck):
    what = "the null fraction"

    def __init__(self, column: str, low: Any, high: Any, severity: str) -> None:
        super().__init__("null_fraction", column, low, high, severity)
        self.rows = self.nulls = 0

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        self.rows += batch.num_rows
        self.nulls += batch.column(self.column).null_count

    def merge(self, other: NullFraction) -> None:
        self.rows += other.rows
        self.nulls += other.nulls

    def observed(self) -> tuple[float | None, int]:
        return (self.nulls / self.rows if self.rows else None), self.rows


class _Measured(AggregateCheck):
    """An aggregate of a column's numbers. Dates count as days since 1970-01-01 and datetimes
    as seconds since 1970-01-01 UTC (Unix time), the numbers the bounds in the schema are."""

    dates_allowed = True
    where = ""
    temporal: pa.DataType | None = None

    def numbers(self, column: pa.Array) -> np.ndarray:
        import numpy as np
        import pyarrow as pa
        import pyarrow.types as t

        column = decoded(column)
        kind = column.type
        scale = 1.0
        if self.dates_allowed and (t.is_date(kind) or t.is_timestamp(kind)):
            self.temporal = kind
            if t.is_date64(kind):
                scale = 86_400_000.0
            elif t.is_timestamp(kind):
                scale = float(PER_SECOND[kind.unit])
            column = column.cast(pa.int64() if kind.bit_width == 64 else pa.int32())
        elif not any(
            check(kind)
            for check in (t.is_integer, t.is_floating, t.is_decimal, t.is_boolean, t.is_null)
        ):
            needs = "numbers or dates" if self.dates_allowed else "numbers"
            raise MlgitError(
                f"{self.where or self.name}: column {self.column!r} holds {holds(kind)}; "
                f"{self.name} needs {needs}"
            )
        values = as_numpy(column.drop_null(), "float64")
        if scale != 1.0:
            values = values / scale
        nan = np.isnan(values)
        return values[~nan] if nan.any() else values  # NaN is missing, as everywhere

    def shown(self, value: Any) -> str:
        import pyarrow.types as t

        if self.temporal is None:
            return _fmt(value)
        if t.is_date(self.temporal):
            day = dt.date(1970, 1, 1) + dt.timedelta(days=math.floor(value))
            return f"{_fmt(value)} days since 1970-01-01 ({day})"
        moment = EPOCH + dt.timedelta(seconds=value)
        return f"{_fmt(value)} s of Unix time ({moment.isoformat()} UTC)"


class Moments(_Measured):
    """Mean or sample standard deviation from mergeable (count, mean, M2) — Chan et al."""

    def __init__(
        self, name: str, column: str, low: Any, high: Any, severity: str, where: str = ""
    ) -> None:
        super().__init__(name, column, low, high, severity)
        self.what = "the mean" if name == "mean" else "the standard deviation"
        self.count, self.mean, self.m2 = 0, 0.0, 0.0
        self.where = where
        self.dates_allowed = name == "mean"

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        values = self.numbers(batch.column(self.column))
        if len(values):
            mean = float(values.mean())
            m2 = float(((values - mean) ** 2).sum())
            self._fold(len(values), mean, m2)

    def _fold(self, count: int, mean: float, m2: float) -> None:
        self.count, self.mean, self.m2 = combine(self.count, self.mean, self.m2, count, mean, m2)

    def merge(self, other: Moments) -> None:
        self.temporal = self.temporal or other.temporal
        if other.count:
            self._fold(other.count, other.mean, other.m2)

    def observed(self) -> tuple[float | None, int]:
        if self.name == "mean":
            return (self.mean if self.count else None), self.count
        return (math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else None), self.count


class Quantile(_Measured):
    """An exact quantile (linear interpolation, as numpy and pandas): keeps the values."""

    def __init__(
        self, column: str, q: float, low: Any, high: Any, severity: str, where: str = ""
    ) -> None:
        super().__init__("quantile", column, low, high, severity)
        self.q = q
        self.what = f"the {q:g} quantile"
        self.parts: list[np.ndarray] = []
        self.where = where

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        self.parts.append(self.numbers(batch.column(self.column)))

    def merge(self, other: Quantile) -> None:
        self.temporal = self.temporal or other.temporal
        self.parts += other.parts

    def observed(self) -> tuple[float | None, int]:
        import numpy as np

        values = np.concatenate(self.parts) if self.parts else np.empty(0)
        value = float(np.quantile(values, self.q)) if len(values) else None
        return value, len(values)


class UniqueFraction(AggregateCheck):
    what = "the unique fraction"

    def __init__(self, column: str, low: Any, high: Any, severity: str) -> None:
        super().__init__("unique_fraction", column, low, high, severity)
        self.keys = KeyStore((column,))

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        self.keys.add(batch, first_row, batch.column(self.column).is_valid())

    def merge(self, other: UniqueFraction) -> None:
        self.keys.merge(other.keys)

    def observed(self) -> tuple[float | None, int]:
        count = len(self.keys)
        return (self.keys.distinct() / count if count else None), count
