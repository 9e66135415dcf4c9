"""`--engine dask`: the same units, kernels and merge tree as the local engine on a real
2-worker LocalCluster, so every count, example, profile and drift score is identical; unreadable
files, a worker killed mid-run, the extra not installed, and where the engine is chosen."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgit.data.checks import validate
from mlgit.data.engine import Engine
from mlgit.data.io import open_source
from mlgit.data.profile import build
from mlgit.data.schema import load_schema
from tests.support import conforms, run_cli, write_parquet

SCHEMA_FILE = "validate-result.schema.json"

SCHEMA = """\
fields:
  - {name: id, type: integer, constraints: {required: true, unique: true, minimum: 0}}
  - {name: amount, type: number, constraints: {minimum: 0, maximum: 100}}
  - {name: city, type: string, constraints: {enum: [Oslo, Rome, Lima]}}
expectations:
  - {expect: mean, column: amount, min: 0, max: 100}
  - {expect: row_count, min: 1}
  - {expect: quantile, column: amount, q: 0.5, min: 0, max: 100}
  - {expect: null_fraction, column: amount, max: 0.2}
"""


def _table(start: int, rows: int, seed: int, wide: bool = False) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.arange(start, start + rows, dtype=np.int64 if wide else np.int32)
    if rows > 3:
        ids[rows // 2] = start  # a duplicate id in every file of more than 3 rows
    amount = rng.normal(50, 30, rows)  # some below 0 or above 100
    amount[rng.random(rows) < 0.05] = np.nan
    city = rng.choice(["Oslo", "Rome", "Lima", "Paris"], rows, p=[0.4, 0.3, 0.28, 0.02])
    return pa.table({"id": ids, "amount": amount, "city": city})


def _dataset(root: Path, sizes: list[int], groups: list[int], widen: set[int] = frozenset()):
    root.mkdir(parents=True, exist_ok=True)
    start = 0
    for index, (rows, group) in enumerate(zip(sizes, groups, strict=True)):
        table = _table(start, rows, seed=index, wide=index in widen)
        write_parquet(table, root / f"part-{index:03d}.parquet", row_group_size=max(group, 1))
        start += rows
    return root


def _schema(tmp: Path):
    file = tmp / "s.yaml"
    file.write_text(SCHEMA, encoding="utf-8")
    return load_schema(file)


def _engines(cluster) -> tuple[Engine, Engine]:
    return Engine(), Engine("dask", cluster.scheduler_address)


def _outcome(run) -> Any:
    """What a run gives: its result, or the error it stopped with (both compared as text)."""
    try:
        return repr(run())
    except Exception as exc:  # the same error on both engines is the same outcome
        return f"{type(exc).__name__}: {exc}"


def _both(path: Path, cluster, run, fmt: str | None = None) -> tuple[Any, Any]:
    local, dask = _engines(cluster)
    return tuple(
        _outcome(lambda e=engine: run(dataclasses.replace(open_source(path, fmt), engine=e)))
        for engine in (local, dask)
    )


def _json_on(engine: str, cluster) -> list[str]:
    """Options of a run on `engine` (Dask: the session's cluster) writing ENGINE.json."""
    scheduler = ["--scheduler", cluster.scheduler_address]
    return ["--engine", engine, *scheduler, "--format", "json", "-o", f"{engine}.json"]


# ---------------------------------------------------------------- identical results
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    layout=st.lists(
        st.tuples(st.integers(0, 1500), st.integers(1, 1500), st.booleans()),
        min_size=1,
        max_size=50,  # the 1 to 50 files
    )
)
def test_both_engines_give_identical_results_over_partition_layouts(
    layout: list[tuple[int, int, bool]], tmp_path_factory, dask_cluster
) -> None:
    tmp = tmp_path_factory.mktemp("layout")
    sizes = [rows for rows, _, _ in layout]
    groups = [group for _, group, _ in layout]
    widen = {i for i, (_, _, wide) in enumerate(layout) if wide}  # int32 here, int64 there
    data = _dataset(tmp / "parts", sizes, groups, widen)
    schema = _schema(tmp)
    local, dask = _both(data, dask_cluster, lambda s: validate(s, schema, sample=5, root=tmp))
    assert local == dask
    if sum(sizes):
        assert "DatasetResult" in local
    local, dask = _both(data, dask_cluster, lambda s: json.dumps(build(s), sort_keys=True))
    assert local == dask


def test_fifty_files_with_empty_ones_and_a_missing_column(tmp_path: Path, dask_cluster) -> None:
    sizes = [(i * 37) % 400 for i in range(50)]  # several empty files
    data = _dataset(tmp_path / "parts", sizes, [64 + i for i in range(50)])
    write_parquet(pa.table({"id": [1, 2]}), data / "part-zzz.parquet")  # no amount, no city
    schema = _schema(tmp_path)
    local, dask = _both(data, dask_cluster, lambda s: validate(s, schema, root=tmp_path))
    assert local == dask
    assert "part-zzz.parquet: has no column" in local  # reported, the other 50 files counted
    assert "row_count=" in local


def test_csv_and_jsonl_files_are_units_with_examples_in_their_files(
    tmp_path: Path, dask_cluster
) -> None:
    parts = tmp_path / "csv"
    parts.mkdir()
    for index in range(4):
        table = _table(index * 100, 100, seed=index)
        lines = ["id,amount,city"] + [
            f"{i},{'' if a != a else a},{c}"
            for i, a, c in zip(
                *(table.column(n).to_pylist() for n in table.column_names), strict=True
            )
        ]
        (parts / f"{index}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # whole amounts in one file: read as int64 there, as double in the others
    (parts / "4.csv").write_text("id,amount,city\n9998,12,Oslo\n9999,-3,Rome\n")
    schema = _schema(tmp_path)
    local, dask = _both(parts, dask_cluster, lambda s: validate(s, schema, root=tmp_path))
    assert local == dask
    assert "'3.csv'" in local  # examples name their file and count rows in it
    local, dask = _both(parts, dask_cluster, lambda s: json.dumps(build(s), sort_keys=True))
    assert local == dask


def test_drift_is_identical_on_both_engines(tmp_path: Path, dask_cluster) -> None:
    reference = _dataset(tmp_path / "ref", [4000, 3000], [1000, 700])
    current = _dataset(tmp_path / "cur", [2000, 0, 2500], [512, 1, 2500])
    for engine in ("local", "dask"):
        result = run_cli(
            tmp_path,
            "drift",
            "cur",
            "--data",
            str(current),
            "--reference",
            str(reference),
            *_json_on(engine, dask_cluster),
        )
        assert result.exit_code in (0, 1), result.output
    assert (tmp_path / "local.json").read_text() == (tmp_path / "dask.json").read_text()


# ---------------------------------------------------------------- failures
def test_a_corrupt_file_is_an_error_naming_it_after_the_rest_is_checked(
    tmp_path: Path, dask_cluster
) -> None:
    data = _dataset(tmp_path / "parts", [500, 500, 500], [200, 200, 200])
    (data / "part-bad.parquet").write_bytes(b"PAR1 this is not parquet" * 50)
    (tmp_path / "s.yaml").write_text(SCHEMA, encoding="utf-8")
    reports = []
    for engine in ("local", "dask"):
        result = run_cli(
            tmp_path,
            "validate",
            "parts",
            "--schema",
            "s.yaml",
            *_json_on(engine, dask_cluster),
        )
        assert result.exit_code == 2, result.output
        assert "parts/part-bad.parquet: cannot read as parquet" in result.output
        assert len(result.output.strip().splitlines()) == 1
        report = conforms(json.loads((tmp_path / f"{engine}.json").read_text()), SCHEMA_FILE)
        assert report["ok"] is False
        assert report["datasets"][0]["row_count"] == 1500  # every other file was checked
        readable = [c for c in report["datasets"][0]["checks"] if c["check"] == "readable"]
        assert readable and readable[0]["status"] == "fail"
        reports.append(report)
    assert reports[0] == reports[1]


SLOW_CHECK = """\
import time

import pyarrow.compute as pc


def slow(batch):
    time.sleep(0.25)
    return pc.greater_equal(batch.column("id"), 0)
"""


def _unit_tasks(cluster) -> int:
    """run_block tasks (one per unit, so few are they) the scheduler has finished."""
    from dask.distributed import Client

    with Client(cluster.scheduler_address) as client:
        counts = client.run_on_scheduler(
            lambda dask_scheduler: {
                k: dict(v.state_counts) for k, v in dask_scheduler.task_prefixes.items()
            }
        )
    return counts.get("run_block", {}).get("memory", 0)


def test_a_worker_killed_mid_run_has_its_task_retried(tmp_path: Path, dask_cluster) -> None:
    from dask.distributed import Client

    data = _dataset(tmp_path / "parts", [400] * 12, [400] * 12)
    (tmp_path / "rules.py").write_text(SLOW_CHECK, encoding="utf-8")
    schema_file = tmp_path / "s.yaml"
    schema_file.write_text(
        SCHEMA + "  - {expect: custom, function: 'rules.py:slow', column: id}\n", encoding="utf-8"
    )
    schema = load_schema(schema_file)
    expected = repr(validate(open_source(data), schema, root=tmp_path))
    with Client(dask_cluster.scheduler_address) as client:
        pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]

    def kill_soon() -> None:
        time.sleep(1.0)  # a few units in: each takes 0.25 s
        os.kill(victim, signal.SIGKILL)

    killer = threading.Thread(target=kill_soon)
    killer.start()
    source = dataclasses.replace(
        open_source(data), engine=Engine("dask", dask_cluster.scheduler_address)
    )
    result = repr(validate(source, schema, root=tmp_path))
    killer.join()
    assert result == expected
    with Client(dask_cluster.scheduler_address) as client:
        client.wait_for_workers(2, timeout=60)  # the nanny restarted it for the next tests
        assert victim not in client.run(os.getpid).values()


def test_progress_counts_every_unit_on_both_engines(tmp_path: Path, dask_cluster) -> None:
    data = _dataset(tmp_path / "parts", [1000, 0, 700], [300, 1, 700])
    schema = _schema(tmp_path)
    for engine in _engines(dask_cluster):
        ticks: list[int] = []
        source = dataclasses.replace(open_source(data), engine=engine)
        validate(source, schema, root=tmp_path, progress=ticks.append)
        assert sum(ticks) == 1700
        assert len([t for t in ticks if t]) == 5  # 4 row groups of 1000 rows, 1 of 700


# ---------------------------------------------------------------- choosing the engine
def test_the_engine_comes_from_the_flag_the_environment_or_mlgit_yaml(
    project, dask_cluster
) -> None:
    _dataset(project.root / "parts", [300, 300], [100, 100])
    project.write("s.yaml", SCHEMA)
    config = (project.root / "mlgit.yaml").read_text()
    address = {"MLGIT_DASK_SCHEDULER": dask_cluster.scheduler_address}
    validate = ("validate", "parts", "--schema", "s.yaml", "--no-cache")

    def tasks_of(*flags: str, env: dict[str, str] | None = None, engine: str = "") -> int:
        project.write("mlgit.yaml", config + (f"engine: {engine}\n" if engine else ""))
        before = _unit_tasks(dask_cluster)
        result = run_cli(project.root, *validate, *flags, env=env)
        assert result.exit_code == 1, result.output  # the data has failing values
        return _unit_tasks(dask_cluster) - before

    assert tasks_of() == 0  # local by default
    assert tasks_of(env=address) == 6  # a scheduler in the environment means Dask
    assert tasks_of(env=address, engine="local") == 0  # unless mlgit.yaml says local
    assert tasks_of(env=address, engine="{kind: dask, workers: 2}") == 6
    assert tasks_of("--engine", "local", env=address, engine="dask") == 0  # the flag wins
    assert tasks_of("--scheduler", dask_cluster.scheduler_address) == 6


def test_a_bad_engine_block_in_mlgit_yaml_is_named(config_dir) -> None:
    config = (config_dir.root / "mlgit.yaml").read_text()
    config_dir.write("mlgit.yaml", config + "engine: spark\n")
    result = config_dir.mlgit("check-config")
    assert result.exit_code == 2
    assert "engine" in result.output


def _run_mlgit(cwd: Path, *args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """The real mlgit in a new process (a LocalCluster's workers are spawned from it)."""
    code = (
        f"import sys\n{prelude}\nfrom mlgit.cli import main\n\n"
        "if __name__ == '__main__':\n    sys.argv[0] = 'mlgit'\n    main()\n"
    )
    script = cwd / "run_mlgit.py"
    script.write_text(code, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_without_a_scheduler_a_local_cluster_runs_the_scan(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "parts", [300, 300], [100, 100])
    (tmp_path / "s.yaml").write_text(SCHEMA, encoding="utf-8")
    outputs = []
    for engine in ("local", "dask"):
        proc = _run_mlgit(
            tmp_path,
            "validate",
            str(data),
            "--schema",
            "s.yaml",
            "--engine",
            engine,
            "--format",
            "json",
            "--no-cache",
        )
        assert proc.returncode == 1, proc.stderr
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]


def _tiny(tmp_path: Path) -> list[str]:
    """`validate DATA --schema s.yaml --engine dask` on a 10-row dataset written here."""
    data = _dataset(tmp_path / "parts", [10], [10])
    (tmp_path / "s.yaml").write_text(SCHEMA, encoding="utf-8")
    return ["validate", str(data), "--schema", "s.yaml", "--engine", "dask"]


def test_without_dask_installed_the_error_names_the_extra(tmp_path: Path) -> None:
    proc = _run_mlgit(
        tmp_path,
        *_tiny(tmp_path),
        prelude="sys.modules['dask'] = None  # as if the extra were not installed",
    )
    assert proc.returncode == 2, proc.stderr
    assert 'pip install "mlgit[dask]"' in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, *_tiny(tmp_path), "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2
    assert "--scheduler tcp://127.0.0.1:9: cannot reach the Dask scheduler" in result.output


def test_interrupting_the_client_leaves_no_task_on_the_cluster(
    tmp_path: Path, dask_cluster
) -> None:
    from dask.distributed import Client

    data = _dataset(tmp_path / "parts", [200] * 16, [200] * 16)
    (tmp_path / "rules.py").write_text(SLOW_CHECK, encoding="utf-8")
    (tmp_path / "s.yaml").write_text(
        SCHEMA + "  - {expect: custom, function: 'rules.py:slow', column: id}\n", encoding="utf-8"
    )
    script = tmp_path / "run_mlgit.py"
    script.write_text("from mlgit.cli import main\nimport sys\nsys.argv[0] = 'mlgit'\nmain()\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(script),
            "validate",
            str(data),
            "--schema",
            "s.yaml",
            "--engine",
            "dask",
            "--scheduler",
            dask_cluster.scheduler_address,
            "--no-cache",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with Client(dask_cluster.scheduler_address) as client:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until its units are on the cluster
            if client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) > 4:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
        assert proc.returncode != 0
        deadline = time.monotonic() + 30
        left = -1
        while time.monotonic() < deadline:
            left = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
            if left == 0:
                break
            time.sleep(0.1)
        assert left == 0


@given(count=st.integers(1, 300), workers=st.integers(1, 8), rows=st.integers(1, 1 << 19))
def test_tasks_of_aligned_blocks_merge_in_the_tree_of_one_task_per_unit(
    count: int, workers: int, rows: int
) -> None:
    from mlgit.data.engine import blocks_of
    from mlgit.data.units import Unit, fold
    from mlgit.repo.dvc import DataFile

    units = [Unit(DataFile(f"{i}", Path(f"{i}")), 0, i * rows, rows) for i in range(count)]
    blocks = blocks_of(units, workers)
    assert [u for block in blocks for u in block] == units
    pair = lambda a, b: (a, b)  # noqa: E731  the tree's shape, as nested pairs
    per_unit = fold((u.file.relpath for u in units), pair)
    per_block = fold((fold((u.file.relpath for u in block), pair) for block in blocks), pair)
    assert per_block == per_unit
