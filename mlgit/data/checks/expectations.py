"""Dataset-level expectations (the schema's `expectations` list), by name.

`EXPECTATIONS` maps `expect:` in the schema file to a factory taking a `Spec`; adding an
expectation is adding one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mlgit.data.checks.aggregates import (
    Moments,
    NullFraction,
    Quantile,
    RowCount,
    UniqueFraction,
    bounds,
)
from mlgit.data.checks.base import Check, Spec
from mlgit.data.checks.columns import ColumnsCheck
from mlgit.data.checks.conform import per_value
from mlgit.data.checks.constraints import in_set
from mlgit.data.checks.custom import custom
from mlgit.data.checks.scalars import scalar
from mlgit.data.checks.unique import UniqueCheck

if TYPE_CHECKING:
    import pyarrow as pa


def _values_between(spec: Spec) -> Check:
    import pyarrow.compute as pc

    low, high = spec.options.get("min"), spec.options.get("max")

    def rule(column: pa.Array) -> pa.Array:
        checks = []
        if low is not None:
            checks.append(pc.greater_equal(column, scalar(low, column.type)))
        if high is not None:
            checks.append(pc.less_equal(column, scalar(high, column.type)))
        return checks[0] if len(checks) == 1 else pc.and_(*checks)

    def passes(batch: pa.RecordBatch) -> pa.Array:
        return per_value(batch.column(spec.column), rule)

    return spec.row_check(passes, f"are not {bounds(low, high)}", proof="bounds")


EXPECTATIONS: dict[str, Callable[[Spec], Check]] = {
    "row_count": lambda s: RowCount(s.options.get("min"), s.options.get("max"), s.severity),
    "columns": lambda s: ColumnsCheck(
        tuple(s.options["columns"]),
        bool(s.options.get("ordered", False)),
        bool(s.options.get("allow_extra", False)),
        s.severity,
    ),
    "null_fraction": lambda s: NullFraction(
        s.named_column, s.options.get("min"), s.options.get("max"), s.severity
    ),
    "mean": lambda s: Moments(
        "mean", s.named_column, s.options.get("min"), s.options.get("max"), s.severity, s.where
    ),
    "stdev": lambda s: Moments(
        "stdev", s.named_column, s.options.get("min"), s.options.get("max"), s.severity, s.where
    ),
    "quantile": lambda s: Quantile(
        s.named_column,
        s.options["q"],
        s.options.get("min"),
        s.options.get("max"),
        s.severity,
        s.where,
    ),
    "values_between": _values_between,
    "values_in_set": lambda s: in_set(
        Spec(s.name, s.column, s.options["values"], s.severity, s.sample, s.options)
    ),
    "unique_fraction": lambda s: UniqueFraction(
        s.named_column, s.options.get("min"), s.options.get("max"), s.severity
    ),
    "compound_unique": lambda s: UniqueCheck(
        "compound_unique",
        tuple(s.options["columns"]),
        severity=s.severity,
        mostly=s.options.get("mostly"),
        sample=s.sample,
        nulls="keep",
    ),
    "custom": custom,
}
