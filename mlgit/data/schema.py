"""Dataset schemas: a Frictionless Table Schema plus mlgit's `expectations`, as frozen data.

`load_schema` reads and validates a file (every problem with its line), `dump_schema` writes a
readable, commented YAML that loads back to the same object, and `infer_schema` derives one from
the data in a single streaming pass.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.documents import Document, Problem, did_you_mean, load_document, validate_document
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import pyarrow as pa

    from mlgit.data.io import Source

SCHEMA_FILE = "table-schema.schema.json"
TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "any")
DEFAULT_MISSING_VALUES = ("",)
ENUM_LIMIT = 20
# Constraint keys in the order a person reads them (and dump writes them).
CONSTRAINT_KEYS = (
    "required",
    "unique",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
)
_ORDERED_TYPES = ("integer", "number", "date", "datetime", "string", "any")


@dataclass(frozen=True)
class Constraints:
    required: bool | None = None
    unique: bool | None = None
    minimum: Any = None
    exclusiveMinimum: Any = None
    maximum: Any = None
    exclusiveMaximum: Any = None
    minLength: int | None = None
    maxLength: int | None = None
    pattern: str | None = None
    enum: tuple[Any, ...] | None = None

    def items(self) -> list[tuple[str, Any]]:
        """The constraints that are set, in reading order."""
        return [(k, getattr(self, k)) for k in CONSTRAINT_KEYS if getattr(self, k) is not None]


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "any"
    constraints: Constraints = field(default_factory=Constraints)
    title: str | None = None
    description: str | None = None
    severity: str | None = None  # of this field's constraints; None = error


@dataclass(frozen=True)
class Expectation:
    """A dataset-level rule: `expect` names it, `options` holds the rest as written."""

    expect: str
    options: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)

    @property
    def severity(self) -> str:
        return self.get("severity", "error")


@dataclass(frozen=True)
class TableSchema:
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    missing_values: tuple[str, ...] | None = None  # None: not written, i.e. [""]
    expectations: tuple[Expectation, ...] = ()
    title: str | None = None
    description: str | None = None
    file: Path | None = field(default=None, compare=False)  # where it was loaded from

    def field_named(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def null_values(self) -> list[str]:
        return list(self.missing_values if self.missing_values is not None else ("",))


# ---------------------------------------------------------------- load
def load_schema(path: Path) -> TableSchema:
    """The schema in `path`; MlgitError naming the first problem (and how many there are)."""
    doc = load_document(path)
    problems = _problems(doc)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise MlgitError(f"{problems[0]}{more}")
    return from_data(doc.data, path)


def schema_problems(path: Path) -> list[Problem]:
    """Every problem in the schema file at `path` (for `mlgit check-config`)."""
    try:
        doc = load_document(path)
    except MlgitError as exc:
        return [Problem(path, (), None, str(exc).removeprefix(f"{path}: "))]
    return _problems(doc)


def _problems(doc: Document) -> list[Problem]:
    if not isinstance(doc.data, dict):
        return [Problem(doc.file, (), 1, "expected a mapping with `fields:`")]
    problems = validate_document(doc, SCHEMA_FILE)
    if problems:  # a typo explains the other errors on its line: name it first
        return sorted(problems, key=lambda p: (p.line or 0, "unknown key" not in p.message))
    return _semantic_problems(doc)


def _semantic_problems(doc: Document) -> list[Problem]:
    """What the JSON Schema cannot say: names that must exist, values that must fit types."""
    data = doc.data
    problems: list[Problem] = []

    def problem(where: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(doc.file, where, doc.line_of(where), message))

    names = [f["name"] for f in data.get("fields") or []]
    seen: set[str] = set()
    for index, item in enumerate(data.get("fields") or []):
        where = ("fields", index)
        if item["name"] in seen:
            problem((*where, "name"), f"field {item['name']!r} is defined twice")
        seen.add(item["name"])
        ftype = item.get("type", "any")
        constraints = item.get("constraints") or {}
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if key in constraints and not _fits(constraints[key], ftype):
                problem(
                    (*where, "constraints", key),
                    f"{constraints[key]!r} is not {_WRITE_AS.get(ftype, f'a {ftype} value')}",
                )
        for value in constraints.get("enum") or []:
            if not _fits(value, ftype, ordered=False):
                problem(
                    (*where, "constraints", "enum"),
                    f"{value!r} is not {_WRITE_AS.get(ftype, f'a {ftype} value')}",
                )
                break
        if "pattern" in constraints:
            reason = regex_error(constraints["pattern"])
            if reason:
                problem((*where, "constraints", "pattern"), f"invalid regular expression: {reason}")
    keys = data.get("primaryKey")
    for key in [keys] if isinstance(keys, str) else keys or []:
        if key not in names:
            problem(("primaryKey",), f"{key!r} is not a field{did_you_mean(key, names)}")
    for index, item in enumerate(data.get("expectations") or []):
        where = ("expectations", index)
        low, high = item.get("min"), item.get("max")
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            problem((*where, "min"), f"min {low} is greater than max {high}")
    return problems


def _fits(value: Any, ftype: str, ordered: bool = True) -> bool:
    if isinstance(value, bool):
        return ftype in ("boolean", "any") and not ordered
    if ftype == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if ftype == "number":
        return isinstance(value, int | float)
    if ftype == "date":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if ftype == "datetime":
        return isinstance(value, dt.datetime)
    if ftype == "string":
        return isinstance(value, str)
    return ftype != "boolean"


def regex_error(pattern: str) -> str | None:
    """Why RE2 (the engine pyarrow uses) rejects `pattern`, or None when it compiles."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for candidate in (pattern, f"^(?:{pattern})$"):
        try:
            # a null string, not pa.array([""]): pa.array imports pandas (~0.3 s) to probe
            # its input, and RE2 compiles the pattern whatever the values are
            pc.match_substring_regex(pa.nulls(1, pa.string()), candidate)
        except pa.ArrowInvalid as exc:
            return str(exc).removeprefix("Invalid regular expression: ")
    return None


def from_data(data: dict, file: Path | None = None) -> TableSchema:
    """A TableSchema from a validated mapping."""
    fields = tuple(
        Field(
            name=item["name"],
            type=item.get("type", "any"),
            constraints=Constraints(
                **{
                    k: (tuple(v) if k == "enum" else v)
                    for k, v in (item.get("constraints") or {}).items()
                }
            ),
            title=item.get("title"),
            description=item.get("description"),
            severity=item.get("severity"),
        )
        for item in data.get("fields") or []
    )
    keys = data.get("primaryKey")
    missing = data.get("missingValues")
    return TableSchema(
        fields=fields,
        primary_key=(keys,) if isinstance(keys, str) else tuple(keys or ()),
        missing_values=None if missing is None else tuple(missing),
        expectations=tuple(
            Expectation(
                expect=item["expect"],
                options=tuple((k, _frozen(v)) for k, v in item.items() if k != "expect"),
            )
            for item in data.get("expectations") or []
        ),
        title=data.get("title"),
        description=data.get("description"),
        file=file,
    )


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


# ---------------------------------------------------------------- dump
def to_data(schema: TableSchema) -> dict[str, Any]:
    """The schema as plain YAML/JSON data, keys in reading order."""
    data: dict[str, Any] = {}
    if schema.title is not None:
        data["title"] = schema.title
    if schema.description is not None:
        data["description"] = schema.description
    if schema.primary_key:
        data["primaryKey"] = list(schema.primary_key)
    if schema.missing_values is not None:
        data["missingValues"] = list(schema.missing_values)
    fields = []
    for f in schema.fields:
        item: dict[str, Any] = {"name": f.name, "type": f.type}
        for key in ("title", "description", "severity"):
            if getattr(f, key) is not None:
                item[key] = getattr(f, key)
        constraints = {k: (list(v) if k == "enum" else v) for k, v in f.constraints.items()}
        if constraints:
            item["constraints"] = constraints
        fields.append(item)
    data["fields"] = fields
    if schema.expectations:
        data["expectations"] = [
            {"expect": e.expect, **{k: _thawed(v) for k, v in e.options}}
            for e in schema.expectations
        ]
    return data


def _thawed(value: Any) -> Any:
    return [_thawed(v) for v in value] if isinstance(value, tuple) else value


_HEADER = """\
# Dataset schema for mlgit (a Frictionless Table Schema plus `expectations`).
# Field types: string, integer, number, boolean, date, datetime, any.
# Constraints: required, unique, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
#   minLength, maxLength, pattern (full match, RE2 syntax), enum.
# Expectations (dataset-level rules, each may take `severity: warn|error`):
#   row_count {min, max}; columns {columns, ordered, allow_extra}; null_fraction {column, max};
#   mean / stdev {column, min, max}; quantile {column, q, min, max};
#   values_between / values_in_set {column, ..., mostly}; unique_fraction {column, min, max};
#   compound_unique {columns}; custom {function: "checks.py:name", column}.
# Check it with `mlgit check-config`; run it with `mlgit validate`.
"""


def dump_schema(schema: TableSchema, source: str | None = None) -> str:
    """Readable, commented YAML; `load_schema` of it gives back `schema`."""
    import yaml

    data = to_data(schema)
    out = io.StringIO()
    out.write(_HEADER)
    if source:
        out.write(f"# Inferred from {source}; review the rules before you commit them.\n")
    head = {k: v for k, v in data.items() if k not in ("fields", "expectations")}
    if head:
        out.write(_yaml(head))
    out.write("\nfields:\n")
    for item in data["fields"]:
        out.write(_indent(_yaml([item])))
    if "expectations" in data:
        out.write("\nexpectations:\n")
        for item in data["expectations"]:
            out.write(_indent(_yaml([item])))
    text = out.getvalue()
    yaml.safe_load(text)  # a bug here must never write a file that does not load
    return text


def _yaml(value: Any) -> str:
    import yaml

    class Dumper(yaml.SafeDumper):
        """Block mappings, but short lists of plain values on one line: `enum: [a, b]`."""

    def represent_list(dumper: yaml.SafeDumper, items: list) -> yaml.Node:
        flat = all(not isinstance(i, dict | list) for i in items)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flat)

    Dumper.add_representer(list, represent_list)
    return yaml.dump(
        value,
        Dumper=Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def _indent(text: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(True))


# ---------------------------------------------------------------- infer
def infer_schema(source: Source, enum_limit: int = ENUM_LIMIT) -> TableSchema:
    """Types, required, ranges, enums and unique keys as observed in one pass over the data."""
    from mlgit.data.io import scan

    arrow_schema, widened = _common_schema(source)
    names = list(arrow_schema.names)
    observed = scan(
        source,
        lambda: _Observer(names, enum_limit, widened),
        column_types=widened if source.format == "csv" else None,
    )
    if source.format == "csv":  # pyarrow reads text that is not UTF-8 as bytes: say so
        import pyarrow.types as t

        from mlgit.data.io import not_utf8

        for name in names:
            found = observed.types[name]
            problem = not_utf8(source, name) if found is not None and t.is_binary(found) else None
            if problem is not None:
                raise problem
    fields = tuple(
        _inferred_field(name, observed.types[name], observed.stats[name], observed.rows, enum_limit)
        for name in names
    )
    expectations = (Expectation("columns", (("columns", tuple(names)),)),)
    return TableSchema(fields=fields, expectations=expectations)


# how to write a value of each field type, for the messages about a bound or enum that is not
_WRITE_AS = {
    "integer": "an integer; write one such as 0",
    "number": "a number; write one such as 0.5",
    "string": 'a string; quote it in YAML ("yes", "1")',
    "boolean": "a boolean; write true or false",
    "date": "a date; write it unquoted in YAML (2024-01-31): JSON has no dates, so date "
    "bounds need a YAML schema",
    "datetime": "a datetime; write it unquoted in YAML (2024-01-31T12:00:00): JSON has no "
    "datetimes, so datetime bounds need a YAML schema",
}


def duplicate_column_error(label: str, names: list[str]) -> MlgitError | None:
    """The error for data with two columns of one name (a reader keeps only one of them)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return MlgitError(f"{label}: duplicate column {name!r} in the data; rename one")
        seen.add(name)
    return None


def _common_schema(source: Source) -> tuple[pa.Schema, dict[str, pa.DataType]]:
    """The Arrow schema every file of `source` shares, widened where types differ by file
    (int -> float, or text for CSV), and the columns so widened with their types.

    MlgitError naming the file and the column when the files do not have the same columns, or
    when a column's types cannot be widened to one."""
    import pyarrow as pa
    import pyarrow.types as t

    from mlgit.data.io import Source as _Source
    from mlgit.data.io import read_schema

    first = read_schema(source)
    problem = duplicate_column_error(_where(source, source.files[0]), list(first.names))
    if problem:
        raise problem
    types = {f.name: f.type for f in first}
    for data_file in source.files[1:]:
        where = _where(source, data_file)
        schema = read_schema(_Source(source.label, (data_file,), source.format))
        problem = duplicate_column_error(where, list(schema.names))
        if problem:
            raise problem
        missing = [n for n in first.names if n not in schema.names]
        extra = [n for n in schema.names if n not in first.names]
        if missing or extra:
            what = f"has no column {missing[0]!r}" if missing else f"has a column {extra[0]!r}"
            raise MlgitError(
                f"{where}: {what} that {source.files[0].relpath} "
                f"{'has' if missing else 'has not'}; the files of a dataset must have the same "
                "columns: fix the file or validate the files apart"
            )
        for f in schema:
            mine = types[f.name]
            if f.type == mine or t.is_null(f.type):
                continue
            if t.is_null(mine):
                types[f.name] = f.type
            elif _kind(f.type) in ("integer", "number") and _kind(mine) in ("integer", "number"):
                types[f.name] = pa.float64()
            elif source.format == "csv":
                types[f.name] = pa.string()
            else:
                raise MlgitError(
                    f"{where}: column {f.name!r} is {f.type} here and {mine} in "
                    f"{source.files[0].relpath}; write every file with one type per column"
                )
    widened = {n: ty for n, ty in types.items() if ty != first.field(n).type}
    schema = pa.schema([pa.field(n, types[n]) for n in first.names])
    return schema, widened


def _where(source: Source, data_file: Any) -> str:
    return source.label if len(source.files) == 1 else f"{source.label}/{data_file.relpath}"


@dataclass
class _ColumnStats:
    nulls: int = 0
    minimum: Any = None
    maximum: Any = None
    min_length: int | None = None
    max_length: int | None = None
    distinct: set | None = field(default_factory=set)  # None once over the enum limit
    keys: list = field(default_factory=list)  # arrays, for the uniqueness test at the end


class _Observer:
    """The accumulator behind `infer_schema` (mergeable, as every scan state)."""

    def __init__(
        self, names: list[str], enum_limit: int, widened: dict[str, pa.DataType] | None = None
    ) -> None:
        self.names = names
        self.enum_limit = enum_limit
        self.rows = 0
        self.types: dict[str, pa.DataType | None] = dict.fromkeys(names)
        self.stats = {name: _ColumnStats() for name in names}
        self.wanted = dict(widened or {})  # columns whose files differ: read as one type

    def update(self, batch: pa.RecordBatch, first_row: int) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.types as t

        from mlgit.data.arrays import decoded

        self.rows += batch.num_rows
        for name in self.names:
            # dictionaries (pandas Categorical) differ from batch to batch: plain values
            column = decoded(batch.column(name))
            wanted = self.wanted.get(name)
            if wanted is not None and column.type != wanted and not t.is_null(wanted):
                try:
                    column = column.cast(wanted)  # files of a directory widened to one type
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    # wider than the first block said (a CSV column io widened): keep it
                    self.wanted[name] = column.type
            if self.types[name] is None or self.types[name] == _null_type():
                self.types[name] = column.type
            stats = self.stats[name]
            stats.nulls += column.null_count
            if t.is_floating(column.type) and column.null_count < len(column):
                # NaN is a missing value, as in validate (and pandera, Great Expectations)
                stats.nulls += pc.sum(pc.is_nan(column)).as_py() or 0
            kind = _kind(column.type)
            if column.null_count == len(column):
                continue
            if kind in ("integer", "number", "date", "datetime"):
                low, high = (pc.min_max(column)[k] for k in ("min", "max"))
                stats.minimum = _lesser(stats.minimum, _bound(low, up=False))
                stats.maximum = _greater(stats.maximum, _bound(high, up=True))
            if kind == "string":
                lengths = pc.min_max(pc.utf8_length(column))
                stats.min_length = _lesser(stats.min_length, lengths["min"].as_py())
                stats.max_length = _greater(stats.max_length, lengths["max"].as_py())
            if kind in ("string", "integer"):
                stats.keys.append(column.drop_null())
            if stats.distinct is not None and kind in ("string", "boolean"):
                stats.distinct.update(pc.unique(column.drop_null()).to_pylist())
                if len(stats.distinct) > self.enum_limit:
                    stats.distinct = None

    def merge(self, other: _Observer) -> None:
        self.rows += other.rows
        for name in self.names:
            mine, theirs = self.stats[name], other.stats[name]
            mine.nulls += theirs.nulls
            mine.minimum = _lesser(mine.minimum, theirs.minimum)
            mine.maximum = _greater(mine.maximum, theirs.maximum)
            mine.min_length = _lesser(mine.min_length, theirs.min_length)
            mine.max_length = _greater(mine.max_length, theirs.max_length)
            mine.keys += theirs.keys
            if mine.distinct is None or theirs.distinct is None:
                mine.distinct = None
            else:
                mine.distinct |= theirs.distinct
                if len(mine.distinct) > self.enum_limit:
                    mine.distinct = None


def _null_type() -> pa.DataType:
    import pyarrow as pa

    return pa.null()


def _lesser(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _greater(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _kind(arrow_type: pa.DataType) -> str:
    """The Table Schema type of an Arrow type."""
    import pyarrow.types as t

    if t.is_dictionary(arrow_type):
        return _kind(arrow_type.value_type)
    checks = (
        (t.is_boolean, "boolean"),
        (t.is_integer, "integer"),
        (t.is_floating, "number"),
        (t.is_decimal, "number"),
        (t.is_date, "date"),
        (t.is_timestamp, "datetime"),
        (lambda x: t.is_string(x) or t.is_large_string(x) or t.is_string_view(x), "string"),
    )
    return next((name for check, name in checks if check(arrow_type)), "any")


def _inferred_field(
    name: str, arrow_type: pa.DataType | None, stats: _ColumnStats, rows: int, enum_limit: int
) -> Field:
    kind = _kind(arrow_type) if arrow_type is not None else "any"
    values: dict[str, Any] = {}
    if rows and stats.nulls == 0:
        values["required"] = True
    keyed = kind in ("integer", "string") and rows - stats.nulls > 1
    if keyed and _all_unique(stats.keys):
        values["unique"] = True
    if kind in ("integer", "number", "date", "datetime") and stats.minimum is not None:
        values["minimum"] = _plain(stats.minimum)
        if not (kind == "integer" and values.get("unique") and values.get("required")):
            # a unique, never-null integer is a key: new rows get new, larger ids
            values["maximum"] = _plain(stats.maximum)
    if kind == "string" and stats.min_length is not None:
        distinct = stats.distinct
        if distinct is not None and 0 < len(distinct) <= enum_limit and not values.get("unique"):
            values["enum"] = tuple(sorted(distinct))
        else:
            values["minLength"] = stats.min_length
            values["maxLength"] = stats.max_length
    return Field(name=name, type=kind, constraints=Constraints(**values))


def _bound(scalar: pa.Scalar, up: bool) -> Any:
    """An observed min (or max, `up`) as Python; timestamps finer than the microseconds a
    datetime holds are rounded outwards, so the data passes the bound written from it."""
    import pyarrow.types as t

    if not scalar.is_valid:
        return None
    if t.is_timestamp(scalar.type):
        ticks = scalar.cast(_int64()).as_py()
        per_micro = {"s": 1e-6, "ms": 1e-3, "us": 1, "ns": 1000}[scalar.type.unit]
        if per_micro >= 1:
            micros = -(-ticks // per_micro) if up else ticks // per_micro
        else:
            micros = ticks * round(1 / per_micro)
        return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(micros))
    return scalar.as_py()


def _int64() -> pa.DataType:
    import pyarrow as pa

    return pa.int64()


def _plain(value: Any) -> Any:
    """Observed bounds as YAML writes them: no numpy scalars, no time zones, finite floats."""
    import decimal

    if isinstance(value, decimal.Decimal):  # YAML has no decimals: the nearest int or float
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "to_pydatetime"):  # pyarrow gives pandas Timestamps for nanoseconds
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _all_unique(chunks: list) -> bool:
    import pyarrow as pa
    import pyarrow.compute as pc

    if len({chunk.type for chunk in chunks}) > 1:  # a CSV column widened after its first batches
        chunks = [chunk.cast(pa.string()) for chunk in chunks]
    values = pa.chunked_array(chunks)
    return pc.count_distinct(values).as_py() == len(values)


def schema_hash(schema: TableSchema) -> str:
    """A stable digest of the rules (not of comments or key order in the file)."""
    import hashlib

    text = json.dumps(to_data(schema), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
