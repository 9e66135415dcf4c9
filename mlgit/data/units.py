"""Work units: the pieces a scan splits a dataset into, the one kernel that reads a piece into a
fresh accumulator, and the one order its states are merged in.

A unit is a Parquet row group (its place and size known from the footer) or a whole CSV/JSON
Lines file. Both engines run `run_unit` on the same units and `fold` their states in the same
tree, so a local scan and a Dask scan compute every count, example, moment and sketch with the
same operations in the same order: their results are identical, not merely close.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from mlgit.data.readers import BadLine, TypeChanged, footer, open_reader, parquet_file
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import pyarrow as pa

    from mlgit.data.io import Source
    from mlgit.repo.dvc import DataFile

BATCH_ROWS = 262_144
# A text file's length is unknown until it is read, so its rows are numbered from a place no
# earlier file can reach: examples still sort in file order and map back to (file, row).
FILE_STRIDE = 1 << 40


@dataclass(frozen=True)
class Unit:
    file: DataFile
    group: int | None  # the Parquet row group; None: the whole file
    first_row: int  # the number of its first row in the scan's numbering
    rows: int | None  # known from a Parquet footer; None for text files


@dataclass(frozen=True)
class Reading:
    """How every unit of one scan is read (picklable: a Dask worker gets a copy)."""

    format: str
    label: str
    single: bool  # one file: messages name the source, not source/file
    columns: list[str] | None = None
    column_types: dict[str, pa.DataType] | None = None
    null_values: list[str] | None = None
    dictionary_columns: list[str] | None = None
    statistics: bool = False  # let the accumulator settle columns from row-group statistics
    use_threads: bool = False  # pyarrow decodes a row group's columns on its own threads


@dataclass
class Part:
    """The state of some units, and the files among them that could not be read."""

    state: Any
    errors: list[str] = field(default_factory=list)
    rows: int = 0


def plan(source: Source) -> list[Unit]:
    """The units of `source`, from metadata only: Parquet footers, or the list of files."""
    if source.format != "parquet":
        return [
            Unit(data_file, None, index * FILE_STRIDE, None)
            for index, data_file in enumerate(source.files)
        ]
    units = []
    first_row = 0
    _prefetch_footers(source)
    for data_file in source.files:
        try:
            metadata = footer(data_file)
        except Exception:  # no footer: the whole file is one unit, whose read reports it
            units.append(Unit(data_file, None, first_row, 0))
            continue
        if metadata.num_row_groups == 0:  # rows: 0; the file still counts (its columns, errors)
            units.append(Unit(data_file, -1, first_row, 0))
        for index in range(metadata.num_row_groups):
            rows = metadata.row_group(index).num_rows
            units.append(Unit(data_file, index, first_row, rows))
            first_row += rows
    return units


def _prefetch_footers(source: Source) -> None:
    """Read the footers of files in an object store 16 at a time (each is a request or two:
    one after another, 10k files would take minutes); `footer` keeps them for the plan."""
    remote = [f for f in source.files if f.fs is not None]
    if len(remote) < 2:
        return
    from concurrent.futures import ThreadPoolExecutor

    def read(data_file: DataFile) -> None:
        import contextlib

        with contextlib.suppress(Exception):  # the plan makes it a unit that reports it
            footer(data_file)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(read, remote))


A = TypeVar("A")


def run_unit(
    unit: Unit,
    new_accumulator: Callable[[], Any],
    reading: Reading,
    progress: Callable[[int], None] | None = None,
) -> Part:
    """Read one unit into a fresh accumulator. A file that cannot be read is an error in the
    returned Part (naming the file), not an exception, so every other unit is still checked;
    a CSV column whose type must widen raises TypeChanged (the whole scan starts over)."""
    accumulator = new_accumulator()
    part = Part(accumulator)
    first_row = unit.first_row
    batches = _batches(unit, reading, accumulator, part)
    while True:
        try:  # only the reading is caught here: a check's error (a custom function) stops the run
            batch = next(batches)
        except StopIteration:
            return part
        except (MlgitError, TypeChanged):
            raise
        except BadLine as exc:
            part.errors.append(f"{_where(reading, unit.file)}:{exc.line}: {exc.reason}")
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError/... for bad files
            bad = bad_file(reading.label, reading.single, reading.format, unit.file, exc)
            part.errors.append(str(bad))
        if part.errors:  # what was read of a broken unit is not counted
            return Part(new_accumulator(), part.errors)
        accumulator.update(batch, first_row)
        first_row += batch.num_rows
        part.rows += batch.num_rows
        if progress:
            progress(batch.num_rows)


def _batches(unit: Unit, reading: Reading, accumulator: Any, part: Part):
    if unit.group is None:
        batches = open_reader(
            reading.format,
            unit.file,
            reading.columns,
            BATCH_ROWS,
            reading.column_types,
            reading.null_values,
            reading.dictionary_columns,
        )
        if reading.format != "parquet":
            batches = read_ahead(batches)
        yield from batches
        return
    if unit.group < 0:  # a Parquet file without row groups: nothing to read
        return
    # the footer the plan read (this process) or this worker read for an earlier row group
    with parquet_file(unit.file, reading.dictionary_columns, footer(unit.file)) as parquet:
        columns = reading.columns
        names = parquet.schema_arrow.names
        for column in columns or ():
            if column not in names:  # read_row_group would leave it out without a word
                raise KeyError(column)
        if reading.statistics and hasattr(accumulator, "settle"):
            group = parquet.metadata.row_group(unit.group)
            # a dictionary page is a separate request from an object store, where fetching the
            # column with the ones read anyway (one coalesced range) costs less than asking
            dictionary = None if unit.file.fs is not None else partial(_dictionary, unit, parquet)
            settled = accumulator.settle(group, parquet.schema_arrow, dictionary)
            if settled:
                columns = [c for c in columns or names if c not in settled]
        yield from _row_group_batches(
            parquet, unit.group, unit.rows or 0, columns, reading.use_threads
        )


def _dictionary(unit: Unit, parquet, column: str) -> pa.Array | None:
    """The dictionary of `column` in the unit's row group: its first row read as a dictionary
    decodes the dictionary page and one data page, not the column (0.7 ms against 136 ms for
    1M rows of 20 categories)."""
    import pyarrow as pa

    assert unit.group is not None
    with parquet_file(unit.file, [column], metadata=parquet.metadata) as reader:
        batches = reader.iter_batches(batch_size=1, row_groups=[unit.group], columns=[column])
        batch = next(iter(batches), None)
    if batch is None or not pa.types.is_dictionary(batch.column(0).type):
        return None
    return batch.column(0).dictionary


def _row_group_batches(
    parquet, index: int, rows: int, columns: list[str] | None, use_threads: bool = False
):
    """A row group as batches: read whole when it is small (one call decodes ~15% faster than
    iter_batches' slices), streamed in BATCH_ROWS otherwise so memory stays bounded."""
    if rows <= 2 * BATCH_ROWS or columns == []:
        table = parquet.read_row_group(index, columns=columns, use_threads=use_threads)
        return table.to_batches() or _no_columns(table)
    return parquet.iter_batches(
        batch_size=BATCH_ROWS, row_groups=[index], columns=columns, use_threads=use_threads
    )


def _no_columns(table) -> list:
    """A table of rows without columns (every column settled from statistics) as one batch
    that still counts its rows."""
    import pyarrow as pa

    if not table.num_rows:
        return []
    return [pa.RecordBatch.from_struct_array(pa.array([{}] * table.num_rows, pa.struct([])))]


def merge(left: Part, right: Part) -> Part:
    """Two adjacent parts as one (left's rows first)."""
    left.state.merge(right.state)
    left.errors += right.errors
    left.rows += right.rows
    return left


def fold(parts: Iterable[A], combine: Callable[[A, A], A]) -> A | None:
    """Merge parts given in row order, pairwise as a binary counter does: equal-sized
    neighbours first, then what is left from right to left. Any engine folding the same parts
    gets the same tree (so the same float sums), holding O(log n) states at once."""
    stack: list[tuple[int, A]] = []
    for part in parts:
        size, item = 1, part
        while stack and stack[-1][0] == size:
            _, left = stack.pop()
            item, size = combine(left, item), size * 2
        stack.append((size, item))
    if not stack:
        return None
    _, result = stack.pop()
    while stack:
        _, left = stack.pop()
        result = combine(left, result)
    return result


def _where(reading: Reading, data_file: DataFile) -> str:
    return file_label(reading.label, reading.single, data_file)


def file_label(label: str, single: bool, data_file: DataFile) -> str:
    """A file of a source in messages: the source itself, or source/file in a directory."""
    return label if single else f"{label.rstrip('/')}/{data_file.relpath}"


def bad_file(label: str, single: bool, fmt: str, data_file: DataFile, exc: Exception) -> MlgitError:
    where = file_label(label, single, data_file)
    if isinstance(exc, MlgitError):
        return exc
    if isinstance(exc, KeyError) and fmt == "parquet":  # a column asked for is absent
        try:
            with parquet_file(data_file) as parquet:
                names = parquet.schema_arrow.names
        except Exception:
            names = None
        if names is not None and exc.args and exc.args[0] not in names:
            return MlgitError(
                f"{where}: has no column {exc.args[0]!r} (its columns: {', '.join(names)}); "
                "every file of a dataset needs the same columns"
            )
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return MlgitError(f"{where}: cannot read as {fmt}: {reason}")


def read_ahead(batches: Iterator[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """Read the next batches on another thread while this one checks the current batch."""
    import queue
    import threading

    slots: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    cancelled = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if cancelled.is_set():
                    return
                slots.put(batch)
            slots.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put(exc)

    thread = threading.Thread(target=produce, daemon=True, name="mlgit-reader")
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancelled.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                slots.get_nowait()
            except queue.Empty:
                thread.join(0.05)
