"""Validation and drift from one read of a dataset.

`mlgit monitor` checks a production sample against the training dataset's schema and profiles
it on the reference profile's layout. Both are `Accumulator`s (see mlgit/data/io.py), so one
scan feeds both: the batch is read once with the union of what each reads (every column; the
text columns either reads as a dictionary), and each is handed the view its own scan would have
given it (its columns; the dictionaries it did not ask for decoded), so the results are the
ones `validate` and `drift.compare_source` give.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.data import drift
from mlgit.data.checks.validator import Validator, dataset_result, read_plan, validate
from mlgit.data.profile import accumulator

if TYPE_CHECKING:
    import pyarrow as pa

    from mlgit.data.checks.results import DatasetResult
    from mlgit.data.io import Source
    from mlgit.data.schema import TableSchema


class Both:
    """One batch fed to a `Validator` and a `ProfileAccumulator`, each seeing it as read for
    itself: `validator_columns` (None: all), and only its own dictionary-encoded columns."""

    def __init__(
        self,
        validator: Validator,
        profile: accumulator.ProfileAccumulator,
        validator_columns: list[str] | None,
        validator_dictionaries: list[str],
        profile_dictionaries: list[str],
    ) -> None:
        self.validator = validator
        self.profile = profile
        self.validator_columns = validator_columns
        self.validator_dictionaries = set(validator_dictionaries)
        self.profile_dictionaries = set(profile_dictionaries)

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        # the profile's big batches go to its thread pool while the validator checks this one
        self.profile.update(_view(batch, None, self.profile_dictionaries), first_row)
        self.validator.update(
            _view(batch, self.validator_columns, self.validator_dictionaries), first_row
        )

    def merge(self, other: Both) -> None:
        self.validator.merge(other.validator)
        self.profile.merge(other.profile)


def _view(
    batch: pa.RecordBatch, columns: list[str] | None, dictionaries: set[str]
) -> pa.RecordBatch:
    """`batch` cut to `columns` (None: all), with the dictionary columns not in `dictionaries`
    decoded to the plain arrays a read without `read_dictionary` gives."""
    import pyarrow as pa

    if columns is not None and columns != batch.schema.names:
        batch = batch.select(columns)
    names = batch.schema.names
    decode = [
        index
        for index, field in enumerate(batch.schema)
        if pa.types.is_dictionary(field.type) and field.name not in dictionaries
    ]
    if not decode:
        return batch
    arrays = list(batch.columns)
    for index in decode:
        arrays[index] = arrays[index].dictionary_decode()
    return pa.RecordBatch.from_arrays(arrays, names=names)


def validate_and_drift(
    name: str,
    source: Source,
    schema: TableSchema,
    reference: dict[str, Any],
    rules: drift.Settings,
    label: str = "",
    *,
    sample: int = 20,
    root: Path | None = None,
) -> tuple[DatasetResult, drift.DriftResult]:
    """`validate(source, schema)` and `drift.compare_source(name, reference, source, ...)`,
    from one read of `source` when the two reads agree (see `_one_read`), else from two."""
    from mlgit.data import io

    if not _one_read(source, schema):
        result = validate(source, schema, sample=sample, root=root)
        return result, drift.compare_source(name, reference, source, rules, label)
    plan = read_plan(source, schema)  # the schema's columns first, as `validate` does
    drift.check_source(reference, source, rules, label, schema=plan.arrow)
    arrow, profile_dictionaries = accumulator.read_plan(source)
    new = lambda: Both(  # noqa: E731
        Validator(schema, sample, root),
        accumulator.ProfileAccumulator(reference, arrow),
        plan.columns,
        plan.dictionary_columns,
        profile_dictionaries,
    )
    # one thread, as `profile.build` reads: `validate` alone scans Parquet row groups on
    # several threads and merges their states, which gives the same validation results but
    # would sum the profile's moments in another order (float results a last bit apart)
    both = io.scan(
        source,
        new,
        columns=None,  # the profile reads every column
        column_types=plan.column_types,
        null_values=plan.null_values,
        dictionary_columns=sorted({*plan.dictionary_columns, *profile_dictionaries}) or None,
    )
    current = accumulator.finish(both.profile, source, arrow)
    result = dataset_result(source, schema, both.validator, plan, stopped=False)
    return result, drift.compare(name, reference, current, rules)


def _one_read(source: Source, schema: TableSchema) -> bool:
    """Whether the validator's reader options read the same values as the profile's.

    Parquet ignores the text options and JSON Lines gets none from either. A CSV file is read
    by the validator with its typed fields as text and the schema's `missingValues` as nulls,
    and by the profile with the types pyarrow guesses and "" as the only null: one read cannot
    give both (the raw text of "1.50" is gone once read as a number, and a "NA" read as null is
    not the text "NA"), so a CSV file is read twice unless neither option differs."""
    if source.format != "csv":
        return True
    return all(f.type == "any" for f in schema.fields) and schema.null_values == [""]
