"""One reader per file format, each yielding Arrow record batches of one file, with the errors
that carry a line number (a ragged CSV row, text that is not UTF-8) or a type to widen (a CSV
column whose values stop fitting the type guessed from the first block)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from mlgit.repo.dvc import DataFile

# The streaming CSV reader's block: with 16 MiB blocks pyarrow's allocator kept ~600 MiB at
# 5M rows (and more as rows grew); with 2 MiB blocks it stays near 300 MiB at no cost in speed.
CSV_BLOCK_BYTES = 1 << 21


class BadLine(Exception):
    """A problem at a known line of a text file (CSV ragged row, bad encoding)."""

    def __init__(self, line: int | str, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


class TypeChanged(Exception):
    """A CSV value that does not fit the type guessed for its column from the first block."""

    def __init__(self, column: str, wider: pa.DataType) -> None:
        super().__init__(f"{column}: {wider}")
        self.column, self.wider = column, wider


# pyarrow may name the row too ("Row #3002: "): seen in a process that had run a Dask scan
_CONVERSION_ERROR = re.compile(
    r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to ([^:]+): invalid value '(.*)'",
    re.S,
)
# a timestamp column guessed naive (or UTC) from the first block meets a value with (without)
# a zone offset: the column mixes both, which a single block reads as text
_ZONE_CHANGED = re.compile(
    r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to (timestamp\[[^\]]*\]): "
    r"expected (?:no|a) zone offset"
)


def arrow_input(data_file: DataFile) -> Any:
    """What pyarrow's readers take: the path on disk (read natively, without the GIL), or an
    open file of an fsspec file system."""
    return str(data_file.local) if data_file.fs is None else data_file.open()


def parquet_file(
    data_file: DataFile, read_dictionary: list[str] | None = None, metadata: Any = None
) -> Any:
    """A `pyarrow.parquet.ParquetFile` over a file on disk or in an fsspec file system; with
    `metadata` (its footer, already read), the footer is not read again. From an object store
    the column chunks of a row group are fetched as few coalesced ranges (pre_buffer)."""
    import pyarrow.parquet as pq

    if data_file.fs is None:
        return pq.ParquetFile(data_file.local, read_dictionary=read_dictionary, metadata=metadata)

    class Owning(pq.ParquetFile):  # closes the object it was given with itself
        def close(self, force: bool = False) -> None:
            super().close(force)
            source.close()

    source = data_file.open(ranges=True)
    try:
        return Owning(source, read_dictionary=read_dictionary, metadata=metadata, pre_buffer=True)
    except BaseException:
        source.close()
        raise


def dictionary_page_bytes(chunk: Any) -> int | None:
    """The size of a Parquet column chunk's dictionary page, None when it has none."""
    if not chunk.has_dictionary_page or chunk.dictionary_page_offset is None:
        return None
    return chunk.data_page_offset - chunk.dictionary_page_offset


def open_reader(
    fmt: str,
    data_file: DataFile,
    columns: list[str] | None,
    batch_rows: int,
    column_types: dict[str, pa.DataType] | None,
    null_values: list[str] | None,
    dictionary_columns: list[str] | None = None,
) -> Any:
    """The batches of one file in `fmt` (`dictionary_columns`: Parquet only, read as Arrow
    dictionaries)."""
    extra = {}
    if dictionary_columns and fmt == "parquet":
        extra = {"read_dictionary": dictionary_columns}
    return READERS[fmt](data_file, columns, batch_rows, column_types, null_values, **extra)


_FOOTERS: dict[tuple[DataFile, str], Any] = {}


def footer(data_file: DataFile) -> Any:
    """The file's Parquet footer (FileMetaData), read once per process while the file is
    unchanged: planning asks for it several times, and from an object store each is a request."""
    key = (data_file, data_file.fingerprint())
    found = _FOOTERS.get(key)
    if found is None:
        with parquet_file(data_file) as parquet:
            found = parquet.metadata
        if len(_FOOTERS) > 4096:
            _FOOTERS.clear()
        _FOOTERS[key] = found
    return found


def _text(data_file: DataFile) -> Any:
    import io

    return io.TextIOWrapper(data_file.open(), encoding="utf-8", errors="replace", newline="")


def type_changed(data_file: DataFile, exc: Exception) -> TypeChanged | None:
    import csv as csv_text

    import pyarrow as pa

    found = _CONVERSION_ERROR.search(str(exc)) or _ZONE_CHANGED.search(str(exc))
    if found is None:
        return None
    with _text(data_file) as f:
        header = next(csv_text.reader(f), [])
    index, guessed = int(found[1]), found[2]
    value = found[3] if found.re is _CONVERSION_ERROR else ""
    if index >= len(header):
        return None
    wider = pa.string()  # a timestamp whose zone changed: text, as one block would read it
    for name, parse, dtype in (("int64", int, pa.int64()), ("double", float, pa.float64())):
        if guessed in _NARROWER[name]:
            try:
                parse(value)
            except ValueError:
                continue
            wider = dtype
            break
    return TypeChanged(header[index], wider)


_NARROWER = {"int64": ("null",), "double": ("null", "int64")}  # types a value may widen from


def _parquet(data_file, columns, batch_rows, column_types, null_values, read_dictionary=None):
    with parquet_file(data_file, read_dictionary) as parquet:
        # a row group at a time: asked for the whole file, the reader pre-buffers the bytes of
        # every row group at once, and memory grew with the file (+57 MiB from 1M to 3M rows)
        for index in range(parquet.num_row_groups):
            yield from parquet.iter_batches(
                batch_size=batch_rows, columns=columns, row_groups=[index]
            )


def _csv(data_file, columns, batch_rows, column_types, null_values):
    """CSV batches; a line longer than the read block (a long text field, a wide header) makes
    the block grow and the read start over, skipping the rows already given."""
    given, block = 0, CSV_BLOCK_BYTES
    while True:
        try:
            for batch in _csv_pass(data_file, columns, column_types, null_values, block, given):
                given += batch.num_rows
                yield from _split(batch, batch_rows)
            return
        except _LineTooLong:
            block *= 4


def _csv_pass(data_file, columns, column_types, null_values, block, skip):
    import pyarrow.csv as csv

    convert = csv.ConvertOptions(
        include_columns=columns,
        column_types=column_types or {},
        null_values=null_values if null_values is not None else [""],
        strings_can_be_null=True,
    )
    read = csv.ReadOptions(block_size=block)
    ragged = []

    def invalid_row(row: csv.InvalidRow) -> str:
        ragged.append(row)
        return "error"

    parse = csv.ParseOptions(invalid_row_handler=invalid_row)
    try:
        with csv.open_csv(
            arrow_input(data_file),
            read_options=read,
            parse_options=parse,
            convert_options=convert,
        ) as reader:
            for batch in reader:
                if skip >= batch.num_rows:
                    skip -= batch.num_rows
                    continue
                yield batch.slice(skip) if skip else batch
                skip = 0
    except Exception as exc:
        if ragged:
            row = ragged[0]
            line = row.number or _line_of(data_file, row.text)
            raise BadLine(
                line,
                f"row has {row.actual_columns} fields, the header has {row.expected_columns}; "
                "fix or remove the row",
            ) from None
        if _straddles(exc, data_file, block):
            raise _LineTooLong() from None
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            raise BadLine(
                first_bad_utf8_line(data_file), "not valid UTF-8 text; save the file as UTF-8"
            ) from None
        changed = type_changed(data_file, exc)
        if changed is not None and changed.column not in (column_types or {}):
            raise changed from None
        raise


class _LineTooLong(Exception):
    """A line did not fit in the read block: read again with a larger one."""


def _straddles(exc: Exception, data_file: DataFile, block: int) -> bool:
    """pyarrow's words for a line longer than the block ("straddling object", or "Empty CSV
    file" when it is the header), while a larger block can still help."""
    text = str(exc)
    if "straddling" not in text and "Empty CSV" not in text:
        return False
    size = data_file.size()
    too_long = "straddling" in text or size > 0
    return too_long and block < size + 1


def _line_of(data_file: DataFile, text: str) -> int | str:
    """The 1-based line holding `text` (rare error path, so a plain scan is fine)."""
    with _text(data_file) as f:
        for number, line in enumerate(f, 1):
            if line.rstrip("\r\n") == text:
                return number
    return "?"


def first_bad_utf8_line(data_file: DataFile) -> int | str:
    with data_file.open() as f:
        for number, line in enumerate(f, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return "?"


def _jsonl(data_file, columns, batch_rows, column_types, null_values):
    import pyarrow as pa
    import pyarrow.json as pj

    parse = pj.ParseOptions(explicit_schema=pa.schema(column_types) if column_types else None)
    read = pj.ReadOptions(block_size=1 << 24)
    try:
        with pj.open_json(
            arrow_input(data_file), read_options=read, parse_options=parse
        ) as reader:  # streams
            for batch in reader:
                if columns:
                    batch = batch.select(columns)
                yield from _split(batch, batch_rows)
    except pa.ArrowInvalid as exc:
        found = _JSON_ROW.search(str(exc))
        if found is None or data_file.size() > read.block_size:  # rows count per block
            raise
        reason = str(exc)[: found.start()].strip().rstrip(".")
        raise BadLine(_jsonl_line(data_file, int(found[1])), f"{reason}; fix the line") from None


_JSON_ROW = re.compile(r"\bin row (\d+)\s*$")  # pyarrow counts the rows of a block from 0


def _jsonl_line(data_file: DataFile, row: int) -> int:
    """The 1-based line of the `row`-th (0-based) non-blank line: what an editor shows."""
    with data_file.open() as f:
        seen = -1
        for number, line in enumerate(f, start=1):
            if line.strip():
                seen += 1
                if seen == row:
                    return number
    return row + 1


def _split(batch, batch_rows):
    for start in range(0, batch.num_rows, batch_rows):
        yield batch.slice(start, batch_rows)


READERS = {"parquet": _parquet, "csv": _csv, "jsonl": _jsonl}
