"""`mlgit validate`: formats, reports, every bad input, --rev, --changed, the cache."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from click.testing import Result

from mlgit.data.checks import validate
from mlgit.data.io import open_source
from mlgit.data.schema import load_schema
from tests.support import Project, conforms, run_cli

SCHEMA = """\
primaryKey: id
fields:
  - name: id
    type: integer
    constraints: {required: true, unique: true}
  - name: age
    type: integer
    constraints: {minimum: 0, maximum: 120}
  - name: email
    type: string
    constraints: {pattern: '[a-z]+@[a-z]+\\.[a-z]{2,3}'}
  - name: city
    type: string
    constraints: {enum: [Lima, Oslo, Pune]}
expectations:
  - {expect: row_count, min: 1}
  - {expect: mean, column: age, max: 200}
"""


def people(n: int = 40, bad_age: tuple[int, ...] = ()) -> pa.Table:
    ages = [20 + i % 50 for i in range(n)]
    for row in bad_age:
        ages[row] = 150
    return pa.table(
        {
            "id": list(range(n)),
            "age": ages,
            "email": ["user@mail.com" if i % 7 else None for i in range(n)],
            "city": [["Lima", "Oslo", "Pune"][i % 3] for i in range(n)],
        }
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "schema.yaml").write_text(SCHEMA, encoding="utf-8")
    return tmp_path


def results_of(output: str) -> dict:
    data = json.loads(output)
    conforms(data, "validate-result.schema.json")
    return data


def check(data: dict, name: str, column: str | None = None) -> dict:
    rows = data["datasets"][0]["checks"]
    return next(c for c in rows if c["check"] == name and (column is None or c["column"] == column))


# ---------------------------------------------------------------- formats and files
def test_parquet_passes_with_exit_0(work: Path) -> None:
    pq.write_table(people(), work / "p.parquet", row_group_size=16)
    result = run_cli(work, "validate", "p.parquet", "--schema", "schema.yaml")
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_failures_counted_with_row_numbers_and_exit_1(work: Path) -> None:
    pq.write_table(people(bad_age=(3, 17, 33)), work / "p.parquet", row_group_size=16)
    result = run_cli(work, "validate", "p.parquet", "--schema", "schema.yaml", "--format", "json")
    assert result.exit_code == 1
    data = results_of(result.output)
    maximum = check(data, "maximum", "age")
    assert maximum["unexpected_count"] == 3 and maximum["element_count"] == 40
    assert maximum["unexpected_percent"] == pytest.approx(7.5)
    assert maximum["examples"] == [{"row": r, "value": 150} for r in (3, 17, 33)]
    assert not maximum["examples_truncated"]
    assert check(data, "minimum", "age")["ok"] is True
    assert check(data, "required", "id")["element_count"] == 40
    assert check(data, "pattern", "email")["element_count"] == 40 - 6  # nulls are not checked
    assert data["ok"] is False and data["status"] == "fail"


def test_sample_limits_examples_and_says_so(work: Path) -> None:
    pq.write_table(people(bad_age=tuple(range(10))), work / "p.parquet")
    result = run_cli(work, "validate", "p.parquet", "--schema", "schema.yaml", "--sample", "2")
    assert result.exit_code == 1
    assert "10 failing values, examples truncated to the first 2" in result.output
    result = run_cli(
        work,
        "validate",
        "p.parquet",
        "--schema",
        "schema.yaml",
        "--sample",
        "2",
        "--format",
        "json",
    )
    maximum = check(results_of(result.output), "maximum", "age")
    assert [e["row"] for e in maximum["examples"]] == [0, 1]
    assert maximum["examples_truncated"] is True


def test_csv_with_missing_values_and_unconvertible_types(work: Path) -> None:
    (work / "s.yaml").write_text(
        "missingValues: ['', NA]\nfields:\n  - name: n\n    type: integer\n"
        "    constraints: {required: true, maximum: 10}\n  - name: d\n    type: date\n",
        encoding="utf-8",
    )
    (work / "c.csv").write_text(
        "n,d\n1,2024-01-01\nNA,2024-02-30\nseven,not a date\n12,2024-03-01\n", encoding="utf-8"
    )
    result = run_cli(work, "validate", "c.csv", "--schema", "s.yaml", "--format", "json")
    assert result.exit_code == 1
    data = results_of(result.output)
    assert check(data, "type", "n")["unexpected_count"] == 1
    assert check(data, "type", "n")["examples"] == [{"row": 2, "value": "seven"}]
    # NA only: seven is present (the type check counts it), not null
    assert check(data, "required", "n")["unexpected_count"] == 1
    assert check(data, "required", "n")["examples"] == [{"row": 1, "value": None}]
    assert check(data, "maximum", "n")["examples"] == [{"row": 3, "value": 12}]
    assert check(data, "type", "d")["unexpected_count"] == 2


def test_jsonl_and_directories_of_parquet(work: Path) -> None:
    table = people()
    (work / "parts").mkdir()
    pq.write_table(table.slice(0, 20), work / "parts" / "a.parquet")
    pq.write_table(table.slice(20), work / "parts" / "b.parquet")
    (work / "parts" / "_SUCCESS").write_text("")
    result = run_cli(work, "validate", "parts", "--schema", "schema.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    assert results_of(result.output)["datasets"][0]["row_count"] == 40
    lines = [json.dumps(row) for row in table.to_pylist()]
    lines[5] = json.dumps({**table.to_pylist()[5], "id": 4})
    (work / "p.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli(work, "validate", "p.jsonl", "--schema", "schema.yaml", "--format", "json")
    assert result.exit_code == 1
    unique = check(results_of(result.output), "unique", "id")
    assert unique["unexpected_count"] == 2
    assert [e["row"] for e in unique["examples"]] == [4, 5]


def test_markdown_is_compact_and_junit_has_one_testcase_per_check(work: Path) -> None:
    pq.write_table(people(bad_age=(1,)), work / "p.parquet")
    md = run_cli(work, "validate", "p.parquet", "--schema", "schema.yaml", "--format", "markdown")
    assert md.exit_code == 1
    assert md.output.startswith("### ❌ mlgit validate")
    assert "| ❌ | maximum | age |" in md.output
    assert "| ✅ |" not in md.output  # passing checks are only counted
    junit = run_cli(work, "validate", "p.parquet", "--schema", "schema.yaml", "--format", "junit")
    suite = ET.fromstring(junit.output).find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    json_out = run_cli(work, "validate", "p.parquet", "--schema", "schema.yaml", "--format", "json")
    assert len(cases) == len(results_of(json_out.output)["datasets"][0]["checks"])
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["maximum age"]
    assert suite.get("failures") == "1"


def test_output_file_is_written(work: Path) -> None:
    pq.write_table(people(), work / "p.parquet")
    result = run_cli(
        work,
        "validate",
        "p.parquet",
        "--schema",
        "schema.yaml",
        "--format",
        "json",
        "-o",
        "out/r.json",
    )
    assert result.exit_code == 0
    results_of((work / "out" / "r.json").read_text())


def test_warn_severity_never_fails_and_mostly_allows_some(work: Path) -> None:
    (work / "s.yaml").write_text(
        "fields:\n  - name: age\n    type: integer\n    severity: warn\n"
        "    constraints: {maximum: 100}\n  - {name: city, type: string}\n"
        "expectations:\n  - {expect: values_in_set, column: city, values: [Oslo], mostly: 0.3}\n"
        "  - {expect: values_between, column: age, min: 0, max: 60, mostly: 0.99}\n"
        "  - {expect: stdev, column: age, max: 1, severity: warn}\n",
        encoding="utf-8",
    )
    pq.write_table(people(bad_age=(0,)), work / "p.parquet")
    result = run_cli(work, "validate", "p.parquet", "--schema", "s.yaml", "--format", "json")
    data = results_of(result.output)
    assert check(data, "maximum")["status"] == "warn"
    assert check(data, "values_in_set")["ok"] is True  # a third are Oslo
    assert check(data, "values_between")["ok"] is False
    assert result.exit_code == 1  # values_between is an error
    assert check(data, "stdev")["status"] == "warn"


def test_custom_check_from_the_repository(work: Path) -> None:
    (work / "rules.py").write_text(
        "import pyarrow.compute as pc\n\ndef even_ids(batch):\n"
        "    return pc.equal(pc.bit_wise_and(batch.column('id'), 1), 0)\n",
        encoding="utf-8",
    )
    (work / "s.yaml").write_text(
        "fields:\n  - {name: id, type: integer}\n"
        "expectations:\n  - {expect: custom, function: 'rules.py:even_ids', column: id}\n",
        encoding="utf-8",
    )
    (work / ".git").mkdir()
    pq.write_table(people(6), work / "p.parquet")
    result = run_cli(work, "validate", "p.parquet", "--schema", "s.yaml", "--format", "json")
    custom = check(results_of(result.output), "custom:even_ids")
    assert custom["unexpected_count"] == 3
    assert [e["row"] for e in custom["examples"]] == [1, 3, 5]


def test_fail_fast_stops_reading(work: Path) -> None:
    table = pa.concat_tables([people(bad_age=(0,))] + [people()] * 10)
    pq.write_table(table, work / "p.parquet")
    source, schema = open_source(work / "p.parquet"), load_schema(work / "schema.yaml")
    from mlgit.data import io

    original = io.BATCH_ROWS
    io.BATCH_ROWS = 40
    try:
        result = validate(source, schema, fail_fast=True)
    finally:
        io.BATCH_ROWS = original
    assert result.stopped_early and not result.ok
    assert result.row_count == 40
    assert any(r.skipped for r in result.results)  # aggregate checks are not evaluated


# -------------------------------------------------------- bad input: exit 2, nothing written
def bad(work: Path, *args: str) -> Result:
    result = run_cli(work, "validate", *args, "--format", "json", "-o", "out.json")
    assert result.exit_code == 2, result.output
    assert not (work / "out.json").exists()
    assert "Traceback" not in result.stderr
    return result


def test_missing_file(work: Path) -> None:
    result = bad(work, "nope.parquet", "--schema", "schema.yaml")
    assert "nope.parquet: no such file or directory" in result.stderr


def test_corrupt_parquet(work: Path) -> None:
    (work / "c.parquet").write_bytes(b"PAR1 this is not parquet at all")
    result = bad(work, "c.parquet", "--schema", "schema.yaml")
    assert "c.parquet: cannot read as parquet" in result.stderr


def test_truncated_parquet(work: Path) -> None:
    pq.write_table(people(), work / "p.parquet")
    data = (work / "p.parquet").read_bytes()
    (work / "t.parquet").write_bytes(data[: len(data) // 2])
    result = bad(work, "t.parquet", "--schema", "schema.yaml")
    assert "t.parquet: cannot read as parquet" in result.stderr


def test_truncated_parquet_in_a_directory_names_the_file(work: Path) -> None:
    (work / "d").mkdir()
    pq.write_table(people(), work / "d" / "a.parquet")
    (work / "d" / "b.parquet").write_bytes((work / "d" / "a.parquet").read_bytes()[:100])
    result = run_cli(
        work, "validate", "d", "--schema", "schema.yaml", "--format", "json", "-o", "out.json"
    )
    assert result.exit_code == 2, result.output
    assert "d/b.parquet: cannot read as parquet" in result.stderr
    # the partial report: every other file checked, the unreadable one a failing row, never a pass
    report = json.loads((work / "out.json").read_text())
    assert report["ok"] is False
    assert report["datasets"][0]["row_count"] == people().num_rows
    readable = next(c for c in report["datasets"][0]["checks"] if c["check"] == "readable")
    assert readable["status"] == "fail" and "b.parquet" in readable["message"]


def test_csv_with_ragged_rows_reports_the_line(work: Path) -> None:
    (work / "r.csv").write_text("id,age\n1,2\n3,4\n5,6,7\n8,9\n", encoding="utf-8")
    result = bad(work, "r.csv", "--schema", "schema.yaml")
    assert "r.csv:4: row has 3 fields, the header has 2" in result.stderr


def test_csv_with_bad_encoding_reports_the_line(work: Path) -> None:
    (work / "e.csv").write_bytes(b"id,age,email,city\n1,2,a@b.io,Oslo\n2,3,\xff\xfe@b.io,Oslo\n")
    result = bad(work, "e.csv", "--schema", "schema.yaml")
    assert "e.csv:3: not valid UTF-8 text" in result.stderr


def test_column_in_schema_missing_from_data(work: Path) -> None:
    pq.write_table(people().drop_columns(["email"]), work / "p.parquet")
    result = bad(work, "p.parquet", "--schema", "schema.yaml")
    assert "schema.yaml: fields.2.name: column 'email' is not in p.parquet" in result.stderr


def test_invalid_regex(work: Path) -> None:
    (work / "s.yaml").write_text(
        "fields:\n  - name: email\n    constraints: {pattern: '[a-z'}\n", encoding="utf-8"
    )
    pq.write_table(people(), work / "p.parquet")
    result = bad(work, "p.parquet", "--schema", "s.yaml")
    assert "s.yaml:3: fields.0.constraints.pattern: invalid regular expression" in result.stderr


def test_unknown_constraint(work: Path) -> None:
    (work / "s.yaml").write_text(
        "fields:\n  - name: age\n    constraints: {maximun: 3}\n", encoding="utf-8"
    )
    pq.write_table(people(), work / "p.parquet")
    result = bad(work, "p.parquet", "--schema", "s.yaml")
    assert "s.yaml:3: fields.0.constraints.maximun: unknown key; did you mean 'maximum'?" in (
        result.stderr
    )


def test_unknown_expectation(work: Path) -> None:
    (work / "s.yaml").write_text(
        "fields:\n  - name: age\nexpectations:\n  - {expect: null_fractoin, column: age}\n",
        encoding="utf-8",
    )
    pq.write_table(people(), work / "p.parquet")
    result = bad(work, "p.parquet", "--schema", "s.yaml")
    assert "s.yaml:4: expectations.0.expect: 'null_fractoin' is not one of" in result.stderr
    assert "did you mean 'null_fraction'?" in result.stderr


def test_path_without_schema(work: Path) -> None:
    pq.write_table(people(), work / "p.parquet")
    result = bad(work, "p.parquet")
    assert "p.parquet: not a dataset of mlgit.yaml" in result.stderr and "--schema" in result.stderr


# ---------------------------------------------------------------- in a project: DVC, revisions
def add_dataset(project: Project, table: pa.Table) -> None:
    (project.root / "data").mkdir(exist_ok=True)
    pq.write_table(table, project.root / "data" / "people.parquet")
    project.write("schemas/people.schema.yaml", SCHEMA)
    result = project.mlgit("track", "data/people.parquet")
    assert result.exit_code == 0, result.output


def test_default_validates_every_dataset_of_mlgit_yaml(project: Project) -> None:
    add_dataset(project, people())
    pcsv.write_csv(people(5), project.root / "data" / "small.csv")
    assert project.mlgit("track", "data/small.csv").exit_code == 0
    result = project.mlgit("validate", "--format", "json")
    assert result.exit_code == 0, result.output
    data = results_of(result.output)
    assert [d["dataset"] for d in data["datasets"]] == ["people", "small"]
    assert data["datasets"][0]["schema"] == "schemas/people.schema.yaml"
    by_name = project.mlgit("validate", "small", "--format", "json")
    assert [d["dataset"] for d in results_of(by_name.output)["datasets"]] == ["small"]
    by_path = project.mlgit("validate", "data/small.csv", "--format", "json")
    assert [d["dataset"] for d in results_of(by_path.output)["datasets"]] == ["small"]
    assert json.loads(project.sh("dvc", "status", "--json").stdout) == {}


def test_rev_reads_the_data_as_tracked_then(project: Project) -> None:
    add_dataset(project, people(bad_age=(2,)))
    project.commit("bad data")
    pq.write_table(people(), project.root / "data" / "people.parquet")
    assert project.mlgit("track", "data/people.parquet").exit_code == 0
    project.commit("fixed data")
    now = project.mlgit("validate", "people")
    assert now.exit_code == 0, now.output
    then = project.mlgit("validate", "people", "--rev", "HEAD~1", "--format", "json")
    assert then.exit_code == 1
    data = results_of(then.output)
    assert data["datasets"][0]["source"] == "data/people.parquet@HEAD~1"
    assert check(data, "maximum", "age")["examples"] == [{"row": 2, "value": 150}]


def test_rev_fetches_from_the_remote_when_not_in_cache(project: Project) -> None:
    add_dataset(project, people(bad_age=(5,)))
    project.commit("data")
    project.sh("dvc", "push", "-q")
    shutil.rmtree(project.root / ".dvc" / "cache")
    result = project.mlgit("validate", "people", "--rev", "HEAD", "--format", "json")
    assert result.exit_code == 1, result.output
    assert check(results_of(result.output), "maximum", "age")["unexpected_count"] == 1


def test_rev_that_does_not_exist(project: Project) -> None:
    add_dataset(project, people())
    project.commit("data")
    result = bad(project.root, "people", "--rev", "no-such-rev")
    assert "revision 'no-such-rev' does not exist" in result.stderr


def test_rev_where_the_dataset_is_not_tracked(project: Project) -> None:
    add_dataset(project, people())
    project.commit("data")
    result = bad(project.root, "people", "--rev", "HEAD~1")
    assert "data/people.parquet is not tracked by DVC at revision" in result.stderr


def test_rev_with_data_not_in_cache_and_no_remote(project: Project) -> None:
    add_dataset(project, people())
    project.commit("data")
    project.sh("dvc", "remote", "remove", "local")
    shutil.rmtree(project.root / ".dvc" / "cache")
    result = bad(project.root, "people", "--rev", "HEAD")
    assert "not in the DVC cache and no DVC remote is configured" in result.stderr
    assert "dvc pull" in result.stderr and "dvc remote add" in result.stderr


def test_changed_validates_only_datasets_whose_hash_moved(project: Project) -> None:
    add_dataset(project, people())
    (project.root / "data" / "small.csv").write_text("id,age\n1,2\n", encoding="utf-8")
    assert project.mlgit("track", "data/small.csv").exit_code == 0
    project.commit("two datasets")
    project.sh("git", "checkout", "-q", "-b", "feature")
    pq.write_table(people(bad_age=(1,)), project.root / "data" / "people.parquet")
    assert project.mlgit("track", "data/people.parquet").exit_code == 0
    project.commit("new people data")
    result = project.mlgit("validate", "--changed", "--format", "json")
    assert result.exit_code == 1
    data = results_of(result.output)
    assert [d["dataset"] for d in data["datasets"]] == ["people"]
    assert data["unchanged"] == ["small"]
    assert data["base"] == project.sh("git", "rev-parse", "main").stdout.strip()
    explicit = project.mlgit("validate", "--changed", "HEAD", "--format", "json")
    assert explicit.exit_code == 0
    assert results_of(explicit.output)["datasets"] == []


def test_changed_schema_counts_as_a_change(project: Project) -> None:
    add_dataset(project, people())
    project.commit("data")
    project.write("schemas/people.schema.yaml", SCHEMA.replace("max: 200", "max: 10"))
    result = project.mlgit("validate", "--changed", "HEAD", "--format", "json")
    assert result.exit_code == 1
    assert check(results_of(result.output), "mean")["ok"] is False


# ---------------------------------------------------------------- the cache
def test_cache_reuses_results_until_data_or_schema_change(project: Project) -> None:
    add_dataset(project, people())
    first = results_of(project.mlgit("validate", "--format", "json").output)
    assert first["datasets"][0]["cached"] is False
    second = results_of(project.mlgit("validate", "--format", "json").output)
    assert second["datasets"][0]["cached"] is True
    assert second["datasets"][0]["checks"] == first["datasets"][0]["checks"]
    fresh = results_of(project.mlgit("validate", "--no-cache", "--format", "json").output)
    assert fresh["datasets"][0]["cached"] is False
    # Edited after `dvc add` (the .dvc md5 is now stale): must be read again.
    pq.write_table(people(bad_age=(4,)), project.root / "data" / "people.parquet")
    edited = project.mlgit("validate", "--format", "json")
    assert edited.exit_code == 1
    assert results_of(edited.output)["datasets"][0]["cached"] is False
    project.write("schemas/people.schema.yaml", SCHEMA.replace("maximum: 120", "maximum: 200"))
    reschema = results_of(project.mlgit("validate", "--format", "json").output)
    assert reschema["datasets"][0]["cached"] is False and reschema["ok"] is True


# ---------------------------------------------------------------- every rule, counted
EVERY_RULE = """\
primaryKey: [id, part]
fields:
  - {name: id, type: integer}
  - name: part
    type: integer
    constraints: {exclusiveMinimum: 0, exclusiveMaximum: 3}
  - name: name
    type: string
    constraints: {minLength: 2, maxLength: 4}
  - {name: score, type: number}
  - {name: city, type: string}
expectations:
  - {expect: row_count, min: 1, max: 5}
  - {expect: columns, columns: [id, part, name, score]}
  - {expect: columns, columns: [id, part, name], ordered: true, allow_extra: true}
  - {expect: columns, columns: [part, id], ordered: true, allow_extra: true}
  - {expect: null_fraction, column: score, max: 0.1}
  - {expect: quantile, column: score, q: 0.5, min: 0.3, max: 0.4}
  - {expect: unique_fraction, column: city, min: 0.9}
  - {expect: compound_unique, columns: [city, name]}
"""


def test_every_constraint_and_expectation_is_counted(work: Path) -> None:
    (work / "every.yaml").write_text(EVERY_RULE, encoding="utf-8")
    table = pa.table(
        {
            "id": [1, 1, 2, 2, 3, 3, None, 4],
            "part": [1, 1, 1, 2, 3, 0, 1, 2],
            "name": ["ab", "a", "abcde", "abcd", "ab", "xy", "ab", "zz"],
            "score": [0.1, None, 0.5, None, 0.9, 0.2, 0.3, 0.4],
            "city": ["a", "a", "b", "c", "d", "e", "a", "g"],
        }
    )
    pq.write_table(table, work / "e.parquet", row_group_size=3)
    result = run_cli(work, "validate", "e.parquet", "--schema", "every.yaml", "--format", "json")
    assert result.exit_code == 1, result.output
    data = results_of(result.output)
    assert check(data, "exclusiveMinimum", "part")["examples"] == [{"row": 5, "value": 0}]
    assert check(data, "exclusiveMaximum", "part")["examples"] == [{"row": 4, "value": 3}]
    assert check(data, "minLength", "name")["examples"] == [{"row": 1, "value": "a"}]
    assert check(data, "maxLength", "name")["examples"] == [{"row": 2, "value": "abcde"}]
    key = check(data, "primary_key")
    assert key["column"] == "id,part" and key["unexpected_count"] == 3  # two repeats, one null
    assert [e["row"] for e in key["examples"]] == [0, 1, 6]
    rows = check(data, "row_count")
    assert rows["ok"] is False and rows["observed"] == 8
    columns = [c for c in data["datasets"][0]["checks"] if c["check"] == "columns"]
    assert [c["ok"] for c in columns] == [False, True, False]
    assert "unexpected: city" in columns[0]["message"]
    assert "order is" in columns[2]["message"]
    nulls = check(data, "null_fraction")
    assert nulls["ok"] is False and nulls["observed"] == pytest.approx(0.25)
    median = check(data, "quantile")
    assert median["ok"] is True and median["observed"] == pytest.approx(0.35)
    fraction = check(data, "unique_fraction")
    assert fraction["ok"] is False and fraction["observed"] == pytest.approx(6 / 8)
    pair = check(data, "compound_unique")
    assert pair["unexpected_count"] == 2 and [e["row"] for e in pair["examples"]] == [0, 6]
    assert pair["examples"][0]["value"] == {"city": "a", "name": "ab"}


def test_warnings_alone_exit_0(work: Path) -> None:
    (work / "s.yaml").write_text(
        "fields:\n  - name: age\n    type: integer\n    severity: warn\n"
        "    constraints: {maximum: 100}\n"
        "expectations:\n  - {expect: row_count, max: 3, severity: warn}\n",
        encoding="utf-8",
    )
    pq.write_table(people(bad_age=(0,)), work / "p.parquet")
    result = run_cli(work, "validate", "p.parquet", "--schema", "s.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    data = results_of(result.output)
    assert data["status"] == "warn" and data["ok"] is True
    assert [check(data, name)["status"] for name in ("maximum", "row_count")] == ["warn"] * 2


# ---------------------------------------------------------------- the terminal report
def test_text_lists_only_problems_and_counts_the_passing_checks(work: Path) -> None:
    pq.write_table(people(bad_age=(3,)), work / "p.parquet")
    result = run_cli(work, "validate", "p.parquet", "--schema", "schema.yaml")
    assert result.exit_code == 1
    lines = [line.strip() for line in result.output.splitlines()]
    assert "13 checks: 12 passed, 1 failed" in result.output
    failing = [line for line in lines if line.startswith("✗") and "maximum" in line]
    assert len(failing) == 1 and "age" in failing[0] and "row 3: 150" in result.output
    assert not any(line.startswith("✓") for line in lines)  # no row per passing check
    assert "`mlgit validate -v` lists every check" in result.output


def test_text_when_everything_passes_is_one_line_per_dataset(work: Path) -> None:
    pq.write_table(people(), work / "p.parquet")
    result = run_cli(work, "validate", "p.parquet", "--schema", "schema.yaml")
    assert result.exit_code == 0
    assert "13 checks: 13 passed" in result.output
    assert "minimum" not in result.output and "pattern" not in result.output


def test_verbose_text_lists_every_check(work: Path) -> None:
    pq.write_table(people(bad_age=(3,)), work / "p.parquet")
    result = run_cli(work, "validate", "p.parquet", "--schema", "schema.yaml", "-v")
    assert result.exit_code == 1
    lines = [line.strip() for line in result.output.splitlines()]
    marks = [line[0] for line in lines if line[:1] in ("✓", "✗") and "│" in line]
    assert marks.count("✗") == 1 and marks.count("✓") == 12
    again = run_cli(work, "validate", "p.parquet", "--schema", "schema.yaml", "--verbose")
    assert "(40 rows, cached)" in again.output and "✓ │ minimum" in again.output


def test_progress_bar_only_on_a_terminal(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pty
    import sys

    from mlgit.report import progress as pipeline

    with pipeline.progress_bar() as factory:  # stderr is not a terminal under pytest/CliRunner
        assert factory is None
    leader, follower = pty.openpty()
    terminal = os.fdopen(follower, "w", encoding="utf-8")
    monkeypatch.setattr(sys, "stderr", terminal)
    try:
        with pipeline.progress_bar(after=60) as factory:  # a quick run: no bar at all
            assert factory is not None
            factory("fast", 10)(10)
        terminal.flush()
        assert _read_all(leader) == b""
        with pipeline.progress_bar(after=0) as factory:
            tick = factory("people", 100)
            tick(40)
            tick(60)
        terminal.flush()
        shown = _read_all(leader).decode("utf-8", "replace")
    finally:
        monkeypatch.undo()
        terminal.close()
        os.close(leader)
    assert "validating people" in shown and "100/100" in shown


def _read_all(fd: int) -> bytes:
    import select

    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        chunks.append(os.read(fd, 65536))
    return b"".join(chunks)


# ---------------------------------------------------------------- custom checks gone wrong
@pytest.mark.parametrize(
    ("body", "function", "expected"),
    [
        (
            "def boom(batch):\n    raise ValueError('no')\n",
            "rules.py:boom",
            "rules.py:boom raised ValueError: no; fix the function",
        ),
        (
            "def short(batch):\n    return [True]\n",
            "rules.py:short",
            "rules.py:short returned 1 values of type bool for 6 rows",
        ),
        (
            "def nothing(batch):\n    return None\n",
            "rules.py:nothing",
            "rules.py:nothing returned NoneType for 6 rows; return one boolean per row",
        ),
        ("x = 1\n", "rules.py:missing", "rules.py defines no function 'missing'"),
        ("x = 1\n", "nope.py:f", "nope.py does not exist"),
        ("x = 1\n", "../outside.py:f", "is outside the repository"),
    ],
)
def test_custom_check_errors_are_bad_input(
    work: Path, body: str, function: str, expected: str
) -> None:
    (work / "rules.py").write_text(body, encoding="utf-8")
    (work.parent / "outside.py").write_text("def f(batch):\n    return []\n", encoding="utf-8")
    (work / "s.yaml").write_text(
        f"fields:\n  - {{name: id, type: integer}}\n"
        f"expectations:\n  - {{expect: custom, function: '{function}'}}\n",
        encoding="utf-8",
    )
    (work / ".git").mkdir()
    pq.write_table(people(6), work / "p.parquet")
    result = bad(work, "p.parquet", "--schema", "s.yaml")
    assert "s.yaml: expectations.0" in result.stderr and expected in result.stderr


def test_tracked_file_missing_from_the_work_tree_says_dvc_pull(project: Project) -> None:
    add_dataset(project, people())
    (project.root / "data" / "people.parquet").unlink()
    result = bad(project.root, "people")
    assert "data/people.parquet: no such file or directory; run `dvc pull`" in result.stderr


def test_expectation_on_a_column_missing_from_data(work: Path) -> None:
    (work / "s.yaml").write_text(
        "fields:\n  - {name: age, type: integer}\n"
        "expectations:\n  - {expect: mean, column: agee, max: 3}\n",
        encoding="utf-8",
    )
    pq.write_table(people(), work / "p.parquet")
    result = bad(work, "p.parquet", "--schema", "s.yaml")
    assert "s.yaml: expectations.0: column 'agee' is not in p.parquet" in result.stderr


def test_fail_fast_from_the_command_line(work: Path) -> None:
    rows = 300_000  # more than one batch
    ages = pa.array([150] + [30] * (rows - 1), pa.int64())
    pq.write_table(pa.table({"age": ages}), work / "big.parquet", row_group_size=100_000)
    (work / "s.yaml").write_text(
        "fields:\n  - name: age\n    type: integer\n    constraints: {maximum: 120}\n"
        "expectations:\n  - {expect: mean, column: age, max: 100}\n",
        encoding="utf-8",
    )
    args = ("validate", "big.parquet", "--schema", "s.yaml", "--format", "json")
    stopped = results_of(run_cli(work, *args, "--fail-fast").output)["datasets"][0]
    assert stopped["stopped_early"] is True and stopped["row_count"] < rows
    assert next(c for c in stopped["checks"] if c["check"] == "mean")["status"] == "skip"
    full = results_of(run_cli(work, *args, "--no-cache").output)["datasets"][0]
    assert full["stopped_early"] is False and full["row_count"] == rows
    text = run_cli(work, "validate", "big.parquet", "--schema", "s.yaml", "--fail-fast")
    assert text.exit_code == 1 and "--fail-fast stopped at the first failing batch" in text.output


# ---------------------------------------------------------------- data that used to crash validate
def counts(work: Path, data: str, schema: str) -> dict:
    """(check, column) -> unexpected_count of validating `data` (a failing run, exit 1)."""
    (work / "s.yaml").write_text(schema, encoding="utf-8")
    result = run_cli(work, "validate", data, "--schema", "s.yaml", "--format", "json", "-v")
    assert result.exit_code == 1, result.output
    rows = results_of(result.output)["datasets"][0]["checks"]
    return {(c["check"], c["column"]): c["unexpected_count"] for c in rows}


def test_uint64_bounds_compare_over_the_whole_range(work: Path) -> None:
    values = pa.array([0, 2**63, 2**64 - 1, None], pa.uint64())
    pq.write_table(pa.table({"u": values}), work / "u.parquet")
    schema = (
        "fields:\n  - name: u\n    type: integer\n"
        "    constraints: {minimum: -5, maximum: 18446744073709551614}\n"
        "  - name: v\n    type: any\n    constraints: {maximum: 18446744073709551616}\n"
    )
    pq.write_table(pa.table({"u": values, "v": values}), work / "u.parquet")
    found = counts(work, "u.parquet", schema)
    assert found[("minimum", "u")] == 0
    assert found[("maximum", "u")] == 1  # 2**64-1 only
    assert found[("maximum", "v")] == 0  # a bound beyond the type: every value is below it


def test_bytes_that_are_not_utf8_are_not_strings(work: Path) -> None:
    values = pa.array([b"ok", b"\xff\xfe", None, b"fine"], pa.binary())
    pq.write_table(pa.table({"s": values}), work / "b.parquet")
    found = counts(
        work, "b.parquet", "fields:\n  - {name: s, type: string, constraints: {maxLength: 3}}\n"
    )
    assert found[("type", "s")] == 1
    assert found[("maxLength", "s")] == 1  # 'fine'; the bad bytes are counted by type only


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "fields:\n  - {name: x, type: any, constraints: {minimum: 1}}\n",
            "s.yaml: fields.0.constraints.minimum: column 'x' holds strings; "
            "minimum needs numbers or dates",
        ),
        (
            "fields:\n  - {name: n, type: integer}\n"
            "expectations:\n  - {expect: mean, column: x, max: 3}\n",
            "s.yaml: expectations.0: column 'x' holds strings; mean needs numbers or dates",
        ),
        (
            "fields:\n  - {name: n, type: integer}\n"
            "expectations:\n  - {expect: stdev, column: d, max: 3}\n",
            "s.yaml: expectations.0: column 'd' holds dates; stdev needs numbers",
        ),
    ],
)
def test_rules_on_a_column_of_the_wrong_kind_are_bad_input(
    work: Path, rule: str, expected: str
) -> None:
    table = pa.table({"x": ["a", "b"], "d": [dt.date(2024, 1, 1), None], "n": [1, 2]})
    pq.write_table(table, work / "k.parquet")
    (work / "s.yaml").write_text(rule, encoding="utf-8")
    result = bad(work, "k.parquet", "--schema", "s.yaml")
    assert expected in result.stderr


def test_mean_and_quantile_of_dates_count_days_since_1970(work: Path) -> None:
    days = [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 6), None]
    stamps = [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 0, 0, 10), None, None]
    pq.write_table(pa.table({"d": days, "t": stamps}), work / "d.parquet")
    schema = (
        "fields:\n  - {name: d, type: date}\nexpectations:\n"
        "  - {expect: quantile, column: d, q: 0.5, min: 19724, max: 19724}\n"
        "  - {expect: mean, column: d, max: 19724}\n"
        "  - {expect: mean, column: t, min: 1704067205, max: 1704067205}\n"
    )
    (work / "s.yaml").write_text(schema, encoding="utf-8")
    result = run_cli(work, "validate", "d.parquet", "--schema", "s.yaml", "--format", "json", "-v")
    assert result.exit_code == 1, result.output
    data = results_of(result.output)
    assert check(data, "quantile", "d")["ok"] is True
    mean = check(data, "mean", "d")
    assert mean["ok"] is False and mean["observed"] == 19725.0
    assert "days since 1970-01-01 (2024-01-03)" in mean["message"]
    assert check(data, "mean", "t")["ok"] is True


def test_csv_datetimes_with_and_without_utc_offsets(work: Path) -> None:
    (work / "t.csv").write_text(
        "id,ts\n1,2024-01-01T05:00:00+02:00\n2,2024-01-01T03:30:00Z\n3,2024-01-01T02:00:00\n"
        "4,not a time\n5,\n6,2024-01-01T04:00:00+0100\n",
        encoding="utf-8",
    )
    schema = (
        "fields:\n  - name: ts\n    type: datetime\n"
        "    constraints: {required: true, minimum: 2024-01-01T03:00:00}\n"
    )
    found = counts(work, "t.csv", schema)
    assert found[("type", "ts")] == 1  # not a time
    assert found[("required", "ts")] == 1  # the empty value only
    assert found[("minimum", "ts")] == 1  # 02:00, naive, read as UTC


def test_nan_is_missing_in_every_rule(work: Path) -> None:
    nan = float("nan")
    pq.write_table(
        pa.table({"f": [1.0, nan, 3.0, None], "i": [1.0, nan, 2.0, 3.0]}), work / "n.parquet"
    )
    schema = (
        "fields:\n  - name: f\n    type: number\n"
        "    constraints: {required: true, minimum: 1, maximum: 3}\n"
        "  - {name: i, type: integer, constraints: {required: true}}\n"
    )
    found = counts(work, "n.parquet", schema)
    assert found[("required", "f")] == 2
    assert found[("minimum", "f")] == found[("maximum", "f")] == 0
    assert found[("type", "i")] == 0  # NaN in a float column of integers is a missing value
    assert found[("required", "i")] == 1


def test_validate_never_imports_pandas_even_on_the_slow_paths(work: Path) -> None:
    """pa.array, pa.scalar and Python values given to kernels import pandas (~0.3 s)."""
    import subprocess
    import sys

    (work / "c.csv").write_text(
        "n,ts,f,b,s\n1,2024-01-01T00:00:00Z,1.5,true,abc\nx,2024-01-01T00:00:00,nan,maybe,\n"
        ",bad,,0,abcdef\n",
        encoding="utf-8",
    )
    table = pa.table(
        {
            "n": [1.0, 2.5, float("nan")],
            "ts": ["x", "2024-01-01", None],
            "f": pa.array([1, 2**64 - 1, 3], pa.uint64()),
            "b": [0, 1, 2],
            "s": pa.array([b"abc", b"\xff", None], pa.binary()),
        }
    )
    pq.write_table(table, work / "p.parquet")
    (work / "s.yaml").write_text(
        "fields:\n  - {name: n, type: integer, constraints: {required: true, minimum: 0}}\n"
        "  - {name: ts, type: datetime, constraints: {required: true}}\n"
        "  - {name: f, type: number, constraints: {required: true, maximum: 1}}\n"
        "  - {name: b, type: boolean}\n"
        "  - {name: s, type: string, constraints: {minLength: 2, maxLength: 4}}\n",
        encoding="utf-8",
    )
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from mlgit.data.checks import validate\nfrom mlgit.data.io import open_source\n"
        "from mlgit.data.schema import load_schema\n"
        "for name in ('c.csv', 'p.parquet'):\n"
        "    result = validate(open_source(Path(name)), load_schema(Path('s.yaml')))\n"
        "    assert not result.ok\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=work, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def test_a_value_of_the_wrong_type_is_not_counted_again_as_null(work: Path) -> None:
    (work / "k.csv").write_text("id,n\n1,5\nseven,x\n,7\n3,\n", encoding="utf-8")
    schema = (
        "primaryKey: id\nfields:\n  - {name: id, type: integer}\n"
        "  - {name: n, type: integer, constraints: {required: true}}\n"
    )
    found = counts(work, "k.csv", schema)
    assert found[("type", "id")] == found[("type", "n")] == 1
    assert found[("required", "n")] == 1  # the empty value, not x
    assert found[("primary_key", "id")] == 1  # the empty id, not seven


def test_examples_of_a_directory_dataset_name_their_file(work: Path) -> None:
    (work / "parts").mkdir()
    (work / "parts" / "a.csv").write_text("n\n1\n2\n50\n", encoding="utf-8")
    (work / "parts" / "b.csv").write_text("n\n3\n60\n4\n70\n", encoding="utf-8")
    (work / "pq").mkdir()
    table = pa.table({"n": [1, 50, 2, 3, 60, 4, 5, 6]})
    pq.write_table(table.slice(0, 3), work / "pq" / "a.parquet", row_group_size=1)
    pq.write_table(table.slice(3), work / "pq" / "b.parquet", row_group_size=2)  # parallel
    (work / "n.yaml").write_text(
        "fields:\n  - {name: n, type: integer, constraints: {maximum: 10}}\n", encoding="utf-8"
    )
    expected = {
        "parts": [("a.csv", 2, 50), ("b.csv", 1, 60), ("b.csv", 3, 70)],
        "pq": [("a.parquet", 1, 50), ("b.parquet", 1, 60)],
    }
    for name, wanted in expected.items():
        result = run_cli(work, "validate", name, "--schema", "n.yaml", "--format", "json")
        assert result.exit_code == 1, result.output
        examples = check(results_of(result.output), "maximum", "n")["examples"]
        assert examples == [{"row": r, "value": v, "file": f} for f, r, v in wanted]
        text = run_cli(work, "validate", name, "--schema", "n.yaml", "--format", "markdown")
        assert all(f"{f} row {r}: {v}" in text.output for f, r, v in wanted), text.output
    single = run_cli(work, "validate", "parts/b.csv", "--schema", "n.yaml", "--format", "json")
    examples = check(results_of(single.output), "maximum", "n")["examples"]
    assert examples == [{"row": 1, "value": 60}, {"row": 3, "value": 70}]  # one file: no name


def test_csv_timestamps_whose_zone_changes_read_the_same_whatever_the_block(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlgit.data import io, readers

    schema_text = (
        "fields:\n  - {name: id, type: integer, constraints: {maximum: 5000}}\n"
        "  - {name: ts, type: any, constraints: {required: true}}\n"
    )
    (work / "s.yaml").write_text(schema_text, encoding="utf-8")
    pairs = [
        ("2024-01-01 10:00:00", "2024-01-01T10:00:00Z"),
        ("2024-01-01T10:00:00Z", "2024-01-01 10:00:00"),
    ]
    for first, later in pairs:
        rows = [f"{i},{first}" for i in range(3000)] + [f"{i + 3000},{later}" for i in range(3000)]
        rows[4] = "4,"
        (work / "t.csv").write_text("id,ts\n" + "\n".join(rows) + "\n", encoding="utf-8")
        found = []
        for block, batch in ((1 << 21, io.BATCH_ROWS), (1 << 12, 100)):
            monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", block)
            monkeypatch.setattr(io, "BATCH_ROWS", batch)
            result = validate(open_source(work / "t.csv"), load_schema(work / "s.yaml"))
            found.append({(r.check, r.column): r.unexpected_count for r in result.results})
            assert result.row_count == 6000
        assert found[0] == found[1]
        assert found[0][("required", "ts")] == 1 and found[0][("maximum", "id")] == 999


@pytest.mark.parametrize("row", ["", "Row #3002: "])
def test_a_csv_conversion_error_widens_the_column_with_or_without_its_row(
    work: Path, row: str
) -> None:
    from mlgit.data.readers import type_changed
    from mlgit.repo.dvc import DataFile

    (work / "t.csv").write_text("id,ts\n1,2024-01-01 10:00:00\n", encoding="utf-8")
    data_file = DataFile("t.csv", work / "t.csv")
    zone = f"In CSV column #1: {row}CSV conversion error to timestamp[s]: expected no zone offset"
    changed = type_changed(data_file, ValueError(f"{zone} in '2024-01-01T10:00:00Z'"))
    assert changed is not None and changed.column == "ts"
    number = f"In CSV column #0: {row}CSV conversion error to int64: invalid value '1.5'"
    changed = type_changed(data_file, ValueError(number))
    assert changed is not None and (changed.column, str(changed.wider)) == ("id", "double")
