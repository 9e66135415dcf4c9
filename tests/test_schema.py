"""Dataset schemas: load with every problem placed, dump/load round trip, inference."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import Result

from mlgit.data.infer import infer_schema
from mlgit.data.io import open_source
from mlgit.data.schema import (
    Constraints,
    Expectation,
    Field,
    TableSchema,
    dump_schema,
    load_schema,
    schema_problems,
)
from mlgit.errors import MlgitError
from tests.support import run_cli


def table() -> pa.Table:
    return pa.table(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "age": [31, None, 45, 22, 60, 38],
            "city": ["Oslo", "Lima", "Oslo", "Pune", "Lima", "Oslo"],
            "email": ["a@x.io", "b@y.org", "c@z.com", "d@x.io", "e@y.org", "f@z.com"],
            "score": [0.5, 0.25, None, 1.0, 0.75, 0.0],
            "signup": [dt.datetime(2024, 1, d) for d in range(1, 7)],
            "born": [dt.date(1990, 1, d) for d in range(1, 7)],
            "active": [True, False, True, True, False, None],
        }
    )


def full_schema() -> TableSchema:
    return TableSchema(
        title="people",
        primary_key=("id",),
        missing_values=("", "NA"),
        fields=(
            Field("id", "integer", Constraints(required=True, unique=True, minimum=1)),
            Field("age", "integer", Constraints(minimum=0, exclusiveMaximum=130), severity="warn"),
            Field("city", "string", Constraints(enum=("Lima", "Oslo", "Pune"))),
            Field("email", "string", Constraints(pattern=r"[^@]+@[^@]+\.[a-z]+", maxLength=50)),
            Field("score", "number", Constraints(minimum=0.0, maximum=1.0), description="model"),
            Field("signup", "datetime", Constraints(minimum=dt.datetime(2020, 1, 1, 12, 30))),
            Field("born", "date", Constraints(maximum=dt.date(2010, 12, 31))),
            Field("active", "boolean"),
        ),
        expectations=(
            Expectation("row_count", (("min", 1), ("max", 1000))),
            Expectation("mean", (("column", "score"), ("min", 0.1), ("severity", "warn"))),
            Expectation(
                "values_in_set", (("column", "city"), ("values", ("Oslo",)), ("mostly", 0.4))
            ),
            Expectation("compound_unique", (("columns", ("id", "city")),)),
            Expectation("quantile", (("column", "age"), ("q", 0.5), ("max", 50))),
        ),
    )


def test_dump_then_load_gives_the_same_schema(tmp_path: Path) -> None:
    schema = full_schema()
    file = tmp_path / "people.schema.yaml"
    file.write_text(dump_schema(schema), encoding="utf-8")
    assert load_schema(file) == schema
    assert file.read_text().startswith("# Dataset schema for mlgit")


def test_hand_edited_file_keeps_every_rule_through_load_and_dump(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(
        "# my notes\n"
        "primaryKey: id\n"
        "fields:\n"
        "  - name: id   # the key\n"
        "    type: integer\n"
        "    constraints: {required: true, minimum: 0}\n"
        "  - {name: tag, type: string, constraints: {pattern: '[a-z]+', minLength: 2}}\n"
        "expectations:\n"
        "  - {expect: null_fraction, column: tag, max: 0.5, severity: warn}\n"
        "  - {expect: columns, columns: [id, tag], ordered: true, allow_extra: true}\n"
        "  - {expect: custom, function: 'checks.py:ok', column: tag, mostly: 0.9}\n",
        encoding="utf-8",
    )
    loaded = load_schema(file)
    again = tmp_path / "again.yaml"
    again.write_text(dump_schema(loaded), encoding="utf-8")
    assert load_schema(again) == loaded
    assert (
        yaml.safe_load(again.read_text())["expectations"]
        == yaml.safe_load(file.read_text())["expectations"]
    )
    assert loaded.primary_key == ("id",)
    assert loaded.fields[1].constraints.pattern == "[a-z]+"


def test_infer_types_required_ranges_enum_unique(tmp_path: Path) -> None:
    pq.write_table(table(), tmp_path / "people.parquet", row_group_size=4)
    schema = infer_schema(open_source(tmp_path / "people.parquet"), enum_limit=3)
    by_name = {f.name: f for f in schema.fields}
    assert [f.type for f in schema.fields] == [
        "integer",
        "integer",
        "string",
        "string",
        "number",
        "datetime",
        "date",
        "boolean",
    ]
    # a unique, never-null integer is a key: no observed maximum, new rows bring larger ids
    assert by_name["id"].constraints == Constraints(required=True, unique=True, minimum=1)
    assert by_name["age"].constraints.required is None  # it has a null
    assert by_name["age"].constraints.minimum == 22 and by_name["age"].constraints.maximum == 60
    assert by_name["city"].constraints.enum == ("Lima", "Oslo", "Pune")
    assert by_name["email"].constraints.enum is None  # unique: a key, not a category
    assert by_name["email"].constraints.unique is True
    assert by_name["born"].constraints.maximum == dt.date(1990, 1, 6)
    assert schema.expectations[0].get("columns") == tuple(table().column_names)
    file = tmp_path / "people.schema.yaml"
    file.write_text(dump_schema(schema), encoding="utf-8")
    assert load_schema(file) == schema


def test_schema_infer_command_writes_a_file_that_validates(tmp_path: Path) -> None:
    pq.write_table(table(), tmp_path / "people.parquet")
    result = run_cli(tmp_path, "schema", "infer", "people.parquet", "-o", "schemas/people.yaml")
    assert result.exit_code == 0, result.output
    assert "Inferred from people.parquet" in (tmp_path / "schemas/people.yaml").read_text()
    result = run_cli(tmp_path, "validate", "people.parquet", "--schema", "schemas/people.yaml")
    assert result.exit_code == 0, result.output
    printed = run_cli(tmp_path, "schema", "infer", "people.parquet")
    assert printed.exit_code == 0 and "fields:" in printed.output
    assert "enum: [Lima, Oslo, Pune]" in printed.output
    no_enum = run_cli(tmp_path, "schema", "infer", "people.parquet", "--enum-limit", "2")
    assert no_enum.exit_code == 0 and "enum:" not in no_enum.output


def test_inferred_then_hand_edited_schema_keeps_every_rule(tmp_path: Path) -> None:
    pq.write_table(table(), tmp_path / "people.parquet")
    pq.write_table(table().slice(0, 4), tmp_path / "small.parquet")
    assert run_cli(tmp_path, "schema", "infer", "people.parquet", "-o", "s.yaml").exit_code == 0
    file = tmp_path / "s.yaml"
    edited = file.read_text().replace("maximum: 60", "maximum: 59  # a hand-set bound")
    edited += (
        "  - {expect: row_count, min: 5, severity: warn}\n"
        "  - {expect: values_between, column: score, min: 0.1, mostly: 0.5}\n"
        "  - {expect: quantile, column: age, q: 0.9, max: 70}\n"
    )
    edited = edited.replace("\nfields:\n", "\nprimaryKey: [id]\nmissingValues: ['', NA]\nfields:\n")
    file.write_text(edited, encoding="utf-8")
    loaded = load_schema(file)
    assert loaded.primary_key == ("id",) and loaded.missing_values == ("", "NA")
    assert [e.expect for e in loaded.expectations] == [
        "columns",
        "row_count",
        "values_between",
        "quantile",
    ]
    again = tmp_path / "again.yaml"
    again.write_text(dump_schema(loaded), encoding="utf-8")
    assert load_schema(again) == loaded
    assert yaml.safe_load(again.read_text()) == yaml.safe_load(file.read_text())
    result = run_cli(tmp_path, "validate", "people.parquet", "--schema", "again.yaml")
    assert result.exit_code == 1  # age 60 is now over the hand-set maximum
    assert "row 4: 60" in result.output
    small = run_cli(tmp_path, "validate", "small.parquet", "--schema", "again.yaml")
    assert small.exit_code == 0 and "1 warned" in small.output  # row_count is only a warning


def test_schema_infer_of_missing_file_writes_nothing(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "schema", "infer", "nope.parquet", "-o", "out.yaml")
    assert result.exit_code == 2
    assert "nope.parquet" in result.stderr and "no such file" in result.stderr
    assert not (tmp_path / "out.yaml").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "fields:\n  - name: a\n    constraints: {requird: true}\n",
            "s.yaml:3: fields.0.constraints.requird: unknown key; did you mean 'required'?",
        ),
        (
            "fields:\n  - name: a\nexpectations:\n  - {expect: row_cout, min: 1}\n",
            "s.yaml:4: expectations.0.expect: 'row_cout' is not one of",
        ),
        (
            "fields:\n  - name: a\nexpectations:\n  - {expect: row_count, mn: 1}\n",
            "s.yaml:4: expectations.0.mn: unknown key; did you mean 'min'?",
        ),
        (
            "fields:\n  - name: a\n    type: strng\n",
            "s.yaml:3: fields.0.type: 'strng' is not one of",
        ),
        (
            "fields:\n  - name: a\n    constraints:\n      pattern: '(ab'\n",
            "s.yaml:4: fields.0.constraints.pattern: invalid regular expression: missing )",
        ),
        (
            "fields:\n  - name: a\n    type: integer\n    constraints: {minimum: ten}\n",
            "s.yaml:4: fields.0.constraints.minimum: 'ten' is not an integer; write one such as 0",
        ),
        (
            "fields:\n  - name: d\n    type: date\n    constraints: {minimum: '2022-01-02'}\n",
            "minimum: '2022-01-02' is not a date; write it unquoted in YAML (2024-01-31): JSON "
            "has no dates",
        ),
        ("primaryKey: b\nfields:\n  - name: a\n", "s.yaml:1: primaryKey: 'b' is not a field"),
        ("fields: [\n", "s.yaml:2: not valid YAML"),
    ],
)
def test_bad_schema_files_name_the_place(tmp_path: Path, text: str, expected: str) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(MlgitError) as info:
        load_schema(file)
    assert expected in str(info.value).replace(str(tmp_path) + "/", "")


def test_every_problem_is_listed(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(
        "fields:\n  - name: a\n    typ: string\n  - name: b\n    constraints: {uniq: true}\n",
        encoding="utf-8",
    )
    problems = [str(p) for p in schema_problems(file)]
    assert len(problems) == 2
    assert problems[0].endswith("s.yaml:3: fields.0.typ: unknown key; did you mean 'type'?")
    assert problems[1].endswith(
        "s.yaml:5: fields.1.constraints.uniq: unknown key; did you mean 'unique'?"
    )


def test_check_config_reports_problems_in_schema_files(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    pq.write_table(table(), tmp_path / "people.parquet")
    (tmp_path / "mlgit.yaml").write_text(
        "version: 1\ndatasets:\n  people:\n    path: people.parquet\n"
        "    schema: people.schema.yaml\n",
        encoding="utf-8",
    )
    (tmp_path / "people.schema.yaml").write_text(
        "fields:\n  - name: id\n    tpye: integer\nexpectations:\n  - {expect: mean}\n",
        encoding="utf-8",
    )
    result = run_cli(tmp_path, "check-config")
    assert result.exit_code == 2
    assert "people.schema.yaml:3: fields.0.tpye: unknown key; did you mean 'type'?" in result.stderr
    assert "people.schema.yaml:5: expectations.0.column: required" in result.stderr
    assert "expectations.0: needs one of: min, max" in result.stderr
    assert "3 error(s)" in result.stderr


# ---------------------------------------------------------------- data that used to crash infer
def infer_then_validate(tmp_path: Path, data: str) -> Result:
    """`schema infer` of `data` succeeds, and the same data passes the schema it wrote."""
    inferred = run_cli(tmp_path, "schema", "infer", data, "-o", "s.yaml")
    assert inferred.exit_code == 0, inferred.output
    return run_cli(tmp_path, "validate", data, "--schema", "s.yaml", "--format", "json")


def field_of(tmp_path: Path, name: str) -> dict:
    data = yaml.safe_load((tmp_path / "s.yaml").read_text(encoding="utf-8"))
    return next(f for f in data["fields"] if f["name"] == name)


def test_infer_treats_a_dictionary_encoded_column_as_strings(tmp_path: Path) -> None:
    # what pandas writes for a Categorical: dictionary<values=string, indices=int8>
    values = pa.array(["a", "b", "a", None]).dictionary_encode()
    values = values.cast(pa.dictionary(pa.int8(), pa.string()))
    pq.write_table(pa.table({"c": values}), tmp_path / "cat.parquet", row_group_size=2)
    result = infer_then_validate(tmp_path, "cat.parquet")
    assert result.exit_code == 0, result.output
    assert field_of(tmp_path, "c") == {
        "name": "c",
        "type": "string",
        "constraints": {"enum": ["a", "b"]},
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_duplicate_column_names_are_bad_input(tmp_path: Path, fmt: str) -> None:
    if fmt == "csv":
        (tmp_path / "d.csv").write_text("a,a,b\n1,2,3\n", encoding="utf-8")
    else:
        table = pa.table([pa.array([1]), pa.array([2]), pa.array([3])], names=["a", "a", "b"])
        pq.write_table(table, tmp_path / "d.parquet")
    (tmp_path / "s.yaml").write_text("fields:\n  - {name: a, type: integer}\n", encoding="utf-8")
    for args in (("schema", "infer", f"d.{fmt}", "-o", "out.yaml"), ("validate", f"d.{fmt}")):
        result = run_cli(
            tmp_path, *args, *(["--schema", "s.yaml"] if args[0] == "validate" else [])
        )
        assert result.exit_code == 2, result.output
        assert f"d.{fmt}: duplicate column 'a' in the data; rename one" in result.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_infer_writes_decimals_as_numbers_yaml_holds(tmp_path: Path) -> None:
    import decimal

    values = pa.array([decimal.Decimal("1.10"), decimal.Decimal("2.25"), None])
    pq.write_table(pa.table({"d": values}), tmp_path / "dec.parquet")
    result = infer_then_validate(tmp_path, "dec.parquet")
    assert result.exit_code == 0, result.output
    assert field_of(tmp_path, "d")["constraints"] == {"minimum": 1.1, "maximum": 2.25}


def test_infer_of_a_directory_whose_files_have_different_columns(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    pq.write_table(pa.table({"a": [1]}), tmp_path / "parts" / "1.parquet")
    pq.write_table(pa.table({"a": [1], "b": [2]}), tmp_path / "parts" / "2.parquet")
    result = run_cli(tmp_path, "schema", "infer", "parts", "-o", "out.yaml")
    assert result.exit_code == 2, result.output
    assert "parts/2.parquet: has a column 'b'" in result.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_infer_of_a_directory_whose_parquet_types_cannot_widen(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    pq.write_table(pa.table({"a": [1]}), tmp_path / "parts" / "1.parquet")
    pq.write_table(pa.table({"a": ["x"]}), tmp_path / "parts" / "2.parquet")
    result = run_cli(tmp_path, "schema", "infer", "parts")
    assert result.exit_code == 2, result.output
    assert "parts/2.parquet: column 'a' is string here and int64 in 1.parquet" in result.stderr


def test_infer_of_csv_files_whose_column_types_differ_takes_the_wider(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "1.csv").write_text("a,b\n1,1\n2,2\n", encoding="utf-8")
    (tmp_path / "parts" / "2.csv").write_text("a,b\nx,2.5\n", encoding="utf-8")
    result = infer_then_validate(tmp_path, "parts")
    assert result.exit_code == 0, result.output
    assert field_of(tmp_path, "a")["type"] == "string"
    assert field_of(tmp_path, "b") == {
        "name": "b",
        "type": "number",
        "constraints": {"required": True, "minimum": 1.0, "maximum": 2.5},
    }


def test_inferred_bounds_of_float_with_nan_pass_the_same_data(tmp_path: Path) -> None:
    # NaN is missing (as in pandera and Great Expectations): not `required`, not out of range
    pq.write_table(pa.table({"f": [1.0, float("nan"), 3.0]}), tmp_path / "nan.parquet")
    result = infer_then_validate(tmp_path, "nan.parquet")
    assert result.exit_code == 0, result.output
    assert field_of(tmp_path, "f")["constraints"] == {"minimum": 1.0, "maximum": 3.0}


def test_inferred_bounds_of_nanosecond_timestamps_pass_the_same_data(tmp_path: Path) -> None:
    ticks = [1_000_000_000_123_456_789, 1_000_000_000_000_000_001]
    for tz in (None, "UTC"):
        values = pa.array(ticks, pa.int64()).cast(pa.timestamp("ns", tz=tz))
        pq.write_table(pa.table({"t": values}), tmp_path / "ns.parquet")
        result = infer_then_validate(tmp_path, "ns.parquet")
        assert result.exit_code == 0, result.output
        constraints = field_of(tmp_path, "t")["constraints"]
        # rounded outwards to the microseconds a datetime holds
        assert constraints["minimum"] == dt.datetime(2001, 9, 9, 1, 46, 40)
        assert constraints["maximum"] == dt.datetime(2001, 9, 9, 1, 46, 40, 123457)


def test_inferred_uint64_maximum_passes_the_same_data(tmp_path: Path) -> None:
    values = pa.array([1, 2**64 - 1, 2**64 - 1, 2**63], pa.uint64())
    pq.write_table(pa.table({"u": values}), tmp_path / "u.parquet")
    result = infer_then_validate(tmp_path, "u.parquet")
    assert result.exit_code == 0, result.output
    assert field_of(tmp_path, "u")["constraints"]["maximum"] == 2**64 - 1


def test_inferred_datetimes_with_utc_offsets_pass_the_same_data(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "ts\n2024-01-01T05:00:00+02:00\n2024-01-01T06:00:00+02:00\n", encoding="utf-8"
    )
    result = infer_then_validate(tmp_path, "t.csv")
    assert result.exit_code == 0, result.output
    constraints = field_of(tmp_path, "ts")["constraints"]
    assert constraints["minimum"] == dt.datetime(2024, 1, 1, 3)  # as UTC instants


def test_infer_refuses_csv_text_that_is_not_utf8(tmp_path: Path) -> None:

    (tmp_path / "latin1.csv").write_bytes(b"id,name\n1,caf\xe9\n2,ok\n")
    result = run_cli(None, "schema", "infer", str(tmp_path / "latin1.csv"))
    assert result.exit_code == 2  # not a silent `type: any`
    assert "latin1.csv:2: column 'name' is not valid UTF-8 text" in result.stderr
