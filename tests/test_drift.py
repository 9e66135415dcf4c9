"""`mlgit drift`: metrics checked against scipy, verdicts, bad inputs, plots, revisions."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chisquare, ks_2samp, wasserstein_distance

from mlgit.data import drift
from mlgit.data import profile as profiles
from mlgit.data.io import open_source
from mlgit.errors import MlgitError
from tests.support import Project, Templates, conforms, drifting_table, with_blocks, write_parquet

RULES = drift.settings(None)


def compare_tables(tmp_path: Path, reference: pa.Table, current: pa.Table, rules=RULES):
    ref = profiles.build(open_source(write_parquet(reference, tmp_path / "ref.parquet")))
    cur_source = open_source(write_parquet(current, tmp_path / "cur.parquet"))
    return drift.compare_source("t", ref, cur_source, rules), ref


def column(result: drift.DriftResult, name: str) -> drift.ColumnDrift:
    return next(c for c in result.columns if c.column == name)


# ---------------------------------------------------------------- metrics against scipy
def test_psi_by_hand_on_a_small_table() -> None:
    ref, cur = np.array([50.0, 30.0, 20.0]), np.array([30.0, 30.0, 40.0])
    # no empty bins: smoothing changes little; the by-hand PSI of the raw shares
    raw = sum((c - r) * math.log(c / r) for r, c in [(0.5, 0.3), (0.3, 0.3), (0.2, 0.4)])
    assert raw == pytest.approx(0.2408, abs=1e-4)
    assert drift.psi(drift.Binned(ref, cur)) == pytest.approx(raw, rel=1e-3)
    # with the documented smoothing exactly
    eps = drift.SMOOTHING
    p = [(x / 100 + eps) / (1 + 3 * eps) for x in ref]
    q = [(x / 100 + eps) / (1 + 3 * eps) for x in cur]
    by_hand = sum((b - a) * math.log(b / a) for a, b in zip(p, q, strict=True))
    assert drift.psi(drift.Binned(ref, cur)) == pytest.approx(by_hand, rel=1e-12)


def test_psi_with_an_empty_bin_is_finite() -> None:
    value = drift.psi(drift.Binned(np.array([10.0, 0.0]), np.array([5.0, 5.0])))
    assert math.isfinite(value) and value > 1


def test_categorical_metrics_match_scipy() -> None:
    ref, cur = np.array([40.0, 30.0, 20.0, 10.0, 0.0]), np.array([25.0, 25.0, 25.0, 20.0, 5.0])
    binned = drift.Binned(ref, cur)
    assert drift.js(binned) == pytest.approx(jensenshannon(ref, cur, base=2), rel=1e-12)
    used = (ref > 0) | (cur > 0)
    expected = (ref[used] + 0.5) / (ref[used].sum() + 0.5 * used.sum()) * cur.sum()
    assert drift.chi2(binned) == pytest.approx(chisquare(cur[used], expected).pvalue, rel=1e-9)


def test_numeric_metrics_match_scipy_on_the_same_bins(tmp_path: Path) -> None:
    result, ref = compare_tables(tmp_path, drifting_table(), drifting_table(seed=1, scale=1.05))
    amount = column(result, "amount")
    cur = profiles.build(open_source(tmp_path / "cur.parquet"), layout=ref)
    sketches = [profiles.LogSketch.from_dict(p["columns"]["amount"]["sketch"]) for p in (ref, cur)]
    level = max(s.level for s in sketches)
    (_, _, ref_points, ref_counts), (_, _, cur_points, cur_counts) = (
        s.at_level(level).buckets() for s in sketches
    )
    std = ref["columns"]["amount"]["std"]
    expected_w = wasserstein_distance(ref_points, cur_points, ref_counts, cur_counts) / std
    assert amount.value("wasserstein") == pytest.approx(expected_w, rel=1e-9)
    expected_ks = ks_2samp(np.repeat(ref_points, ref_counts), np.repeat(cur_points, cur_counts))
    assert amount.value("ks") == pytest.approx(expected_ks.statistic, rel=1e-12)
    # the fine sketch is close to the raw data: scipy on the raw values agrees closely
    raw_ref = drifting_table()["amount"].to_numpy()
    raw_cur = drifting_table(seed=1, scale=1.05)["amount"].to_numpy()
    assert amount.value("ks") == pytest.approx(ks_2samp(raw_ref, raw_cur).statistic, abs=1e-3)
    raw_w = wasserstein_distance(raw_ref, raw_cur) / raw_ref.std(ddof=1)
    assert amount.value("wasserstein") == pytest.approx(raw_w, rel=1e-3)


# ---------------------------------------------------------------- verdicts
def test_identical_data_has_zero_drift(tmp_path: Path) -> None:
    result, _ = compare_tables(tmp_path, drifting_table(), drifting_table())
    assert not result.drifted and result.share == 0
    for c in result.columns:
        assert c.verdict == "ok"
        for m in c.metrics:
            if m.metric == "chi2":
                assert m.value > 0.999  # p-value: no evidence of a difference
            else:
                assert m.value == pytest.approx(0.0, abs=1e-12), (c.column, m.metric)


def test_same_distribution_new_sample_is_ok(tmp_path: Path) -> None:
    result, _ = compare_tables(tmp_path, drifting_table(), drifting_table(seed=7))
    assert [c.verdict for c in result.columns] == ["ok"] * 4


def test_known_shifts_are_flagged(tmp_path: Path) -> None:
    shifted = drifting_table(seed=1, scale=1.2, mix=(0.1, 0.2, 0.3, 0.4))
    result, _ = compare_tables(tmp_path, drifting_table(), shifted)
    assert column(result, "amount").verdict == "drift"
    assert column(result, "city").verdict == "drift"
    assert column(result, "age").verdict == "ok"
    assert result.share == 0.5 and result.drifted


def test_new_category_and_values_beyond_the_range(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    ref = pa.table({"c": ["a", "b"] * 500, "x": rng.normal(0, 1, 1000)})
    cur = pa.table({"c": ["a", "b", "zz", "zz"] * 250, "x": rng.normal(0, 1, 1000) + 10})
    result, _ = compare_tables(tmp_path, ref, cur)
    c, x = column(result, "c"), column(result, "x")
    assert c.verdict == "drift" and "zz" in c.note
    assert c.labels[-1] == "(other)" and c.current_counts[-1] == 500
    assert x.verdict == "drift" and x.current_counts[-1] == 1000  # all above the reference max
    assert all(math.isfinite(m.value) for m in (*c.metrics, *x.metrics))


def test_all_null_constant_and_one_sided_columns(tmp_path: Path) -> None:
    n = 200
    ref = pa.table(
        {
            "gone": pa.array([1.0] * n),
            "empty": pa.nulls(n, pa.float64()),
            "null_typed": pa.nulls(n),
            "const": pa.array([5.0] * n),
            "const_moved": pa.array([5.0] * n),
            "cat_empty": pa.array(["a"] * n),
        }
    )
    cur = pa.table(
        {
            "gone": pa.nulls(n, pa.float64()),
            "empty": pa.nulls(n, pa.float64()),
            "null_typed": pa.array(["x"] * n),
            "const": pa.array([5.0] * n),
            "const_moved": pa.array([9.0] * n),
            "cat_empty": pa.nulls(n, pa.string()),
            "added": pa.array([1] * n),
        }
    )
    result, _ = compare_tables(tmp_path, ref, cur)
    verdicts = {c.column: (c.verdict, c.note) for c in result.columns}
    assert verdicts["gone"] == ("drift", f"all {n} values are missing in the current data")
    assert verdicts["empty"] == ("ok", "all values missing on both sides")
    assert verdicts["null_typed"] == (
        "drift",
        f"no values in the reference; {n} in the current data",
    )
    assert verdicts["const"][0] == "ok"
    assert verdicts["const_moved"][0] == "drift"
    assert verdicts["cat_empty"][0] == "drift"
    assert verdicts["added"][0] == "new"


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_data_with_columns_but_no_rows(tmp_path: Path, fmt: str) -> None:
    """A file with a schema (or a CSV header) and no rows still has its columns: each one is
    reported as empty, not as missing from the data."""
    write_parquet(drifting_table(500), tmp_path / "ref.parquet")
    reference = profiles.build(open_source(tmp_path / "ref.parquet"))
    empty = tmp_path / f"empty.{fmt}"
    if fmt == "csv":
        empty.write_text("amount,age,city,active\n")
    else:
        write_parquet(drifting_table(500).slice(0, 0), empty)
    profile = profiles.build(open_source(empty))
    assert profile["rows"] == 0 and list(profile["columns"]) == ["amount", "age", "city", "active"]
    result = drift.compare_source("t", reference, open_source(empty), RULES)
    assert {c.note for c in result.columns} == {"the current data has no rows"}
    assert result.drifted


def test_schema_mismatch_names_the_columns(tmp_path: Path) -> None:
    ref = pa.table({"a": [1.0, 2.0], "b": ["x", "y"], "c": [1, 2]})
    cur = pa.table({"a": ["1", "2"], "c": [1, 2]})
    with pytest.raises(MlgitError) as error:
        compare_tables(tmp_path, ref, cur)
    message = str(error.value)
    assert "missing from the current data: b" in message
    assert "a (double -> string)" in message


def test_ignored_columns_are_skipped(tmp_path: Path) -> None:
    rules = drift.settings({"columns": {"b": {"ignore": True}, "a": {"psi": {"fail": 100}}}})
    ref = pa.table({"a": [1.0, 2.0, 3.0] * 10, "b": ["x", "y", "z"] * 10})
    cur = pa.table({"a": [7.0, 8.0, 9.0] * 10})
    result, _ = compare_tables(tmp_path, ref, cur, rules)
    assert column(result, "b").verdict == "skip"
    a = column(result, "a")
    psi = next(m for m in a.metrics if m.metric == "psi")
    assert (psi.warn, psi.fail, psi.verdict) == (None, 100, "ok")
    assert a.verdict == "drift"  # by Wasserstein, still at its default


def id_table(rows: int, seed: int, scale: float = 1.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.arange(rows) + seed * 1_000_000
    return pa.table(
        {
            "customer_id": pa.array(ids),
            "email": pa.array([f"user{i}@example.com" for i in ids]),
            "amount": rng.normal(100, 15, rows) * scale,  # continuous: distinct, but compared
            "age": pa.array(rng.integers(18, 90, rows)),
        }
    )


def test_identifier_like_columns_are_skipped(tmp_path: Path) -> None:
    result, ref = compare_tables(tmp_path, id_table(2_000, 1), id_table(1_000, 2, scale=1.2))
    verdicts = {c.column: (c.verdict, c.note) for c in result.columns}
    for name in ("customer_id", "email"):
        assert verdicts[name] == ("skip", drift.IDENTIFIER_NOTE), name
        assert column(result, name).current_missing == 0.0
    assert verdicts["amount"][0] == "drift" and verdicts["age"][0] == "ok"
    assert [c.column for c in result.compared] == ["amount", "age"]
    assert result.share == 0.5 and result.drifted  # 1 of the 2 compared columns
    # named under drift.columns: compared after all (both drift: every id and email is new)
    rules = drift.settings({"columns": {"customer_id": {}, "email": {"ignore": False}}})
    forced = drift.compare_source("t", ref, open_source(tmp_path / "cur.parquet"), rules)
    assert column(forced, "customer_id").verdict == "drift"
    assert column(forced, "email").verdict == "drift"
    assert column(forced, "email").note == (
        "1000 new values: user2000000@example.com, user2000001@example.com, "
        "user2000002@example.com, ..."
    )


def test_small_or_repetitive_columns_are_not_identifiers(tmp_path: Path) -> None:
    few = pa.table({"n": pa.array(range(50)), "s": [f"v{i}" for i in range(50)]})
    repeated = pa.table({"n": pa.array([i % 1900 for i in range(2_000)])})  # 95% distinct
    mostly = pa.table({"n": pa.array([i % 1800 for i in range(2_000)])})  # 90% distinct
    for data, expected in ((few, "ok"), (repeated, "skip"), (mostly, "ok")):
        result, _ = compare_tables(tmp_path, data, data)
        assert {c.verdict for c in result.columns} == {expected}, data.schema


def test_new_values_note_is_short(tmp_path: Path) -> None:
    ref = pa.table({"c": ["a", "b"] * 500})
    cur = pa.table({"c": ["a"] * 500 + [f"new-{i % 250:03d}" for i in range(500)]})
    result, _ = compare_tables(tmp_path, ref, cur)
    assert column(result, "c").note == "250 new values: new-000, new-001, new-002, ..."
    one = pa.table({"c": ["a", "b"] * 400 + ["zz"] * 200})
    result, _ = compare_tables(tmp_path, ref, one)
    assert column(result, "c").note == "1 new value: zz"


def test_excluded_columns_are_skipped_and_may_be_absent(tmp_path: Path) -> None:
    rules = drift.settings({"exclude": ["city", "amount"]})
    shifted = drifting_table(seed=1, scale=1.2, mix=(0.1, 0.2, 0.3, 0.4)).drop_columns(["city"])
    result, _ = compare_tables(tmp_path, drifting_table(), shifted, rules)
    assert [(c.column, c.verdict) for c in result.columns if c.verdict == "skip"] == [
        ("amount", "skip"),
        ("city", "skip"),
    ]
    assert column(result, "amount").note == "excluded in mlgit.yaml"
    assert not result.drifted and result.share == 0


@pytest.mark.parametrize(
    ("reference_type", "current_type"),
    [
        (pa.timestamp("ms"), pa.timestamp("us")),
        (pa.timestamp("ns", "UTC"), pa.timestamp("ms", "UTC")),
        (pa.date32(), pa.timestamp("s")),
        (pa.duration("s"), pa.duration("ms")),
    ],
)
def test_time_in_another_unit_is_not_drift(tmp_path: Path, reference_type, current_type) -> None:
    """Training data written by one tool (pandas: ns) and production by another (us): the
    same instants, so no drift; the current data is profiled in the reference's unit."""
    rng = np.random.default_rng(0)

    def sample() -> pa.Array:
        days = rng.integers(0, 365, 5_000).astype("m8[D]")
        return pa.array(np.datetime64("2024-01-01", "s") + days.astype("m8[s]"))

    def column_of(dtype: pa.DataType) -> pa.Array:
        if pa.types.is_duration(dtype):
            seconds = rng.integers(0, 365 * 86400, 5_000).astype("m8[s]")
            return pa.array(seconds).cast(dtype)
        return sample().cast(dtype)

    result, _ = compare_tables(
        tmp_path,
        pa.table({"t": column_of(reference_type)}),
        pa.table({"t": column_of(current_type)}),
    )
    t = column(result, "t")
    assert t.verdict == "ok", [(m.metric, m.value) for m in t.metrics]
    assert t.value("psi") < 0.01


def test_timestamp_columns_drift_and_plot_as_dates(tmp_path: Path) -> None:
    from mlgit.report.plots import _bin_labels

    start = np.datetime64("2024-01-01", "ms")
    rng = np.random.default_rng(0)

    def days(shift: int) -> pa.Table:
        offsets = (rng.integers(0, 365, 5_000) + shift).astype("m8[D]").astype("m8[ms]")
        return pa.table({"signup": pa.array(start + offsets)})

    result, _ = compare_tables(tmp_path, days(0), days(120))
    signup = column(result, "signup")
    assert signup.verdict == "drift" and signup.dtype == "timestamp[ms]"
    labels = _bin_labels(signup)
    assert labels[0].startswith("≤ 2023-12-31") or labels[0].startswith("≤ 2024-01-01")
    assert all("e+" not in label for label in labels), labels
    assert labels[-1].startswith("> 2024-12-")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"psi": {"warn": 0.3, "fail": 0.2}}, "drift.psi: warn (0.3) is above fail (0.2)"),
        ({"js": {"fail": -1}}, "drift.js.fail: must be a number >= 0"),
        ({"chi2": {"warn": 0.01, "fail": 0.05}}, "drift.chi2: warn (0.01) is below fail (0.05)"),
        (
            {"columns": {"x": {"wasserstein": {"warn": 2, "fail": 1}}}},
            "drift.columns.x.wasserstein: warn (2) is above fail (1)",
        ),
    ],
)
def test_bad_thresholds(block: dict, message: str) -> None:
    with pytest.raises(MlgitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        drift.settings(block)


# ---------------------------------------------------------------- the CLI
def drift_project(project: Project, data: pa.Table, drift_block: str = "") -> Project:
    write_parquet(data, project.root / "data" / "train.parquet")
    assert project.mlgit("track", "data/train.parquet").exit_code == 0
    config = project.root / "mlgit.yaml"
    text = config.read_text().replace(
        "    path: data/train.parquet\n",
        "    path: data/train.parquet\n    reference: profiles/train.json\n",
    )
    config.write_text(with_blocks(text, drift_block))
    assert project.mlgit("profile", "train").exit_code == 0
    project.commit("track train with a reference")
    return project


def reference_of(rows: int) -> Callable[[Project], object]:
    return lambda project: drift_project(project, drifting_table(rows))


@pytest.fixture
def with_reference(tmp_path: Path, templates: Templates) -> Project:
    """`drift_project` over 2,000 rows, built once per session and copied."""
    return templates.derived("drift-2000", reference_of(2_000), tmp_path)


@pytest.fixture
def small_with_reference(tmp_path: Path, templates: Templates) -> Project:
    """`drift_project` over 500 rows, built once per session and copied."""
    return templates.derived("drift-500", reference_of(500), tmp_path)


def test_cli_no_drift_then_drift(with_reference: Project) -> None:
    before = with_reference.sh("dvc", "status").stdout
    same = with_reference.mlgit("drift", "train")
    assert same.exit_code == 0, same.output
    assert "no dataset drift: 0 of 4 columns drifted" in same.output
    write_parquet(
        drifting_table(2_000, seed=1, scale=1.2, mix=(0.1, 0.2, 0.3, 0.4)),
        with_reference.root / "prod.parquet",
    )
    result = with_reference.mlgit("drift", "train", "--data", "prod.parquet", "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    conforms(data, "drift-result.schema.json")
    assert data["drift"] is True and data["drifted_columns"] == ["amount", "city"]
    assert data["columns"][0]["metrics"]["psi"]["verdict"] == "drift"
    assert with_reference.sh("dvc", "status").stdout == before


def test_cli_text_fits_a_log_line_without_breaking_words(project: Project) -> None:
    data = drifting_table(2_000).append_column(
        "customer_identifier", pa.array(np.arange(2_000) + 10_000_000)
    )
    drift_project(project, data.append_column("monthly_charges_eur", data["amount"]))
    shifted = drifting_table(2_000, seed=1, scale=1.2)
    shifted = shifted.append_column(
        "customer_identifier", pa.array(np.arange(2_000) + 20_000_000)
    ).append_column("monthly_charges_eur", shifted["amount"])
    write_parquet(shifted, project.root / "prod.parquet")
    result = project.mlgit("drift", "train", "--data", "prod.parquet")
    assert result.exit_code == 0, result.output  # 2 of 5 columns: below the 0.5 share
    lines = result.output.splitlines()
    assert max(map(len, lines)) <= 120
    rows = {line.split("│")[1].strip(): line for line in lines if line.count("│") > 3}
    assert {"customer_identifier", "monthly_charges_eur", "amount", "city"} <= set(rows)
    assert "identifier-like:" in rows["customer_identifier"]
    assert "| drift " in rows["monthly_charges_eur"].replace("│", "|")


def test_cli_markdown_with_plots(with_reference: Project) -> None:
    write_parquet(drifting_table(2_000, seed=1, scale=1.2), with_reference.root / "prod.parquet")
    result = with_reference.mlgit(
        "drift", "train", "--data", "prod.parquet", "--plots", "out/plots",
        "--format", "markdown", "-o", "out/drift.md",
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # one column of four drifted: no dataset drift
    report = (with_reference.root / "out" / "drift.md").read_text()
    assert "![PSI per column](plots/drift-summary.png)" in report
    assert "![amount: reference vs current](plots/drift-amount.png)" in report
    for name in ("drift-summary.png", "drift-amount.png"):
        assert (with_reference.root / "out" / "plots" / name).read_bytes()[:4] == b"\x89PNG"
    assert not (with_reference.root / "out" / "plots" / "drift-age.png").exists()


def test_cli_thresholds_share_and_exclude_from_config(with_reference: Project) -> None:
    write_parquet(drifting_table(2_000, seed=1, scale=1.2), with_reference.root / "prod.parquet")
    args = ("drift", "train", "--data", "prod.parquet", "--format", "json")
    assert with_reference.mlgit(*args).exit_code == 0  # 1 of 4 drifted < the default share 0.5
    config = with_reference.root / "mlgit.yaml"
    original = config.read_text()
    config.write_text(with_blocks(original, "drift:\n  share: 0.25\n"))
    result = with_reference.mlgit(*args)
    assert result.exit_code == 1, result.output
    assert json.loads(result.output)["share_threshold"] == 0.25
    # a per-column override lets amount's shift pass; the other columns keep the defaults
    config.write_text(
        with_blocks(
            original,
            "drift:\n  share: 0.25\n  columns:\n"
            "    amount: {psi: {fail: 5}, wasserstein: {fail: 5}}\n",
        )
    )
    result = with_reference.mlgit(*args)
    assert result.exit_code == 0, result.output
    amount = json.loads(result.output)["columns"][0]
    assert amount["verdict"] == "ok" and amount["metrics"]["psi"]["fail"] == 5
    assert amount["metrics"]["ks"]["fail"] is None
    # or leave it out of drift altogether
    config.write_text(with_blocks(original, "drift:\n  share: 0.25\n  exclude: [amount]\n"))
    result = with_reference.mlgit(*args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["columns"][0]["verdict"] == "skip" and data["share"] == 0
    # an exclude that is not a list of names is a config error
    config.write_text(with_blocks(original, "drift:\n  exclude: amount\n"))
    result = with_reference.mlgit(*args)
    assert result.exit_code == 2 and "drift.exclude" in result.stderr


def test_cli_reference_file(with_reference: Project) -> None:
    write_parquet(drifting_table(2_000, seed=3), with_reference.root / "old.parquet")
    assert with_reference.mlgit("profile", "old.parquet", "-o", "old.json").exit_code == 0
    write_parquet(
        drifting_table(2_000, seed=1, scale=1.2, mix=(0.1, 0.2, 0.3, 0.4)),
        with_reference.root / "p.parquet",
    )
    result = with_reference.mlgit(
        "drift", "train", "--data", "p.parquet", "--reference", "old.json", "--format", "json"
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["reference"]["source"] == "old.parquet" and data["current"]["rows"] == 2_000
    assert data["drifted_columns"] == ["amount", "city"]


def test_cli_reference_data_is_profiled_on_the_fly(with_reference: Project) -> None:
    """Two data files, one command: the same result as `mlgit profile` then `mlgit drift`."""
    reference, current = drifting_table(2_000, seed=3), drifting_table(2_000, seed=1, scale=1.2)
    write_parquet(reference, with_reference.root / "old.parquet")
    write_parquet(current, with_reference.root / "p.parquet")
    assert with_reference.mlgit("profile", "old.parquet", "-o", "old.json").exit_code == 0
    args = ("drift", "train", "--data", "p.parquet", "--format", "json", "--reference")
    via_profile = with_reference.mlgit(*args, "old.json")
    on_the_fly = with_reference.mlgit(*args, "old.parquet")
    assert on_the_fly.exit_code == via_profile.exit_code == 0, on_the_fly.output
    data, expected = json.loads(on_the_fly.output), json.loads(via_profile.output)
    assert data["reference"]["source"] == "old.parquet"
    assert data["columns"] == expected["columns"] and data["drifted_columns"] == ["amount"]
    # a directory of CSV files is data too
    (with_reference.root / "old_csv").mkdir()
    pa.csv.write_csv(
        reference.drop_columns(["city", "active"]), with_reference.root / "old_csv/a.csv"
    )
    as_csv = with_reference.mlgit(
        "drift", "p.parquet", "--reference", "old_csv", "--format", "json"
    )
    assert as_csv.exit_code == 1, as_csv.output
    assert json.loads(as_csv.output)["drifted_columns"] == ["amount"]


def test_cli_base_rev_and_rev_read_dvc_data(with_reference: Project) -> None:
    with_reference.sh("dvc", "push", "-q")
    write_parquet(
        drifting_table(2_000, seed=1, scale=1.2), with_reference.root / "data" / "train.parquet"
    )
    with_reference.sh("dvc", "add", "-q", "data/train.parquet")
    with_reference.commit("shifted data")
    # the work tree (shifted) against the data as it was one commit ago
    result = with_reference.mlgit("drift", "train", "--base-rev", "HEAD~1", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["reference"]["source"] == "data/train.parquet@HEAD~1"
    assert data["drifted_columns"] == ["amount"]
    # the old data at HEAD~1 against the reference profiled from it: nothing moved
    old = with_reference.mlgit("drift", "train", "--rev", "HEAD~1", "--format", "json")
    assert old.exit_code == 0, old.output
    assert json.loads(old.output)["drifted_columns"] == []


# ---------------------------------------------------------------- bad input: exit 2, no output
def assert_refused(result, *words: str, nothing_at: Path) -> None:
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.stderr, result.stderr
    assert not nothing_at.exists()


def test_reference_from_another_schema(small_with_reference: Project) -> None:
    write_parquet(
        pa.table({"amount": ["a"], "age": [1]}), small_with_reference.root / "prod.parquet"
    )
    result = small_with_reference.mlgit("drift", "train", "--data", "prod.parquet", "-o", "r.txt")
    assert_refused(
        result,
        "profiles/train.json",
        "missing from the current data: city, active",
        "amount (double -> string)",
        nothing_at=small_with_reference.root / "r.txt",
    )


def test_corrupt_reference_profile(small_with_reference: Project) -> None:
    (small_with_reference.root / "profiles" / "train.json").write_text(
        '{"schema_version": 1, "rows": '
    )
    result = small_with_reference.mlgit("drift", "train", "-o", "r.txt")
    assert_refused(
        result,
        "profiles/train.json",
        "corrupt JSON",
        nothing_at=small_with_reference.root / "r.txt",
    )


def test_reference_that_is_not_a_profile(small_with_reference: Project) -> None:
    (small_with_reference.root / "other.json").write_text('{"schema_version": 1, "rows": -1}')
    result = small_with_reference.mlgit(
        "drift", "train", "--reference", "other.json", "-o", "r.txt"
    )
    assert_refused(
        result, "other.json", "not a valid profile", nothing_at=small_with_reference.root / "r.txt"
    )


def test_data_path_missing(small_with_reference: Project) -> None:
    result = small_with_reference.mlgit("drift", "train", "--data", "nope.parquet", "--plots", "p")
    assert_refused(
        result, "nope.parquet", "no such file", nothing_at=small_with_reference.root / "p"
    )


def test_reference_data_missing_or_unreadable(small_with_reference: Project) -> None:
    missing = small_with_reference.mlgit(
        "drift", "train", "--reference", "old.parquet", "-o", "r.txt"
    )
    assert_refused(
        missing, "old.parquet", "no such file", nothing_at=small_with_reference.root / "r.txt"
    )
    (small_with_reference.root / "old.txt").write_text("a,b\n1,2\n")
    unknown = small_with_reference.mlgit("drift", "train", "--reference", "old.txt", "-o", "r.txt")
    words = ("old.txt", "cannot tell the data format", "`format:` in mlgit.yaml")
    assert_refused(unknown, *words, nothing_at=small_with_reference.root / "r.txt")
    assert "--format-data" not in unknown.stderr  # no such option
    (small_with_reference.root / "old.parquet").write_bytes(b"PAR1 not really")
    broken = small_with_reference.mlgit(
        "drift", "train", "--reference", "old.parquet", "-o", "r.txt"
    )
    assert_refused(
        broken,
        "old.parquet",
        "cannot read as parquet",
        nothing_at=small_with_reference.root / "r.txt",
    )


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ("drift:\n  psi: {warn: 0.5, fail: 0.2}\n", ("mlgit.yaml:", "drift.psi", "warn (0.5)")),
        ("drift:\n  js: {fail: -0.1}\n", ("mlgit.yaml:", "drift.js.fail")),
    ],
)
def test_bad_thresholds_in_config(
    small_with_reference: Project, block: str, words: tuple[str, ...]
) -> None:
    small_with_reference.configure(block)
    result = small_with_reference.mlgit("drift", "train", "-o", "r.txt")
    assert_refused(result, *words, nothing_at=small_with_reference.root / "r.txt")


def test_no_reference_configured(project: Project) -> None:
    write_parquet(drifting_table(100), project.root / "data" / "train.parquet")
    assert project.mlgit("track", "data/train.parquet").exit_code == 0
    result = project.mlgit("drift", "train", "-o", "r.txt")
    assert_refused(
        result, "datasets.train.reference", "mlgit profile train", nothing_at=project.root / "r.txt"
    )
