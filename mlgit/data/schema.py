"""Dataset schemas: a Frictionless Table Schema plus mlgit's `expectations`, as frozen data.

`load_schema` reads and validates a file (every problem with its line), `dump_schema` writes a
readable, commented YAML that loads back to the same object, and `infer_schema` derives one from
the data in a single streaming pass.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from mlgit.documents import (
    Document,
    Problem,
    did_you_mean,
    load_document,
    not_a_number_problems,
    validate_document,
)
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import pyarrow as pa


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
    problems = validate_document(doc, SCHEMA_FILE) or not_a_number_problems(doc)
    if problems:  # a typo explains the other errors on its line: name it first
        return sorted(problems, key=lambda p: (p.line or 0, "unknown key" not in p.message))
    return _semantic_problems(doc)


def _semantic_problems(doc: Document) -> list[Problem]:
    """What the JSON Schema cannot say: names that must exist, values that must fit types."""
    data = doc.data
    problems: list[Problem] = []
    json_file = doc.file.suffix.lower() == ".json"  # JSON has no dates: ISO text bounds them

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
            if key in constraints and not _fits(constraints[key], ftype, iso_text=json_file):
                problem(
                    (*where, "constraints", key),
                    f"{constraints[key]!r} is not {_WRITE_AS.get(ftype, f'a {ftype} value')}",
                )
        for value in constraints.get("enum") or []:
            if not _fits(value, ftype, ordered=False, iso_text=json_file):
                yaml_word = isinstance(value, bool) and ftype == "string"
                problem(
                    (*where, "constraints", "enum"),
                    f"{value!r} is a boolean: YAML reads yes, no, on, off, true and false "
                    'unquoted as booleans; quote them ("yes")'
                    if yaml_word
                    else f"{value!r} is not {_WRITE_AS.get(ftype, f'a {ftype} value')}",
                )
                break
        for low, high in _RANGES:
            if _ordered(constraints.get(low), constraints.get(high)) is False:
                problem(
                    (*where, "constraints", low),
                    f"{low} {constraints[low]!r} is above {high} {constraints[high]!r}: no value "
                    "could pass; swap or fix them",
                )
        if "pattern" in constraints:
            reason = regex_error(constraints["pattern"])
            if reason:
                problem((*where, "constraints", "pattern"), f"invalid regular expression: {reason}")
    keys = data.get("primaryKey")
    for key in [keys] if isinstance(keys, str) else keys or []:
        if key not in names:
            problem(("primaryKey",), f"{key!r} is not a field{did_you_mean(key, names)}")
    types = {item["name"]: item.get("type", "any") for item in data.get("fields") or []}
    for index, item in enumerate(data.get("expectations") or []):
        where = ("expectations", index)
        low, high = item.get("min"), item.get("max")
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            problem((*where, "min"), f"min {low} is greater than max {high}")
        ftype = types.get(item.get("column", ""), "any")
        if item.get("expect") == "values_between":
            for key in ("min", "max"):
                beyond = ftype == "integer" and not -(2**63) <= _number(item.get(key)) < 2**64
                if key in item and (beyond or not _fits(item[key], ftype, iso_text=json_file)):
                    wanted = _WRITE_AS.get(ftype, f"a {ftype} value")
                    problem((*where, key), f"{item[key]!r} is not {wanted} (column {ftype})")
        if item.get("expect") == "values_in_set":
            kinds = {_kind_of(v) for v in item.get("values") or [] if v is not None}
            if len(kinds) > 1:
                problem(
                    (*where, "values"),
                    f"mixes {' and '.join(sorted(kinds))}: one column holds one type; quote the "
                    "values if they are text",
                )
    return problems


_RANGES = (
    ("minimum", "maximum"),
    ("exclusiveMinimum", "exclusiveMaximum"),
    ("minimum", "exclusiveMaximum"),
    ("exclusiveMinimum", "maximum"),
    ("minLength", "maxLength"),
)


def _ordered(low: Any, high: Any) -> bool | None:
    """low <= high, or None when either is absent or they do not compare."""
    if low is None or high is None:
        return None
    try:
        return bool(low <= high)
    except TypeError:
        return None


def _number(value: Any) -> float:
    """A bound as a number for a range test (0 for anything else: the type test says it)."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "booleans"
    if isinstance(value, int | float):
        return "numbers"
    if isinstance(value, dt.date):
        return "dates"
    return "text" if isinstance(value, str) else type(value).__name__


def _fits(value: Any, ftype: str, ordered: bool = True, iso_text: bool = False) -> bool:
    if isinstance(value, bool):
        return ftype in ("boolean", "any") and not ordered
    if ftype == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, str) and ftype in ("date", "datetime") and iso_text:
        return _iso(value, ftype) is not None  # JSON has no dates: ISO-8601 text
    if ftype == "number":
        return isinstance(value, int | float)
    if ftype == "date":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if ftype == "datetime":
        return isinstance(value, dt.datetime)
    if ftype == "string":
        return isinstance(value, str)
    return ftype != "boolean"


def _iso(text: str, ftype: str) -> dt.date | None:
    """An ISO-8601 date or datetime written as text (JSON schema files have no dates)."""
    try:
        if ftype == "date":
            return dt.date.fromisoformat(text)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _typed(value: Any, ftype: str, iso_text: bool) -> Any:
    """A bound or enum entry as the checks compare it: in a JSON schema, ISO text becomes a
    date or datetime (YAML writes dates unquoted)."""
    if iso_text and isinstance(value, str) and ftype in ("date", "datetime"):
        return _iso(value, ftype) or value
    return value


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
    iso = file is not None and file.suffix.lower() == ".json"
    fields = tuple(
        Field(
            name=item["name"],
            type=item.get("type", "any"),
            constraints=Constraints(
                # the schema document was validated: each key is a Constraints field of its type
                **cast(
                    dict[str, Any],
                    {
                        k: (
                            tuple(_typed(e, item.get("type", "any"), iso) for e in v)
                            if k == "enum"
                            else _typed(v, item.get("type", "any"), iso)
                        )
                        for k, v in (item.get("constraints") or {}).items()
                    },
                )
            ),
            title=item.get("title"),
            description=item.get("description"),
            severity=item.get("severity"),
        )
        for item in data.get("fields") or []
    )
    keys = data.get("primaryKey")
    missing = data.get("missingValues")
    types = {f.name: f.type for f in fields}

    def option(key: str, value: Any, column: Any) -> Any:  # ISO text bounds of a date column
        if key not in ("min", "max"):
            return value
        return _typed(value, types.get(str(column), "any"), iso)

    return TableSchema(
        fields=fields,
        primary_key=(keys,) if isinstance(keys, str) else tuple(keys or ()),
        missing_values=None if missing is None else tuple(missing),
        expectations=tuple(
            Expectation(
                expect=item["expect"],
                options=tuple(
                    (k, _frozen(option(k, v, item.get("column"))))
                    for k, v in item.items()
                    if k != "expect"
                ),
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


def field_type(arrow_type: pa.DataType) -> str:
    """The Table Schema type of an Arrow type."""
    import pyarrow.types as t

    if t.is_dictionary(arrow_type):
        return field_type(arrow_type.value_type)
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


def schema_hash(schema: TableSchema) -> str:
    """A stable digest of the rules (not of comments or key order in the file)."""
    import hashlib

    text = json.dumps(to_data(schema), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
