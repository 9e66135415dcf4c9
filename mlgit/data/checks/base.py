"""The shape of a check, and what a factory gets to build one.

Every check is an `Accumulator` (see mlgit/data/io.py): `update(batch, first_row)` folds one
batch into a small state, `merge(other)` folds in the state of another part of the data, and
`result()` turns the state into a frozen `CheckResult`. Row rules share `RowCheck` (a mask per
batch), so a new row rule is a function from a batch to a boolean mask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

from mlgit.data.checks.results import ERROR, CheckResult

if TYPE_CHECKING:
    import pyarrow as pa

# What a Parquet row group's statistics must show for a row rule to pass on every value of it
# (mlgit/data/statistics.py decides): "bounds", the rule holds for the column's min and max and
# is monotone between them; "one value", min == max and the rule holds for it (or it holds for
# every entry of the chunk's complete dictionary page, see statistics.py); "no nulls", the
# null count is 0; "kept", nothing more than the column being read as it is stored.
Proof = Literal["bounds", "one value", "no nulls", "kept"]


@dataclass
class Examples:
    """The first `limit` failing (row, value) pairs, kept in row order across merges."""

    limit: int
    items: list[tuple[int | None, Any]] = field(default_factory=list)

    def room(self) -> int:
        return self.limit - len(self.items)

    def add(self, rows: list[int], values: list[Any]) -> None:
        self.items.extend(zip(rows, values, strict=True))

    def merge(self, other: Examples) -> None:
        self.items = sorted(self.items + other.items, key=lambda item: item[0] or 0)[: self.limit]


class Check:
    """Base of all checks: a name, a column, a severity; subclasses keep the state."""

    name: str
    column: str | None
    severity: str
    mostly: float | None = None

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def merge(self, other: Self) -> None:  # pragma: no cover
        raise NotImplementedError

    def result(self) -> CheckResult:  # pragma: no cover
        raise NotImplementedError

    def failing(self) -> bool:
        """True once this check is known to fail (used by --fail-fast between batches)."""
        return False

    @property
    def columns_read(self) -> tuple[str, ...]:
        """The columns whose values this check reads from a batch."""
        return (self.column,) if self.column else ()

    def skipped(self) -> CheckResult:
        return CheckResult(
            check=self.name,
            column=self.column,
            ok=False,
            severity=self.severity,
            element_count=0,
            unexpected_count=None,
            unexpected_percent=None,
            mostly=self.mostly,
            examples=(),
            examples_truncated=False,
            message="not evaluated: --fail-fast stopped the scan at the first failure",
            skipped=True,
        )


def counted(
    check: Check, elements: int, unexpected: int, examples: Examples, what: str
) -> CheckResult:
    """A CheckResult for a rule that counts failing values, with GE's `mostly` semantics."""
    percent = 100.0 * unexpected / elements if elements else 0.0
    if check.mostly is None:
        ok = unexpected == 0
    else:
        ok = elements == 0 or (elements - unexpected) / elements >= check.mostly
    shown = len(examples.items)
    if unexpected:
        message = f"{unexpected} of {elements} values {what} ({percent:.3g}%)"
        if check.mostly is not None:
            message += f"; at least {check.mostly:.4g} must pass"
        if shown < unexpected:
            message += f"; showing the first {shown}"
    else:
        message = f"all {elements} values pass"
    return CheckResult(
        check=check.name,
        column=check.column,
        ok=ok,
        severity=check.severity,
        element_count=elements,
        unexpected_count=unexpected,
        unexpected_percent=percent,
        mostly=check.mostly,
        examples=tuple(examples.items),
        examples_truncated=shown < unexpected,
        message=message,
    )


class RowCheck(Check):
    """A rule decided value by value: `passes(batch)` is a boolean mask, null = not counted
    (or None when every non-null value of the column is known to pass)."""

    def __init__(
        self,
        name: str,
        column: str | None,
        passes: Callable[[pa.RecordBatch], pa.Array | None],
        *,
        severity: str = ERROR,
        mostly: float | None = None,
        sample: int = 20,
        what: str = "fail",
        example_column: str | None = None,
        proof: Proof | None = None,
    ) -> None:
        self.name, self.column, self.severity, self.mostly = name, column, severity, mostly
        self.passes = passes
        self.proof = proof  # how Parquet statistics may prove it passes (None: they cannot)
        self.what = what
        self.example_column = example_column or column
        self.elements = 0
        self.unexpected = 0
        self.examples = Examples(sample)

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        import pyarrow.compute as pc

        ok = self.passes(batch)
        if ok is None:  # known to pass without a mask: count the values only
            column = batch.column(self.column)
            self.elements += len(column) - column.null_count
            return
        self.elements += len(ok) - ok.null_count
        failed = pc.invert(ok)  # a null stays null: sum and indices_nonzero skip it
        count = pc.sum(failed).as_py() or 0
        if not count:
            return
        self.unexpected += count
        room = self.examples.room()
        if room > 0:
            where = pc.indices_nonzero(failed)[:room]
            values = (
                batch.column(self.example_column).take(where).to_pylist()
                if self.example_column
                else [None] * len(where)
            )
            self.examples.add([first_row + i for i in where.to_pylist()], values)

    def credit(self, elements: int) -> None:
        """Count `elements` values known to pass without reading them (see `proof`)."""
        self.elements += elements

    def merge(self, other: RowCheck) -> None:
        self.elements += other.elements
        self.unexpected += other.unexpected
        self.examples.merge(other.examples)

    def failing(self) -> bool:
        return self.mostly is None and self.unexpected > 0

    def result(self) -> CheckResult:
        return counted(self, self.elements, self.unexpected, self.examples, self.what)


@dataclass(frozen=True)
class Spec:
    """Everything a factory needs to build one check."""

    name: str
    column: str | None
    value: Any
    severity: str
    sample: int
    options: dict[str, Any] = field(default_factory=dict)
    ftype: str = "any"
    root: Path | None = None
    where: str = ""  # "schemas/x.schema.yaml: expectations.2" for errors

    def row_check(
        self,
        passes: Callable[[pa.RecordBatch], pa.Array],
        what: str = "",
        name: str = "",
        proof: Proof | None = None,
    ) -> RowCheck:
        """A row check of this spec: its name, column, severity, `mostly` and sample."""
        return RowCheck(
            name or self.name,
            self.column,
            passes,
            severity=self.severity,
            mostly=self.options.get("mostly"),
            sample=self.sample,
            proof=proof,
            **({"what": what} if what else {}),
        )

    @property
    def named_column(self) -> str:
        """`column` for a check on one column: a constraint's field, or an expectation the
        schema document requires a `column:` for."""
        assert self.column is not None, f"{self.where}: no column"
        return self.column
