"""The plan for one schema: every check it implies, fed by one conformed stream of batches.

`validate` is the public entry point: it checks that the schema's columns exist, then streams
the source through `Validator` (an `Accumulator`, see mlgit/data/io.py) and gathers the results.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgit.data.checks.base import Check, RowCheck, Spec
from mlgit.data.checks.columns import ColumnsCheck
from mlgit.data.checks.conform import conform_batch, type_check
from mlgit.data.checks.constraints import CONSTRAINTS
from mlgit.data.checks.expectations import EXPECTATIONS
from mlgit.data.checks.results import ERROR, CheckResult, DatasetResult
from mlgit.data.checks.unique import UniqueCheck
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlgit.data.io import FileStarts, Source
    from mlgit.data.schema import Expectation, Field, TableSchema


# what a chunk's dictionary (its values, no bounds) and null count can prove
_DICTIONARY_PROOFS = {"one value", "kept", "no nulls"}


class Validator:
    """All checks of one schema as one accumulator: conform the batch once, feed every check."""

    def __init__(self, schema: TableSchema, sample: int, root: Path | None) -> None:
        self.schema = schema
        self.sample = sample
        self.rows = 0
        self.fields = [f for f in schema.fields if f.type not in ("any",)]
        self.checks: list[Check] = []
        for f in self.fields:
            self.checks.append(type_check(f, sample))
        where = f"{schema.file}" if schema.file else "schema"
        for index, f in enumerate(schema.fields):
            self.checks.extend(_field_checks(f, sample, root, f"{where}: fields.{index}"))
        if schema.primary_key:
            self.checks.append(
                UniqueCheck("primary_key", schema.primary_key, sample=sample, nulls="fail")
            )
        for index, expectation in enumerate(schema.expectations):
            self.checks.append(
                _expectation_check(expectation, sample, root, f"{where}: expectations.{index}")
            )
        self.settled_chunks = 0  # column chunks whose checks Parquet statistics settled
        self.settled: frozenset[str] = frozenset()  # those of the row group being read
        self._reading = (self.fields, self.checks)  # the fields and checks its batches feed
        self._readers = _readers(self.checks, schema)
        self._types = {f.name: f.type for f in self.fields}

    def settle(
        self,
        group: pq.RowGroupMetaData,
        arrow_schema: pa.Schema,
        dictionary: Callable[[str], pa.Array | None] | None = None,
    ) -> list[str]:
        """The columns this row group need not read: every check on them is proven to pass by
        the row group's statistics (or, for `enum`, by the chunk's dictionary, which
        `dictionary(column)` reads on demand: a page, not the column). Their checks are
        credited now (element counts), as if the column had been read; counts
        `self.settled_chunks` (one per column per row group).

        Until the next call, `update` expects batches without these columns and feeds none of
        their checks."""
        from mlgit.data.statistics import (
            chunk_statistics,
            complete_dictionary,
            flat_chunks,
            proven,
            with_dictionary,
        )

        chunks = flat_chunks(group, arrow_schema) if self._readers else {}
        settled: dict[str, int] = {}  # column -> its non-null values
        for name, checks in self._readers.items():
            if name not in chunks:
                continue
            chunk, arrow_type = chunks[name]
            ftype = self._types.get(name, "any")

            def all_proven(stats, checks=checks, name=name, ftype=ftype) -> bool:
                return stats is not None and all(
                    isinstance(c, RowCheck)
                    and c.proof is not None
                    and proven(c.proof, c.passes, name, stats, ftype)
                    for c in checks
                )

            stats = chunk_statistics(chunk, group.num_rows, arrow_type)
            proofs = {c.proof if isinstance(c, RowCheck) else None for c in checks}
            if (
                not all_proven(stats)
                and dictionary is not None
                and "one value" in proofs
                and proofs <= _DICTIONARY_PROOFS
                and complete_dictionary(chunk)
            ):
                values = dictionary(name)
                if values is not None:
                    stats = with_dictionary(chunk, group.num_rows, arrow_type, values)
            if stats is not None and all_proven(stats):
                settled[name] = stats.rows - stats.nulls
        for name, elements in settled.items():
            for check in self._readers[name]:
                assert isinstance(check, RowCheck)
                check.credit(elements)
        self.settled = frozenset(settled)
        self.settled_chunks += len(settled)
        self._reading = (
            [f for f in self.fields if f.name not in self.settled],
            [c for c in self.checks if not self.settled.intersection(c.columns_read)],
        )
        return list(settled)

    def see(self, names: list[str]) -> None:
        for check in self.checks:
            if isinstance(check, ColumnsCheck):
                check.see(names)

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        self.rows += batch.num_rows
        fields, checks = self._reading
        batch = conform_batch(batch, fields)
        for check in checks:
            check.update(batch, first_row)

    def merge(self, other: Validator) -> None:
        self.rows += other.rows
        self.settled_chunks += other.settled_chunks
        for mine, theirs in zip(self.checks, other.checks, strict=True):
            mine.merge(theirs)

    def failing(self) -> bool:
        return any(c.severity == ERROR and c.failing() for c in self.checks)

    def results(self, stopped: bool) -> tuple[CheckResult, ...]:
        if not stopped:
            return tuple(c.result() for c in self.checks)
        return tuple(c.result() if isinstance(c, RowCheck) else c.skipped() for c in self.checks)


def _readers(checks: list[Check], schema: TableSchema) -> dict[str, list[Check]]:
    """Each column some check reads, with those checks; none when a custom function reads
    every column (statistics then settle nothing)."""
    if any(e.expect == "custom" for e in schema.expectations):
        return {}
    readers: dict[str, list[Check]] = {}
    for check in checks:
        for column in check.columns_read:
            readers.setdefault(column, []).append(check)
    return readers


def _field_checks(f: Field, sample: int, root: Path | None, where: str = "") -> list[Check]:
    checks = []
    for key, value in f.constraints.items():
        if key in ("required", "unique") and not value:
            continue
        spec = Spec(
            key,
            f.name,
            value,
            f.severity or ERROR,
            sample,
            ftype=f.type,
            root=root,
            where=f"{where}.constraints.{key}",
        )
        checks.append(CONSTRAINTS[key](spec))
    return checks


def _expectation_check(e: Expectation, sample: int, root: Path | None, where: str) -> Check:
    options = dict(e.options)
    spec = Spec(
        name=e.expect,
        column=options.get("column"),
        value=options.get("function"),
        severity=e.severity,
        sample=sample,
        options=options,
        root=root,
        where=where,
    )
    return EXPECTATIONS[e.expect](spec)


def needed_columns(schema: TableSchema, available: list[str]) -> list[str] | None:
    """The columns the checks read (None: all of them, for custom functions)."""
    if any(e.expect == "custom" for e in schema.expectations):
        return None
    wanted = {f.name for f in schema.fields} | set(schema.primary_key)
    for e in schema.expectations:
        if e.expect != "columns":
            wanted |= {e.get("column")} | set(e.get("columns") or ())
    return [c for c in available if c in wanted]


@dataclass(frozen=True)
class ReadPlan:
    """How `validate` reads a source for a schema: the file's columns, and reader options."""

    arrow: pa.Schema  # the first file's schema
    names: list[str]  # its columns
    columns: list[str] | None  # those the checks read (None: all)
    column_types: dict[str, pa.DataType] | None  # CSV: typed fields read as text
    null_values: list[str]
    dictionary_columns: list[str]  # Parquet text fields read as dictionaries


def read_plan(source: Source, schema: TableSchema) -> ReadPlan:
    """The schema's columns checked against the source (MlgitError naming the first missing
    one), and the options its batches are read with."""
    from mlgit.data import io
    from mlgit.data.schema import duplicate_column_error

    arrow_schema = io.read_schema(source)
    names = list(arrow_schema.names)
    duplicate = duplicate_column_error(source.label, names)
    if duplicate:  # a reader would keep one of them (which one depends on the format)
        raise duplicate
    where = schema.file or "the schema"
    missing = [f.name for f in schema.fields if f.name not in names]
    if missing:
        index = next(i for i, f in enumerate(schema.fields) if f.name == missing[0])
        raise MlgitError(
            f"{where}: fields.{index}.name: column {missing[0]!r} is not in {source.label} "
            f"(its columns: {', '.join(names)}); fix the schema or the data"
        )
    for index, e in enumerate(schema.expectations):
        for column in [e.get("column"), *(e.get("columns") or ())] if e.expect != "columns" else []:
            if column is not None and column not in names:
                raise MlgitError(
                    f"{where}: expectations.{index}: column {column!r} is not in {source.label} "
                    f"(its columns: {', '.join(names)}); fix the schema or the data"
                )
    columns = needed_columns(schema, names)
    column_types = None
    if source.format == "csv":
        import pyarrow as pa

        column_types = {f.name: pa.string() for f in schema.fields if f.type != "any"}
    dictionary_columns = []
    if columns is not None:  # custom functions see every column as read: keep them plain
        text_fields = [f.name for f in schema.fields if f.type == "string"]
        dictionary_columns = io.dictionary_encoded(source, text_fields)
    return ReadPlan(
        arrow_schema, names, columns, column_types, schema.null_values, dictionary_columns
    )


def dataset_result(
    source: Source,
    schema: TableSchema,
    validator: Validator,
    plan: ReadPlan,
    stopped: bool,
    starts: FileStarts | None = None,
) -> DatasetResult:
    """The results of a `Validator` fed the whole source (or stopped early); with `starts`,
    examples name the file of a dataset of several files."""
    validator.see(plan.names)
    results = validator.results(stopped)
    if starts is not None:
        results = tuple(_in_files(r, starts) for r in results)
    return DatasetResult(
        dataset=source.label,
        ok=not any(r.severity == ERROR and not r.ok for r in results),
        results=results,
        row_count=validator.rows,
        source=source.label,
        schema=str(schema.file) if schema.file else None,
        stopped_early=stopped,
        settled_chunks=validator.settled_chunks,
    )


def validate(
    source: Source,
    schema: TableSchema,
    *,
    sample: int = 20,
    fail_fast: bool = False,
    root: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> DatasetResult:
    """Every rule of `schema` over `source`, streamed; the public entry point of validation."""
    from mlgit.data import io

    plan = read_plan(source, schema)
    new = lambda: Validator(schema, sample, root)  # noqa: E731
    starts = io.FileStarts() if len(source.files) > 1 else None
    try:
        validator, stopped = io.scan_until(
            source,
            new,
            columns=plan.columns,
            column_types=plan.column_types,
            null_values=plan.null_values,
            stop=(lambda v: v.failing()) if fail_fast else None,
            progress=progress,
            workers=min(os.cpu_count() or 1, 4),
            dictionary_columns=plan.dictionary_columns or None,
            starts=starts,
        )
    except io.PartialRead as partial:  # the report of every other file, and the error
        result = dataset_result(source, schema, partial.state, plan, False, starts)
        return dataclasses.replace(
            result,
            ok=False,
            unreadable=tuple(partial.errors),
            results=(*result.results, unreadable_result(partial.errors)),
        )
    return dataset_result(source, schema, validator, plan, stopped, starts)


def unreadable_result(errors: list[str]) -> CheckResult:
    """A failing row naming the files that could not be read (their rows are not counted)."""
    return CheckResult(
        check="readable",
        column=None,
        ok=False,
        severity=ERROR,
        element_count=len(errors),
        unexpected_count=len(errors),
        unexpected_percent=None,
        mostly=None,
        examples=tuple((None, e) for e in errors[:20]),
        examples_truncated=len(errors) > 20,
        message=f"{len(errors)} file(s) or row groups could not be read and are not counted "
        "(every other part is): " + "; ".join(errors[:3]),
    )


def _in_files(result: CheckResult, starts: FileStarts) -> CheckResult:
    """`result` with each example's row counted in its own file, and that file named."""
    import dataclasses

    if not result.examples:
        return result
    examples, files = [], []
    for row, value in result.examples:
        name, local = starts.locate(row) if row is not None else (None, row)
        examples.append((local, value))
        files.append(name)
    return dataclasses.replace(result, examples=tuple(examples), example_files=tuple(files))
