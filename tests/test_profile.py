"""`mlgit profile`: mergeable profiles built batch by batch (halves merge into the whole)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import yaml

from mlgit.data import io
from mlgit.data import profile as profiles
from mlgit.data.io import open_source
from mlgit.errors import MlgitError
from tests.support import Project, conforms, read_table, write_parquet

EXACT_NUMERIC = ("count", "null_count", "min", "max", "quantiles", "histogram", "sketch")
CLOSE_NUMERIC = ("mean", "m2", "std")


def sample_table(rows: int = 20_000, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, rows)
    x[::97] = np.nan  # NaN counts as missing
    income = rng.lognormal(0, 2, rows)
    return pa.table(
        {
            "x": x,
            "year": pa.array(rng.integers(2000, 2025, rows)),
            "income": pa.array(income, mask=rng.random(rows) < 0.05),
            "delta": rng.normal(0, 1, rows),  # negative, zero-crossing values
            "city": pa.array(rng.choice(["paris", "rome", "oslo", "lima"], rows)),
            "flag": pa.array(rng.random(rows) < 0.3),
            "when": pa.array(
                np.datetime64("2024-01-01") + rng.integers(0, 365 * 86400, rows).astype("m8[s]")
            ),
        }
    )


def profile_of(path: Path, **kwargs) -> dict:
    return profiles.build(open_source(path), **kwargs)


def assert_same_profile(merged: dict, whole: dict) -> None:
    assert merged["rows"] == whole["rows"]
    assert list(merged["columns"]) == list(whole["columns"])
    for name, column in whole["columns"].items():
        other = merged["columns"][name]
        if column["kind"] == "numeric":
            for key in EXACT_NUMERIC:
                assert other[key] == column[key], (name, key)
            assert other.get("distinct_sketch") == column.get("distinct_sketch"), name
            assert other.get("distinct") == column.get("distinct"), name
            for key in CLOSE_NUMERIC:
                assert other[key] == pytest.approx(column[key], rel=1e-9, abs=1e-9), (name, key)
        else:
            assert other == column, name


def test_two_halves_merge_into_the_whole(tmp_path: Path) -> None:
    table = sample_table()
    half = table.num_rows // 3  # unequal halves: nothing may depend on the split
    whole = profile_of(write_parquet(table, tmp_path / "whole.parquet"))
    first = profile_of(write_parquet(table.slice(0, half), tmp_path / "a.parquet"))
    second = profile_of(write_parquet(table.slice(half), tmp_path / "b.parquet"))
    assert_same_profile(profiles.merge_profiles(first, second), whole)
    assert_same_profile(profiles.merge_profiles(second, first), whole)


def test_batch_size_does_not_change_the_profile(tmp_path: Path) -> None:
    table = sample_table(5_000)
    path = write_parquet(table, tmp_path / "d.parquet")
    reference = profile_of(path)
    accumulator = profiles.ProfileAccumulator()
    first_row = 0
    for batch in read_table(path).to_batches(max_chunksize=333):
        accumulator.update(batch, first_row)
        first_row += batch.num_rows
    assert_same_profile(accumulator.profile(str(path)), reference)


def test_big_batches_on_threads_match_small_batches(tmp_path: Path) -> None:
    table = sample_table(profiles.PARALLEL_ROWS * 2 + 5)
    path = write_parquet(table, tmp_path / "d.parquet")
    threaded = profiles.ProfileAccumulator()
    threaded.update(read_table(path).combine_chunks().to_batches()[0], 0)
    sequential = profiles.ProfileAccumulator()
    first_row = 0
    for batch in read_table(path).to_batches(max_chunksize=profiles.PARALLEL_ROWS // 4):
        sequential.update(batch, first_row)
        first_row += batch.num_rows
    assert not sequential._pending  # small batches: profiled on the calling thread
    assert bool(threaded._pending) == (profiles._pool() is not None)  # big: on the pool
    assert_same_profile(threaded.profile(str(path)), sequential.profile(str(path)))


def test_strings_read_as_dictionaries_profile_like_plain_strings(tmp_path: Path) -> None:
    table = sample_table(30_000)
    city = table["city"].combine_chunks()
    table = table.set_column(
        table.schema.get_field_index("city"),
        "city",
        pa.array(city.to_pylist(), mask=np.arange(len(city)) % 11 == 0),  # some missing
    )
    path = write_parquet(table, tmp_path / "d.parquet", row_group_size=7_000)
    source = open_source(path)
    assert io.dictionary_encoded(source, ["city"]) == ["city"]  # the dictionary path is taken
    plain = profiles.ProfileAccumulator()
    first_row = 0
    for batch in read_table(path).to_batches(max_chunksize=4_000):
        plain.update(batch, first_row)
        first_row += batch.num_rows
    read_as_dictionary = profiles.build(source)
    assert read_as_dictionary["columns"]["city"]["type"] == "string"  # the file's type
    assert_same_profile(read_as_dictionary, plain.profile(str(path)))


def test_dictionary_with_repeated_and_null_entries_counts_each_value_once() -> None:
    dictionary = pa.array(["a", "b", "a", None])
    indices = pa.array([0, 1, 2, 3, None, 2, 0], pa.int32())
    state = profiles.CategoricalState("string")
    state.update(pa.DictionaryArray.from_arrays(indices, dictionary))
    assert state.ranked() == [("a", 4), ("b", 1)]
    assert (state.count, state.null_count) == (7, 2)


def test_csv_types_widen_when_a_later_block_disagrees(project: Project) -> None:
    """CSV types are guessed from the first block (2 MiB); a later value that does not fit
    widens the column instead of failing the read."""
    rows = 300_000  # ~4 MiB: the odd values sit well past the first block
    lines = [f"{i},{i % 100},{i % 7}," for i in range(rows)]
    lines += [f"{rows},12.5,X7,2024-01-01"]  # a float, a string, and a late first value
    (project.root / "late.csv").write_text("id,amount,code,seen\n" + "\n".join(lines) + "\n")
    profile = profiles.build(open_source(project.root / "late.csv"))
    columns = profile["columns"]
    assert profile["rows"] == rows + 1
    assert (columns["amount"]["type"], columns["amount"]["max"]) == ("double", 99.0)
    assert columns["code"]["kind"] == "categorical" and columns["code"]["top"][-1]["count"] == 1
    assert columns["seen"]["null_count"] == rows
    assert columns["id"]["distinct"] <= rows + 1  # an estimate, never above the values
    result = project.mlgit("schema", "infer", "late.csv", "-o", "late.schema.yaml")
    assert result.exit_code == 0, result.output
    schema = yaml.safe_load((project.root / "late.schema.yaml").read_text())
    types = {field["name"]: field["type"] for field in schema["fields"]}
    assert types["amount"] == "number" and types["code"] == "string"


def test_numeric_summary_matches_numpy(tmp_path: Path) -> None:
    table = sample_table()
    column = profile_of(write_parquet(table, tmp_path / "d.parquet"))["columns"]["x"]
    x = table["x"].to_numpy()
    finite = x[np.isfinite(x)]
    assert column["count"] == len(x)
    assert column["null_count"] == int(np.isnan(x).sum())
    assert column["min"] == finite.min() and column["max"] == finite.max()
    assert column["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert column["std"] == pytest.approx(finite.std(ddof=1), rel=1e-9)
    for q, value in column["quantiles"].items():
        expected = np.quantile(finite, float(q), method="inverted_cdf")
        assert value == pytest.approx(expected, rel=column["relative_accuracy"] + 1e-6)


def test_histogram_has_quantile_bins_and_empty_open_ends(tmp_path: Path) -> None:
    table = sample_table()
    column = profile_of(write_parquet(table, tmp_path / "d.parquet"))["columns"]["income"]
    edges, counts = column["histogram"]["edges"], column["histogram"]["counts"]
    assert len(counts) == len(edges) + 1 == profiles.HISTOGRAM_BINS + 2
    assert counts[0] == 0 and counts[-1] == 0
    assert sum(counts) == column["count"] - column["null_count"]
    assert edges[0] <= column["min"] and edges[-1] >= column["max"]
    # exact counts on the edges: the same as binning the raw values
    values = table["income"].drop_null().to_numpy()
    assert counts == np.bincount(np.searchsorted(edges, values), minlength=len(counts)).tolist()
    share = np.array(counts[1:-1]) / sum(counts)
    assert np.all(np.abs(share - 0.1) < 0.02)  # deciles, although the data is heavy-tailed


def test_sketch_memory_is_bounded_and_offsets_keep_resolution(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    table = pa.table({"wide": rng.standard_cauchy(200_000), "narrow": 1000 + rng.random(200_000)})
    columns = profile_of(write_parquet(table, tmp_path / "d.parquet"))["columns"]
    for column in columns.values():
        sketch = column["sketch"]
        assert len(sketch["positive"]["keys"]) + len(sketch["negative"]["keys"]) < 2048
    # values around 1000 +- 0.5 still get ten distinct bins
    assert len(columns["narrow"]["histogram"]["edges"]) == 11
    assert columns["narrow"]["relative_accuracy"] < 1e-4


def test_special_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "const": pa.array([7.0] * 100),
            "zeros": pa.array([0] * 100),
            "nothing": pa.nulls(100),
            "all_nan": pa.array([float("nan")] * 100),
            "label": pa.array(["a"] * 60 + [None] * 40),
            "nested": pa.array([[1, 2]] * 100),
        }
    )
    columns = profile_of(write_parquet(table, tmp_path / "d.parquet"))["columns"]
    assert columns["const"]["histogram"]["counts"] == [0, 100, 0]
    assert columns["const"]["std"] == 0.0 and columns["const"]["quantiles"]["0.5"] == 7.0
    assert columns["zeros"]["histogram"]["counts"] == [0, 100, 0]
    assert columns["nothing"] == {"kind": "null", "type": "null", "count": 100, "null_count": 100}
    assert columns["all_nan"]["null_count"] == 100 and "histogram" not in columns["all_nan"]
    assert columns["label"]["top"] == [{"value": "a", "count": 60}]
    assert columns["label"]["null_count"] == 40
    assert columns["nested"]["kind"] == "other"


def test_categories_beyond_the_tracked_limit_go_to_other(tmp_path: Path) -> None:
    values = [f"id-{i}" for i in range(25_000)] + ["common"] * 1_000
    column = profile_of(write_parquet(pa.table({"id": values}), tmp_path / "d.parquet"))["columns"][
        "id"
    ]
    assert column["top"][0] == {"value": "common", "count": 1_000}
    assert len(column["top"]) == profiles.TOP_K
    assert column["truncated"] is True
    assert sum(t["count"] for t in column["top"]) + column["other_count"] == 26_000


def test_distinct_values_are_counted_and_merge(tmp_path: Path) -> None:
    rows = 30_000
    rng = np.random.default_rng(5)
    ids = rng.permutation(rows) * 7 + 10_000_000
    table = pa.table(
        {
            "id": pa.array(ids),
            "email": pa.array([f"user{i}@example.com" for i in ids]),
            "code": pa.array([f"c{i % 300}" for i in range(rows)]).dictionary_encode(),
            "year": pa.array(rng.integers(2000, 2025, rows), pa.int16()),
            "x": rng.normal(0, 1, rows),  # floats carry no distinct count
        }
    )
    whole = profile_of(write_parquet(table, tmp_path / "whole.parquet"))
    columns = whole["columns"]
    assert columns["code"]["distinct"] == 300 and columns["year"]["distinct"] == 25
    assert len(columns["code"]["distinct_sketch"]) == 300  # exact below DISTINCT_K
    for name in ("id", "email"):  # estimated beyond DISTINCT_K, within ~3 standard errors
        assert len(columns[name]["distinct_sketch"]) == profiles.DISTINCT_K
        assert columns[name]["distinct"] == pytest.approx(rows, rel=0.05), name
    assert "distinct" not in columns["x"] and "distinct_sketch" not in columns["x"]
    first = profile_of(write_parquet(table.slice(0, 11_111), tmp_path / "a.parquet"))
    second = profile_of(write_parquet(table.slice(11_111), tmp_path / "b.parquet"))
    for merged in (
        profiles.merge_profiles(first, second),
        profiles.merge_profiles(second, first),
    ):
        # email has more distinct values than are tracked: its top list is approximate,
        # its counts and distinct sketch are exact
        email, merged_email = whole["columns"]["email"], merged["columns"]["email"]
        assert email["truncated"] and merged_email["truncated"]
        for key in ("count", "null_count", "distinct", "distinct_sketch"):
            assert merged_email[key] == email[key], key
        for profile in (merged, whole):
            del profile["columns"]["email"]
        assert_same_profile(merged, whole)
        whole["columns"]["email"] = email


def test_string_hashes_depend_on_every_byte_and_the_order() -> None:
    values = pa.array(["", "a", "b", "ab", "ba", "aa", "a\x00", "user1@x", "user2@x", "é"])
    hashes = profiles._value_hashes(values)
    assert len(set(hashes.tolist())) == len(values)
    assert hashes.tolist() == profiles._value_hashes(values.cast(pa.large_string())).tolist()
    sliced = pa.array(["zz", "ab", "ba"]).slice(1)  # offsets into a shared buffer
    assert profiles._value_hashes(sliced).tolist() == hashes[3:5].tolist()


def test_profile_file_follows_the_schema(tmp_path: Path) -> None:
    profile = profile_of(write_parquet(sample_table(2_000), tmp_path / "d.parquet"))
    data = json.loads(profiles.dumps(profile))
    conforms(data, "profile.schema.json")


# ---------------------------------------------------------------- the CLI
def tracked_project(project: Project, table: pa.Table) -> Project:
    write_parquet(table, project.root / "data" / "train.parquet")
    assert project.mlgit("track", "data/train.parquet").exit_code == 0
    config = project.root / "mlgit.yaml"
    text = config.read_text().replace(
        "    path: data/train.parquet\n",
        "    path: data/train.parquet\n    reference: profiles/train.json\n",
    )
    config.write_text(text)
    project.commit("track train")
    return project


def test_profile_by_name_writes_the_reference(project: Project) -> None:
    tracked_project(project, sample_table(3_000))
    result = project.mlgit("profile", "train")
    assert result.exit_code == 0, result.output
    written = project.root / "profiles" / "train.json"
    assert "3000 rows, 7 columns" in result.output
    profile = profiles.load(written)
    assert profile["source"] == "data/train.parquet" and profile["rows"] == 3_000
    assert project.sh("dvc", "status").stdout.strip() == "Data and pipelines are up to date."


def test_profile_at_a_revision_reads_the_old_data(project: Project) -> None:
    tracked_project(project, sample_table(3_000, seed=1))
    project.sh("dvc", "push", "-q")
    write_parquet(sample_table(4_000, seed=2), project.root / "data" / "train.parquet")
    project.sh("dvc", "add", "-q", "data/train.parquet")
    project.commit("new data")
    result = project.mlgit(
        "profile", "train", "--rev", "HEAD~1", "-o", "old.json", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    old = json.loads((project.root / "old.json").read_text())
    assert old["rows"] == 3_000 and old["source"] == "data/train.parquet@HEAD~1"
    assert json.loads(result.output) == old  # --format json prints the profile itself
    expected = profile_of(
        write_parquet(sample_table(3_000, seed=1), project.root.parent / "v1.parquet")
    )
    assert old["columns"] == expected["columns"]


def test_profile_text_shows_dates_and_identifiers(project: Project) -> None:
    rows = 500
    days = np.datetime64("2024-01-01") + np.arange(rows).astype("m8[D]")
    table = pa.table(
        {
            "when": pa.array(days.astype("datetime64[ms]")),
            "day": pa.array(days),  # date32
            "at": pa.array(days.astype("datetime64[s]") + np.timedelta64(3600 + 61, "s")),
            "customer_id": pa.array(np.arange(rows) + 10_000_000),
            "plan": pa.array(np.array(["free", "pro"])[np.arange(rows) % 2]).dictionary_encode(),
        }
    )
    write_parquet(table, project.root / "d.parquet")
    result = project.mlgit("profile", "d.parquet", "-o", "p.json", "--format", "markdown")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("| ")]
    rows_by_name = {line.split("|")[1].strip(): line for line in lines}
    for name in ("when", "day"):
        assert "2024-01-01" in rows_by_name[name] and "2025-05-14" in rows_by_name[name]
        assert "e+" not in rows_by_name[name] and "days" in rows_by_name[name]  # std: a duration
    assert "2024-01-01 01:01:01" in rows_by_name["at"]
    assert "| 10000000 |" in rows_by_name["customer_id"]  # integers in full, not 1e+07
    assert "e+" not in rows_by_name["customer_id"].split("|")[6]  # the median
    assert "not compared by drift: customer_id" in result.output  # identifier-like
    assert "| plan | string | 0 | 2 |" in rows_by_name["plan"]  # not dictionary<values=...>
    profile = json.loads((project.root / "p.json").read_text())
    assert profile["columns"]["plan"]["type"].startswith("dictionary<values=string")


def test_corrupt_distinct_sketch_is_refused(tmp_path: Path) -> None:
    profile = profile_of(write_parquet(pa.table({"n": [3, 1, 2]}), tmp_path / "d.parquet"))
    profile["columns"]["n"]["distinct_sketch"].reverse()
    (tmp_path / "p.json").write_text(json.dumps(profile))
    with pytest.raises(MlgitError, match=r"p.json: columns.n.distinct_sketch: not a valid profile"):
        profiles.load(tmp_path / "p.json")


def test_profile_of_a_path_needs_an_output(project: Project) -> None:
    write_parquet(sample_table(100), project.root / "extra.parquet")
    result = project.mlgit("profile", "extra.parquet")
    assert result.exit_code == 2
    assert "extra.parquet" in result.stderr and "-o FILE" in result.stderr
    assert not (project.root / "profiles").exists()
    assert project.mlgit("profile", "extra.parquet", "-o", "p.json").exit_code == 0
    assert profiles.load(project.root / "p.json")["rows"] == 100


def test_profile_of_an_unknown_name(project: Project) -> None:
    result = project.mlgit("profile", "nope")
    assert result.exit_code == 2
    assert "nope" in result.stderr and "no dataset" in result.stderr
