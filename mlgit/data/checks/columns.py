"""The `columns` expectation: the set (and order) of a dataset's columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgit.data.checks.base import Check
from mlgit.data.checks.results import CheckResult

if TYPE_CHECKING:
    import pyarrow as pa


class ColumnsCheck(Check):
    """The set (and order) of columns: decided from the data's schema, before any row."""

    def __init__(
        self, columns: tuple[str, ...], ordered: bool, allow_extra: bool, severity: str
    ) -> None:
        self.name, self.column, self.severity = "columns", None, severity
        self.expected, self.ordered, self.allow_extra = columns, ordered, allow_extra
        self.actual: tuple[str, ...] = ()

    def see(self, names: list[str]) -> None:
        self.actual = tuple(names)

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        pass  # decided by see()

    def merge(self, other: ColumnsCheck) -> None:
        self.actual = self.actual or other.actual

    def result(self) -> CheckResult:
        missing = [c for c in self.expected if c not in self.actual]
        extra = [] if self.allow_extra else [c for c in self.actual if c not in self.expected]
        order_ok = True
        if self.ordered and not missing:
            present = [c for c in self.actual if c in self.expected]
            order_ok = tuple(present) == self.expected
        problems = []
        if missing:
            problems.append(f"missing: {', '.join(missing)}")
        if extra:
            problems.append(f"unexpected: {', '.join(extra)}")
        if not order_ok:
            problems.append(f"order is {', '.join(self.actual)}")
        unexpected = len(missing) + len(extra) + (0 if order_ok else 1)
        return CheckResult(
            check="columns",
            column=None,
            ok=not problems,
            severity=self.severity,
            element_count=len(self.expected),
            unexpected_count=unexpected,
            unexpected_percent=100.0 * unexpected / max(len(self.expected), 1),
            mostly=None,
            examples=(),
            examples_truncated=False,
            message="; ".join(problems) or f"all {len(self.expected)} columns as expected",
            observed=list(self.actual),
        )
