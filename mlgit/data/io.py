"""Arrow record batches from Parquet, CSV and JSON Lines files, directories of them, or a
DVC-tracked path at a git revision. Memory stays bounded: data is streamed, never loaded whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self, TypeVar

from mlgit.errors import MlgitError
from mlgit.repo.dvc import DataFile

if TYPE_CHECKING:
    import git
    import pyarrow as pa

BATCH_ROWS = 262_144
FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


@dataclass(frozen=True)
class Source:
    """A dataset to read: one or more files of one format."""

    label: str  # what the user called it: "data/train.parquet", "data/train.parquet@HEAD~1"
    files: tuple[DataFile, ...]
    format: str  # "parquet" | "csv" | "jsonl"


def open_source(path: Path, fmt: str | None = None, label: str | None = None) -> Source:
    """A file or a directory (partitioned dataset) in the work tree."""
    if not path.exists():
        dvc_file = path.with_name(path.name + ".dvc")
        hint = "run `dvc pull` to fetch it" if dvc_file.exists() else "check the path"
        raise MlgitError(f"{path}: no such file or directory; {hint}")
    if path.is_dir():
        files = [
            DataFile(p.relative_to(path).as_posix(), p)
            for p in sorted(path.rglob("*"))
            if p.is_file() and not _hidden(p.relative_to(path))
        ]
    else:
        files = [DataFile(path.name, path)]
    return _source(label or str(path), files, fmt)


def source_at(repo: git.Repo, path: str, rev: str, fmt: str | None = None) -> Source:
    """The DVC-tracked `path` as it was at git revision `rev` (read via DVC's cache or remote)."""
    from mlgit.repo.dvc import files_at

    return _source(f"{path}@{rev}", files_at(repo, path, rev), fmt)


def _hidden(rel: Path) -> bool:
    return any(part.startswith((".", "_")) for part in rel.parts)


def _source(label: str, files: list[DataFile], fmt: str | None) -> Source:
    if fmt is None:
        formats = {FORMATS.get(Path(f.relpath).suffix.lower()) for f in files}
        formats.discard(None)
        if len(formats) != 1:
            found = ", ".join(sorted(formats)) or "no .parquet, .csv or .jsonl files"
            raise MlgitError(
                f"{label}: cannot tell the data format ({found}); "
                "give it with `format:` in mlgit.yaml or --format-data"
            )
        fmt = formats.pop()
    suffixes = {s for s, f in FORMATS.items() if f == fmt}
    files = [f for f in files if Path(f.relpath).suffix.lower() in suffixes] or files
    if not files:
        raise MlgitError(f"{label}: the directory holds no data files")
    return Source(label=label, files=tuple(files), format=fmt)


def read_schema(source: Source) -> pa.Schema:
    """The Arrow schema of the first file (all files of a dataset share it)."""
    first = source.files[0]
    if source.format == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_schema(first.local)
        except Exception as exc:
            raise _bad_file(source, first, exc) from None
    for batch in iter_batches(Source(source.label, (first,), source.format)):
        return batch.schema
    raise MlgitError(f"{source.label}: {first.relpath} holds no rows and no header")


def iter_batches(
    source: Source,
    columns: list[str] | None = None,
    batch_rows: int = BATCH_ROWS,
    column_types: dict[str, pa.DataType] | None = None,
    null_values: list[str] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of every file in turn; a broken file is an MlgitError naming it."""
    reader = _READERS[source.format]
    for data_file in source.files:
        try:
            yield from reader(data_file.local, columns, batch_rows, column_types, null_values)
        except MlgitError:
            raise
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError/... for bad files
            raise _bad_file(source, data_file, exc) from None


class Accumulator(Protocol):
    """A small mergeable state fed batch by batch (a check, a profile, ...).

    `update` sees each batch with the row number of its first row in the whole dataset;
    `merge` folds in the state built from another part of the data (another thread, another
    Dask partition), so the same kernel runs on one batch, a stream, or a cluster.
    """

    def update(self, batch: pa.RecordBatch, first_row: int) -> None: ...

    def merge(self, other: Self) -> None: ...


A = TypeVar("A", bound=Accumulator)


def scan(
    source: Source,
    new_accumulator: Callable[[], A],
    columns: list[str] | None = None,
    column_types: dict[str, pa.DataType] | None = None,
    null_values: list[str] | None = None,
) -> A:
    """Feed every batch of `source` to accumulators and return their merged state."""
    accumulator = new_accumulator()
    first_row = 0
    for batch in iter_batches(source, columns, BATCH_ROWS, column_types, null_values):
        accumulator.update(batch, first_row)
        first_row += batch.num_rows
    return accumulator


def _bad_file(source: Source, data_file: DataFile, exc: Exception) -> MlgitError:
    where = source.label if len(source.files) == 1 else f"{source.label}/{data_file.relpath}"
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return MlgitError(f"{where}: cannot read as {source.format}: {reason}")


def _parquet(path, columns, batch_rows, column_types, null_values):
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet_file:
        yield from parquet_file.iter_batches(batch_size=batch_rows, columns=columns)


def _csv(path, columns, batch_rows, column_types, null_values):
    import pyarrow.csv as csv

    convert = csv.ConvertOptions(
        include_columns=columns,
        column_types=column_types or {},
        null_values=null_values if null_values is not None else [""],
        strings_can_be_null=True,
    )
    read = csv.ReadOptions(block_size=1 << 24)
    with csv.open_csv(path, read_options=read, convert_options=convert) as reader:
        for batch in reader:
            yield from _split(batch, batch_rows)


def _jsonl(path, columns, batch_rows, column_types, null_values):
    import pyarrow as pa
    import pyarrow.json as pj

    parse = pj.ParseOptions(explicit_schema=pa.schema(column_types) if column_types else None)
    table = pj.read_json(path, read_options=pj.ReadOptions(block_size=1 << 24), parse_options=parse)
    if columns:
        table = table.select(columns)
    yield from table.to_batches(max_chunksize=batch_rows)


def _split(batch, batch_rows):
    for start in range(0, batch.num_rows, batch_rows):
        yield batch.slice(start, batch_rows)


_READERS = {"parquet": _parquet, "csv": _csv, "jsonl": _jsonl}
