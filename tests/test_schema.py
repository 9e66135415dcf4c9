"""Dataset schemas: load with every problem placed, dump/load round trip, inference."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner, Result

from mlgit.cli import cli
from mlgit.data.io import open_source
from mlgit.data.schema import (
    Constraints,
    Expectation,
    Field,
    TableSchema,
    dump_schema,
    infer_schema,
    load_schema,
    schema_problems,
)
from mlgit.errors import MlgitError


def run(cwd: Path, *args: str) -> Result:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


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
    result = run(tmp_path, "schema", "infer", "people.parquet", "-o", "schemas/people.yaml")
    assert result.exit_code == 0, result.output
    assert "Inferred from people.parquet" in (tmp_path / "schemas/people.yaml").read_text()
    result = run(tmp_path, "validate", "people.parquet", "--schema", "schemas/people.yaml")
    assert result.exit_code == 0, result.output
    printed = run(tmp_path, "schema", "infer", "people.parquet")
    assert printed.exit_code == 0 and "fields:" in printed.output
    assert "enum: [Lima, Oslo, Pune]" in printed.output
    no_enum = run(tmp_path, "schema", "infer", "people.parquet", "--enum-limit", "2")
    assert no_enum.exit_code == 0 and "enum:" not in no_enum.output


def test_inferred_then_hand_edited_schema_keeps_every_rule(tmp_path: Path) -> None:
    pq.write_table(table(), tmp_path / "people.parquet")
    pq.write_table(table().slice(0, 4), tmp_path / "small.parquet")
    assert run(tmp_path, "schema", "infer", "people.parquet", "-o", "s.yaml").exit_code == 0
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
    result = run(tmp_path, "validate", "people.parquet", "--schema", "again.yaml")
    assert result.exit_code == 1  # age 60 is now over the hand-set maximum
    assert "row 4: 60" in result.output
    small = run(tmp_path, "validate", "small.parquet", "--schema", "again.yaml")
    assert small.exit_code == 0 and "1 warned" in small.output  # row_count is only a warning


def test_schema_infer_of_missing_file_writes_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, "schema", "infer", "nope.parquet", "-o", "out.yaml")
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
            "s.yaml:4: fields.0.constraints.minimum: 'ten' is not a integer value",
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
    result = run(tmp_path, "check-config")
    assert result.exit_code == 2
    assert "people.schema.yaml:3: fields.0.tpye: unknown key; did you mean 'type'?" in result.stderr
    assert "people.schema.yaml:5: expectations.0.column: required" in result.stderr
    assert "expectations.0: needs one of: min, max" in result.stderr
    assert "3 error(s)" in result.stderr
