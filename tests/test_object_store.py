"""Data where it lives: `s3://` prefixes on a loopback S3 server (moto) validated and compared
on both engines exactly as the same files on disk, a dataset of mlgit.yaml on S3, DVC-tracked
data read in place from an S3 DVC remote, and every way a URL can be wrong."""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from click.testing import Result

from tests.support import Templates, Workdir, conforms, drifting_table, run_cli, sh

SCHEMA = """\
fields:
  - name: id
    type: integer
    constraints: {required: true, unique: true}
  - name: age
    type: integer
    constraints: {minimum: 0, maximum: 120}
  - name: city
    type: string
    constraints: {enum: [Lima, Oslo, Pune]}
expectations:
  - {expect: row_count, min: 1}
"""
# what the user called the data, and how many column chunks Parquet metadata settled (an
# object store fetches an enum column with the others instead of its dictionary page alone):
# the differences allowed; every count and example is the same
LABELS = ("dataset", "source", "settled_chunks")


def people(first: int, n: int, bad_age: tuple[int, ...] = (), bad_city: tuple[int, ...] = ()):
    """Rows `first`..`first+n`; `bad_*` are row numbers inside this file."""
    ages = [20 + (first + i) % 50 for i in range(n)]
    cities = [["Lima", "Oslo", "Pune"][(first + i) % 3] for i in range(n)]
    for row in bad_age:
        ages[row] = 150
    for row in bad_city:
        cities[row] = "Rome"
    return pa.table({"id": list(range(first, first + n)), "age": ages, "city": cities})


# files of a partitioned dataset: (relative name, table); failing values in two of them
PARTS = {
    "year=2023/part-0": people(0, 30, bad_age=(4, 29)),
    "year=2023/part-1": people(30, 25),
    "year=2024/part-0": people(55, 40, bad_age=(0,), bad_city=(7, 8)),
}


def write_parts(root: Path, fmt: str) -> Path:
    for name, table in PARTS.items():
        path = root / f"{name}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            pq.write_table(table, path, row_group_size=10)  # several units per file
        else:
            pcsv.write_csv(table, path)
    (root / "_SUCCESS").write_text("")  # a marker Spark writes; not data
    return root


def upload(local: Path, options: dict[str, Any], url: str) -> str:
    """Every file under `local` put under `url` (s3://bucket/prefix/), as `aws s3 sync` would."""
    import s3fs

    fs = s3fs.S3FileSystem(**options)
    base = url.removeprefix("s3://").rstrip("/")
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.pipe(f"{base}/{path.relative_to(local).as_posix()}", path.read_bytes())
    fs.invalidate_cache()
    return url


def s3_config(options: dict[str, Any], extra: str = "") -> str:
    """mlgit.yaml for the loopback server: its address and credentials are in the environment
    (AWS_ENDPOINT_URL, AWS_*: mlgit.yaml may not hold them); a harmless option stays here."""
    return "version: 1\nstorage_options:\n  s3:\n    anon: false\n" + extra


@pytest.fixture
def work(tmp_path: Path, s3_bucket: tuple[str, dict[str, Any]]) -> Path:
    """A directory with mlgit.yaml (the S3 server's storage options) and a schema."""
    _, options = s3_bucket
    (tmp_path / "mlgit.yaml").write_text(s3_config(options), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(SCHEMA, encoding="utf-8")
    return tmp_path


@pytest.fixture(params=["local", "dask"])
def engine(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """The command-line options of each engine; Dask runs on the session's 2-worker cluster."""
    if request.param == "local":
        return ("--engine", "local")
    cluster = request.getfixturevalue("dask_cluster")
    return ("--engine", "dask", "--scheduler", cluster.scheduler_address)


def json_of(result: Result, schema_file: str) -> dict:
    return conforms(json.loads(result.output), schema_file)


def without_labels(report: dict) -> dict:
    return {**report, "datasets": [without(d, *LABELS) for d in report["datasets"]]}


def without(data: dict, *keys: str) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


def failing(report: dict) -> dict[tuple[str, str | None], list]:
    return {
        (c["check"], c["column"]): c["examples"]
        for c in report["datasets"][0]["checks"]
        if not c["ok"]
    }


# ---------------------------------------------------------------- validate
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_validate_an_s3_prefix_as_the_same_files_on_disk(
    work: Path, s3_bucket: tuple[str, dict], engine: tuple[str, ...], fmt: str
) -> None:
    bucket, options = s3_bucket
    local = write_parts(work / "people", fmt)
    url = upload(local, options, f"s3://{bucket}/people/")
    args = ("--schema", "s.yaml", "--format", "json")
    on_disk = run_cli(work, "validate", "people", *args, "--engine", "local")
    on_s3 = run_cli(work, "validate", url, *args, *engine)
    assert on_disk.exit_code == on_s3.exit_code == 1, on_s3.output
    expected = json_of(on_disk, "validate-result.schema.json")
    report = json_of(on_s3, "validate-result.schema.json")
    assert report["datasets"][0]["source"] == url
    assert without_labels(report) == without_labels(expected)
    assert report["datasets"][0]["row_count"] == 95
    # each failing value named by its file and its row in that file
    ext = f".{fmt}"
    assert failing(report) == {
        ("maximum", "age"): [
            {"row": 4, "value": 150, "file": f"year=2023/part-0{ext}"},
            {"row": 29, "value": 150, "file": f"year=2023/part-0{ext}"},
            {"row": 0, "value": 150, "file": f"year=2024/part-0{ext}"},
        ],
        ("enum", "city"): [
            {"row": 7, "value": "Rome", "file": f"year=2024/part-0{ext}"},
            {"row": 8, "value": "Rome", "file": f"year=2024/part-0{ext}"},
        ],
    }


def test_results_of_an_s3_prefix_are_cached_until_an_object_changes(
    work: Path, s3_bucket: tuple[str, dict]
) -> None:
    bucket, options = s3_bucket
    local = write_parts(work / "people", "parquet")
    url = upload(local, options, f"s3://{bucket}/people/")
    args = ("validate", url, "--schema", "s.yaml", "--format", "json")
    first, again = run_cli(work, *args), run_cli(work, *args)
    assert [json.loads(r.output)["datasets"][0]["cached"] for r in (first, again)] == [False, True]
    pq.write_table(people(0, 30), local / "year=2023" / "part-0.parquet")  # its 2 bad ages fixed
    upload(local, options, url)
    changed = json.loads(run_cli(work, *args).output)["datasets"][0]
    assert changed["cached"] is False
    assert [e["file"] for e in failing({"datasets": [changed]})[("maximum", "age")]] == [
        "year=2024/part-0.parquet"
    ]


# ---------------------------------------------------------------- drift
def test_drift_of_s3_data_against_s3_reference_as_on_disk(
    work: Path, s3_bucket: tuple[str, dict], engine: tuple[str, ...]
) -> None:
    bucket, options = s3_bucket
    reference, current = drifting_table(1_500, seed=3), drifting_table(1_500, seed=1, scale=1.2)
    for name, table in (("ref", reference), ("cur", current)):
        (work / name).mkdir()
        for i, start in enumerate((0, 600)):  # two files of 600 and 900 rows
            pq.write_table(table.slice(start, 600 + 300 * i), work / name / f"p{i}.parquet")
    ref_url = upload(work / "ref", options, f"s3://{bucket}/ref/")
    cur_url = upload(work / "cur", options, f"s3://{bucket}/cur/")
    on_disk = run_cli(
        work, "drift", "events", "--data", "cur", "--reference", "ref", "--format", "json"
    )
    on_s3 = run_cli(
        work, "drift", "events", "--data", cur_url, "--reference", ref_url,
        "--format", "json", *engine,
    )  # fmt: skip
    assert on_disk.exit_code == on_s3.exit_code, on_s3.output
    expected = json_of(on_disk, "drift-result.schema.json")
    report = json_of(on_s3, "drift-result.schema.json")
    assert report["drifted_columns"] == ["amount"]
    assert report["reference"] == {"source": ref_url, "rows": 1_500}
    assert report["current"] == {"source": cur_url, "rows": 1_500}
    assert strip_sources(report) == strip_sources(expected)


def strip_sources(report: Any) -> Any:
    """`report` without the places the data was read from (paths on disk vs URLs)."""
    if isinstance(report, dict):
        return {k: strip_sources(v) for k, v in report.items() if k != "source"}
    if isinstance(report, list):
        return [strip_sources(v) for v in report]
    return report


# ---------------------------------------------------------------- a dataset of mlgit.yaml on S3
def test_dataset_declared_with_an_s3_path(work: Path, s3_bucket: tuple[str, dict]) -> None:
    bucket, options = s3_bucket
    url = upload(write_parts(work / "people", "parquet"), options, f"s3://{bucket}/people/")
    shutil.rmtree(work / "people")
    config = s3_config(options, f"datasets:\n  people:\n    path: {url}\n    schema: s.yaml\n")
    (work / "mlgit.yaml").write_text(config, encoding="utf-8")
    checked = run_cli(work, "check-config")
    assert checked.exit_code == 0, checked.output
    result = run_cli(work, "validate", "people", "--format", "json")
    assert result.exit_code == 1, result.output
    report = json_of(result, "validate-result.schema.json")
    assert report["datasets"][0]["dataset"] == "people"
    assert report["datasets"][0]["row_count"] == 95
    assert set(failing(report)) == {("maximum", "age"), ("enum", "city")}
    by_url = run_cli(work, "validate", url, "--format", "json")  # its URL means the dataset
    assert by_url.exit_code == 1 and json.loads(by_url.output)["datasets"][0]["dataset"] == "people"


# ---------------------------------------------------------------- a DVC remote on S3
_PUSHED: dict[str, Path] = {}  # the repository below, built once per session


def pushed_to_s3(templates: Templates, factory: pytest.TempPathFactory, endpoint: str) -> Path:
    """A git+DVC repository whose dataset data/x (a directory) is committed and pushed to a
    DVC remote on the S3 server. Built inside the first test that asks (its git identity)."""
    if "repo" not in _PUSHED:
        import s3fs

        root = factory.mktemp("dvc-on-s3") / "repo"
        shutil.copytree(templates.base(), root, symlinks=True)
        Workdir(root).configure("datasets:\n  people:\n    path: data/x\n")
        (root / "s.yaml").write_text(SCHEMA, encoding="utf-8")
        write_parts(root / "data" / "x", "parquet")
        (root / "data" / "x" / "_SUCCESS").unlink()
        s3fs.S3FileSystem(endpoint_url=endpoint).mkdir("dvc-remote")
        sh(root, "dvc", "remote", "add", "-d", "s3r", "s3://dvc-remote/store")
        sh(root, "dvc", "remote", "modify", "s3r", "endpointurl", endpoint)
        sh(root, "dvc", "add", "-q", "data/x")
        sh(root, "git", "add", "-A")
        sh(root, "git", "commit", "-q", "-m", "people, pushed to S3")
        sh(root, "dvc", "push", "-q")  # credentials: AWS_* in the environment (the fixture)
        _PUSHED["repo"] = root
    return _PUSHED["repo"]


@pytest.fixture
def only_in_remote(
    tmp_path: Path, templates: Templates, tmp_path_factory: pytest.TempPathFactory,
    s3_endpoint: str,
) -> Path:  # fmt: skip
    """A clone of that repository in which data/x is in neither the work tree nor the cache."""
    root = tmp_path / "repo"
    shutil.copytree(pushed_to_s3(templates, tmp_path_factory, s3_endpoint), root, symlinks=True)
    shutil.rmtree(root / "data" / "x")
    shutil.rmtree(root / ".dvc" / "cache")
    return root


def test_dvc_data_only_in_an_s3_remote_is_read_in_place(
    only_in_remote: Path, tmp_path: Path, engine: tuple[str, ...]
) -> None:
    root = only_in_remote
    reference = write_parts(tmp_path / "reference", "parquet")  # outside the work tree
    temp_before = fetch_dirs()

    result = run_cli(
        root, "validate", "data/x", "--rev", "HEAD", "--schema", "s.yaml", "--format", "json",
        *engine,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    report = json_of(result, "validate-result.schema.json")
    assert report["datasets"][0]["source"] == "data/x@HEAD"
    assert report["datasets"][0]["row_count"] == 95
    assert failing(report)[("maximum", "age")] == [
        {"row": 4, "value": 150, "file": "year=2023/part-0.parquet"},
        {"row": 29, "value": 150, "file": "year=2023/part-0.parquet"},
        {"row": 0, "value": 150, "file": "year=2024/part-0.parquet"},
    ]
    drift = run_cli(
        root, "drift", "people", "--rev", "HEAD", "--reference", str(reference),
        "--format", "json", *engine,
    )  # fmt: skip
    assert drift.exit_code == 0, drift.output
    compared = json_of(drift, "drift-result.schema.json")
    assert compared["current"] == {"source": "data/x@HEAD", "rows": 95}
    assert compared["drifted_columns"] == []

    assert not (root / "data" / "x").exists()
    cache = root / ".dvc" / "cache" / "files" / "md5"
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]
    assert fetch_dirs() == temp_before


def test_dvc_remote_files_share_one_dvc_file_system_per_process(only_in_remote: Path) -> None:
    """What a Dask task receives: DVC's file system, built once per worker process and
    revision (building one opens the repository and the remote), not once per task."""
    import pickle

    from mlgit.repo.dvc import files_at
    from mlgit.repo.git import open_repo, resolve_rev

    repo = open_repo(only_in_remote)
    files = files_at(repo, "data/x", resolve_rev(repo, "HEAD"))
    assert len(files) == 3 and all(f.fs is not None for f in files)
    received = [pickle.loads(pickle.dumps(f)) for f in files]
    assert [f.relpath for f in received] == [f.relpath for f in files]
    assert len({id(f.fs) for f in received}) == 1
    with received[2].open() as f:
        assert pq.read_table(f).num_rows == 40


def fetch_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("mlgit-fetch-*")}


# ---------------------------------------------------------------- wrong URLs: exit 2, one line
def refused(work: Path, *args: str) -> str:
    """The one line a refused command prints; no report written."""
    result = run_cli(work, *args, "--format", "json", "-o", "out.json")
    assert result.exit_code == 2, result.output
    assert not (work / "out.json").exists()
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_missing_bucket_or_prefix(work: Path, s3_bucket: tuple[str, dict]) -> None:
    bucket, options = s3_bucket
    upload(write_parts(work / "people", "parquet"), options, f"s3://{bucket}/people/")
    for url in ("s3://no-such-bucket-here/people/", f"s3://{bucket}/nobody/"):
        line = refused(work, "validate", url, "--schema", "s.yaml")
        assert url in line and "check the URL" in line, line
    line = refused(
        work, "drift", "people", "--data", f"s3://{bucket}/people/",
        "--reference", f"s3://{bucket}/nobody/",
    )  # fmt: skip
    assert f"s3://{bucket}/nobody/" in line and "check the URL" in line, line


def test_protocol_without_its_package(work: Path) -> None:
    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed here: gs:// has its package")
    line = refused(work, "validate", "gs://x/y", "--schema", "s.yaml")
    assert "gs://x/y" in line and 'gcsfs (pip install "mlgit[gcs]")' in line, line


def test_unknown_protocol(work: Path) -> None:
    line = refused(work, "validate", "nosuch://x", "--schema", "s.yaml")
    assert "nosuch://x" in line and "s3://" in line, line


def test_rev_with_a_url(work: Path, s3_bucket: tuple[str, dict]) -> None:
    bucket, _ = s3_bucket
    url = f"s3://{bucket}/people/"
    line = refused(work, "validate", url, "--rev", "HEAD", "--schema", "s.yaml")
    assert url in line and "dvc import-url" in line, line


def corrupt_prefix(
    work: Path, s3_bucket: tuple[str, dict], damage: str = "page", row_groups: int = 1
) -> str:
    """s3://bucket/people (no trailing slash): three files, the middle one (25 rows in
    `row_groups` row groups) damaged: garbled page headers in its first row group (its footer
    intact), or cut in half ("cut": no footer)."""
    bucket, options = s3_bucket
    local = write_parts(work / "people", "parquet")
    broken = local / "year=2023" / "part-1.parquet"
    pq.write_table(PARTS["year=2023/part-1"], broken, row_group_size=-(-25 // row_groups))
    data = bytearray(broken.read_bytes())
    if damage == "cut":
        del data[len(data) // 2 :]
    else:  # every column's first page: the statistics cannot settle all of them away
        group = pq.ParquetFile(broken).metadata.row_group(0)
        for index in range(group.num_columns):
            chunk = group.column(index)
            start = chunk.dictionary_page_offset or chunk.data_page_offset
            data[start : start + 8] = b"\xff" * 8
    broken.write_bytes(bytes(data))
    return upload(local, options, f"s3://{bucket}/people/").rstrip("/")


def partial_report(work: Path, url: str, *engine: str) -> tuple[str, dict]:
    """(the one error line, the partial report written with -o) of a run that exits 2."""
    result = run_cli(
        work, "validate", url, "--schema", "s.yaml", "--format", "json", "-o", "out.json", *engine
    )
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert (work / "out.json").exists(), lines[0]
    return lines[0], json.loads((work / "out.json").read_text())


def test_corrupt_object_among_good_ones(
    work: Path, s3_bucket: tuple[str, dict], engine: tuple[str, ...]
) -> None:
    url = corrupt_prefix(work, s3_bucket)
    line, report = partial_report(work, url, *engine)
    assert f"{url}/year=2023/part-1.parquet: cannot read as parquet" in line, line
    assert report["ok"] is False
    assert report["datasets"][0]["row_count"] == 95 - 25  # every other file counted
    checks = report["datasets"][0]["checks"]
    assert next(c for c in checks if c["check"] == "readable")["unexpected_count"] == 1
    maximum = next(c for c in checks if c["check"] == "maximum")
    assert maximum["element_count"] == 70 and maximum["unexpected_count"] == 3


def test_object_without_a_footer_among_good_ones(work: Path, s3_bucket: tuple[str, dict]) -> None:
    url = corrupt_prefix(work, s3_bucket, damage="cut")
    line, report = partial_report(work, url)
    assert f"{url}/year=2023/part-1.parquet: cannot read as parquet" in line, line
    assert report["datasets"][0]["row_count"] == 70


def test_a_broken_row_group_is_left_out_and_the_rest_of_its_file_counted(
    work: Path, s3_bucket: tuple[str, dict]
) -> None:
    url = corrupt_prefix(work, s3_bucket, row_groups=3)
    _, report = partial_report(work, url)
    assert report["datasets"][0]["row_count"] == 86  # the file's 2 readable row groups count
    readable = next(c for c in report["datasets"][0]["checks"] if c["check"] == "readable")
    assert "are not counted (every other part is)" in readable["message"]


def test_corrupt_object_under_a_prefix_with_a_trailing_slash(
    work: Path, s3_bucket: tuple[str, dict]
) -> None:
    url = corrupt_prefix(work, s3_bucket) + "/"
    line, _ = partial_report(work, url)
    assert f"{url}year=2023/part-1.parquet: cannot read" in line, line


@pytest.mark.parametrize(
    "block",
    [
        "storage_options:\n  s3: {endpoint_url: 'https://collector.example'}\n",
        "storage_options:\n  gs: {token: '/home/runner/key.json'}\n",
        "storage_options:\n  s3: {client_kwargs: {endpoint_url: 'https://x.example'}}\n",
        "engine: {kind: dask, scheduler: 'tcp://scheduler.example:8786'}\n",
        "datasets:\n  secrets: {path: 'file:///home/runner/.ssh/'}\n",
        "datasets:\n  meta: {path: 'http://169.254.169.254/latest/meta-data/', format: csv}\n",
    ],
)
def test_mlgit_yaml_may_not_redirect_requests_or_choose_a_scheduler(work: Path, block: str) -> None:
    """mlgit.yaml comes with every pull request: an endpoint or a token there would send the
    job's credentials elsewhere, and a scheduler's results are unpickled by mlgit."""
    (work / "mlgit.yaml").write_text("version: 1\n" + block, encoding="utf-8")
    for command in (("check-config",), ("validate", "s3://nowhere/x", "--schema", "s.yaml")):
        result = run_cli(work, *command)
        assert result.exit_code == 2, result.output
        assert "comes with every pull request" in result.stderr
