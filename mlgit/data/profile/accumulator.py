"""The profile accumulator: one state per column, fed batch by batch (on a thread pool for big
batches), merged across parts, and the entry points that build and merge whole profiles."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from mlgit.data.io import Source
from mlgit.data.profile.files import SCHEMA_VERSION
from mlgit.data.profile.kinds import (
    CATEGORICAL,
    NUMERIC,
    column_kind,
    counts_distinct,
    in_reference_unit,
)
from mlgit.data.profile.states import CategoricalState, CountState, NumericState
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import pyarrow as pa

_STATES: dict[str, type[NumericState | CategoricalState]] = {
    NUMERIC: NumericState,
    CATEGORICAL: CategoricalState,
}
PARALLEL_ROWS = 65_536  # smaller batches are profiled on the calling thread
_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor | None:
    """One shared pool for the process, or None on a single core."""
    workers = min(4, os.cpu_count() or 1)
    if workers < 2:
        return None
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(workers, thread_name_prefix="mlgit-profile"))
    return _POOL[0]


# ---------------------------------------------------------------- the accumulator
class ProfileAccumulator:
    """`mlgit.data.io.Accumulator` building a profile; `layout` is the reference profile whose
    bin edges and categories the current data is binned with; `schema` is the data's own, whose
    types the profile records (a string column may be read as a dictionary)."""

    def __init__(
        self, layout: dict[str, Any] | None = None, schema: pa.Schema | None = None
    ) -> None:
        self.layout = layout
        self.types = {} if schema is None else dict(zip(schema.names, schema.types, strict=True))
        self.casts: dict[str, pa.DataType] = {}  # temporal columns read in the reference's unit
        self.rows = 0
        self.columns: dict[str, Any] = {}
        self._pending: list[Future] = []

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        """Columns are independent: big batches are profiled column by column on a thread
        pool (numpy and Arrow kernels release the GIL) while the caller reads the next batch;
        at most one batch is in flight, so memory stays bounded."""
        self.rows += batch.num_rows
        work = []
        for name, array in zip(batch.schema.names, batch.columns, strict=True):
            state = self.columns.get(name)
            if state is None:
                dtype = self.types.get(name, array.type)
                cast = in_reference_unit(dtype, self._reference(name).get("type", ""))
                if cast is not None:
                    self.casts[name] = dtype = cast
                state = self.columns[name] = self._new_state(name, dtype)
            if name in self.casts:
                array = array.cast(self.casts[name], safe=False)
            work.append((state, array))
        pool = _pool() if batch.num_rows >= PARALLEL_ROWS else None
        self.wait()
        if pool is None:
            for state, array in work:
                state.update(array)
        else:
            self._pending = [pool.submit(state.update, array) for state, array in work]

    def add_columns(self, schema: pa.Schema, only: list[str] | None = None) -> None:
        """States for the columns of `schema` no batch has shown yet."""
        for field in schema:
            if field.name not in self.columns and (only is None or field.name in only):
                self.columns[field.name] = self._new_state(field.name, field.type)

    def wait(self) -> None:
        """Finish the batch in flight (and raise what it raised)."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def _reference(self, name: str) -> dict[str, Any]:
        """The reference profile's column `name` ({} when there is none)."""
        return ((self.layout or {}).get("columns") or {}).get(name) or {}

    def _new_state(self, name: str, dtype: pa.DataType) -> Any:
        kind = column_kind(dtype)
        reference = self._reference(name)
        # distinct values matter in the reference only (drift skips identifier-like columns)
        distinct = self.layout is None and counts_distinct(dtype)
        if kind == NUMERIC:
            edges = (reference.get("histogram") or {}).get("edges")
            return NumericState(
                str(dtype),
                edges if reference.get("kind") == NUMERIC else None,
                distinct,
            )
        if kind == CATEGORICAL:
            keep = [item["value"] for item in reference.get("top") or []]
            return CategoricalState(str(dtype), keep, distinct)
        return CountState(str(dtype), kind)

    def merge(self, other: ProfileAccumulator) -> None:
        self.wait()
        other.wait()
        self.rows += other.rows
        for name, state in other.columns.items():
            mine = self.columns.get(name)
            if mine is None:
                self.columns[name] = state
            elif type(mine) is not type(state):
                raise MlgitError(
                    f"column {name!r} is {mine.type} in one part and {state.type} in another; "
                    "make the files of the dataset share one schema"
                )
            else:
                mine.merge(state)

    def profile(self, source: str) -> dict[str, Any]:
        from mlgit import __version__

        self.wait()
        return {
            "schema_version": SCHEMA_VERSION,
            "source": source,
            "rows": self.rows,
            "created_by": f"mlgit {__version__}",
            "columns": {name: state.to_dict() for name, state in self.columns.items()},
        }

    @classmethod
    def from_profile(cls, profile: dict[str, Any]) -> ProfileAccumulator:
        """The state a profile file was written from, to merge more data or profiles into."""
        new = cls()
        new.rows = profile["rows"]
        for name, column in profile["columns"].items():
            state_cls = _STATES.get(column["kind"])
            new.columns[name] = (
                state_cls.from_dict(column) if state_cls else CountState.from_dict(column)
            )
        return new


# ---------------------------------------------------------------- entry points
def build(
    source: Source,
    layout: dict[str, Any] | None = None,
    columns: list[str] | None = None,
) -> dict[str, Any]:
    """The profile of a dataset, streamed batch by batch (binned on `layout`'s edges if given)."""
    from mlgit.data.io import scan

    schema, dictionary_columns = read_plan(source, columns)
    accumulator = scan(
        source,
        lambda: ProfileAccumulator(layout, schema),
        columns=columns,
        dictionary_columns=dictionary_columns,
    )
    return finish(accumulator, source, schema, columns)


def read_plan(
    source: Source, columns: list[str] | None = None
) -> tuple[pa.Schema | None, list[str]]:
    """The data's own schema (Parquet; None for text formats, whose types the reader guesses)
    and the text columns read as dictionaries: counted per dictionary entry instead of per row
    (see CategoricalState.update)."""
    import pyarrow as pa

    from mlgit.data.io import dictionary_encoded, read_schema

    schema = read_schema(source) if source.format == "parquet" else None
    text = [
        field.name
        for field in schema or ()
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
        if columns is None or field.name in columns
    ]
    return schema, dictionary_encoded(source, text)


def finish(
    accumulator: ProfileAccumulator,
    source: Source,
    schema: pa.Schema | None,
    columns: list[str] | None = None,
) -> dict[str, Any]:
    """The profile of an accumulator fed the whole source."""
    from mlgit.data.io import read_schema

    if accumulator.rows == 0:  # no batch came, yet the columns exist: profile them as empty
        accumulator.add_columns(schema or read_schema(source), columns)
    return accumulator.profile(source.label)


def merge_profiles(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The profile of the union of the data two profiles were built from."""
    accumulator = ProfileAccumulator.from_profile(first)
    accumulator.merge(ProfileAccumulator.from_profile(second))
    return accumulator.profile(f"{first['source']} + {second['source']}")
