"""Scale: `mlgit validate` on a partitioned Parquet dataset, local vs Dask, disk vs object store.

    python bench/scale.py [--rows 20000000] [--files 40] [--row-group 131072] [--repeat 3]
                          [--only speed memory s3 units] [--s3-server thread|process]
                          [--against REV]
    python bench/scale.py --rows 10000000 40000000 --only memory

Data is generated once into bench/.data/ (gitignored), numpy in chunks of one file: `--files`
Parquet files of `--row-group`-row groups (each row group is one work unit) with id (int64,
unique), amount (decimal(12, 2) in [0, 10000]), ts (timestamp in 2020..2024), category (20 values),
email (checked by a pattern) and quantity (int32 in [1, 100]). The data passes every rule of
bench/scale.schema.yaml. Every tool runs as a whole process; the tools take turns, `--repeat`
rounds, and each one's fastest run counts (the machine is shared). Peak MiB is the peak RSS of
that process alone (/proc/PID/status VmHWM, polled; for processes that start no children it is
wait4's ru_maxrss): the workers of a LocalCluster mlgit starts are not counted in it.

Sections (`--only`, default all):
  speed   the pyarrow read floor, `mlgit validate` local (with and without --no-statistics),
          dask with a LocalCluster started by mlgit, dask on a 2-worker cluster started once
          by this script (--scheduler: the engine without the cluster's start-up); ratios
          dask/local throughput (target >= 0.8), validate/floor (target <= 0.5 once Parquet
          statistics settle columns) and whether the JSON reports are identical.
  memory  peak RSS of the mlgit (client) process with --engine dask at each --rows when two or
          more are given, else at 10M and 40M: target within 10% and < 250 MiB. Also the local
          engine's peak and the pre-started workers' peak (restarted before each run).
  s3      the same files on a loopback S3 server (moto), `mlgit validate s3://...` local and
          dask against the same from disk (target within 1.5x), the client's planning time,
          the opens, GETs and bytes s3fs made in one local run, and with --s3-server process
          the requests of each run (from moto_server's log). ThreadedMotoServer in this process
          was the faster server here (same 20M rows, back to back: mlgit local 7.3 s vs 9.8 s,
          dask 8.8 s vs 19.0 s), so it is the default.
  units   the cost of one work unit (row group) read and checked, of one merge, the size of
          the state a task returns, and the Dask wall at 1 and 2 workers, on the --rows dataset
          and on a tiny one of many small units (2,000 units of 100 rows: scheduler overhead per
          task); with them the throughput a cluster of 8, 32 and 128 workers should reach
          (docs/scaling.md explains the model).
With --against REV, mlgit at that revision (a temporary worktree) takes its turn in `speed` with
the local engine (its flags: validate PATH --schema S --format json --no-cache).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from versions import AGAINST_HELP, Version, compared, compile_bytecode, from_checkout, ratio

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
SCHEMA = HERE / "scale.schema.yaml"
SEED = 20261201
CATEGORIES = [f"cat{i:02d}" for i in range(20)]
SECTIONS = ("speed", "memory", "s3", "units")
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
MLGIT_FLAGS = ("--format", "json", "--no-cache")
# report keys that may differ between runs that found the same things
UNCOMPARED = {"cached", "settled_chunks", "duration", "seconds", "elapsed"}


# ---------------------------------------------------------------- data
def generate(rows: int, files: int, row_group: int) -> Path:
    """bench/.data/scale-ROWS-FILESxGROUP/part-NNNN.parquet, written once, a file at a time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    path = DATA / f"scale2-{rows}-{files}x{row_group}"  # 2: amount is a decimal
    if path.exists():
        return path
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    rng = np.random.default_rng(SEED)
    per_file = -(-rows // files)
    categories = pa.array(CATEGORIES)
    for index in range(files):
        start = index * per_file
        n = max(0, min(per_file, rows - start))
        users = pa.array(rng.integers(0, 10**7, n)).cast(pa.string())
        table = pa.table(
            {
                "id": np.arange(start, start + n, dtype=np.int64),
                # money as decimal(12, 2), as ledgers and Spark's DecimalType store it (a float
                # column is always read: Parquet statistics do not count its NaN)
                "amount": cents(rng.integers(0, 1_000_000, n)),
                "ts": pa.array(
                    rng.integers(1_577_836_800, 1_735_689_600, n) * 1_000_000, pa.timestamp("us")
                ),
                "category": pa.DictionaryArray.from_arrays(
                    pa.array(rng.integers(0, len(CATEGORIES), n).astype(np.int32)), categories
                ).cast(pa.string()),
                "email": pc.binary_join_element_wise("user", users, "@example.com", ""),
                "quantity": rng.integers(1, 101, n).astype(np.int32),
            }
        )
        pq.write_table(table, tmp / f"part-{index:04d}.parquet", row_group_size=row_group)
    os.replace(tmp, path)
    return path


def cents(values) -> object:
    """decimal(12, 2) amounts from whole cents (their 128-bit unscaled values, built at numpy
    speed)."""
    import numpy as np
    import pyarrow as pa

    unscaled = np.zeros((len(values), 2), dtype=np.int64)
    unscaled[:, 0] = values  # non-negative: the high word stays 0
    buffer = pa.py_buffer(unscaled.tobytes())
    return pa.Array.from_buffers(pa.decimal128(12, 2), len(values), [None, buffer])


def size_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.iterdir()) / 2**20


# ---------------------------------------------------------------- measuring a process
@dataclass
class Run:
    wall: float
    mib: float  # peak RSS of the process itself
    out: str
    err: str
    rc: int


def _vm_hwm(pid: int) -> int:
    """The process's peak RSS so far in KiB (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(argv: list[str], env: dict | None = None, cwd: Path | None = None) -> Run:
    """Wall seconds and peak RSS of one whole process. wait4's ru_maxrss would include the
    reaped children (the workers of a LocalCluster), so the process's own VmHWM is polled too
    and, when it started children, is what counts."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        own = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            own = max(own, _vm_hwm(proc.pid))
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        mib = (own or usage.ru_maxrss) / 1024
        out.seek(0)
        err.seek(0)
        return Run(wall, mib, out.read().decode(), err.read().decode(), proc.returncode)


@dataclass
class Tool:
    name: str
    argv: list[str]
    env: dict | None = None
    cwd: Path | None = None


def in_turns(tools: list[Tool], repeat: int, before=None) -> dict[str, Run]:
    """The fastest run of each tool, taking turns (A, B, C, A, B, C, ...)."""
    best: dict[str, Run] = {}
    for _ in range(repeat):
        for tool in tools:
            if before:
                before(tool)
            run = measure(tool.argv, tool.env, tool.cwd)
            if run.rc not in (0, 1):
                print(f"   {tool.name} failed (exit {run.rc}): {run.err.strip()[-800:]}")
            if tool.name not in best or (run.rc in (0, 1) and run.wall < best[tool.name].wall):
                best[tool.name] = run
    return best


# ---------------------------------------------------------------- the floors, as scripts
READ_TABLE = "import pyarrow.parquet as pq, sys\nprint(pq.read_table(sys.argv[1]).num_rows)\n"
TO_TABLE = "import pyarrow.dataset as ds, sys\nprint(ds.dataset(sys.argv[1]).to_table().num_rows)\n"
STREAMED = (
    "import pyarrow.dataset as ds, sys\n"
    "print(sum(b.num_rows for b in ds.dataset(sys.argv[1]).to_batches()))\n"
)
S3_READ = """
import os, sys, s3fs, pyarrow.parquet as pq
fs = s3fs.S3FileSystem(endpoint_url=sys.argv[2])
print(pq.read_table(sys.argv[1], filesystem=fs).num_rows, flush=True)
os._exit(0)  # s3fs' threads can abort the interpreter's shutdown
"""
# What the client does before any unit runs, timed on S3 and on local disk.
S3_PLANNING = """
import sys, time
from pathlib import Path
import pyarrow.parquet as pq
from mlgit.data import io, units
from mlgit.data.checks.validator import read_plan
from mlgit.data.schema import load_schema
from mlgit.data.urls import open_url
footers = [0]
opened = pq.ParquetFile.__init__
def counted(self, *args, **kwargs):
    footers[0] += 1
    opened(self, *args, **kwargs)
pq.ParquetFile.__init__ = counted
schema = load_schema(Path(sys.argv[3]))
def planning(source):
    start = time.perf_counter()
    read_plan(source, schema)
    units.plan(source)
    return time.perf_counter() - start
remote = open_url(sys.argv[1], None, {"s3": {"endpoint_url": sys.argv[2]}})
on_s3 = planning(remote)
n = footers[0]
print(on_s3, planning(io.open_source(Path(sys.argv[4] if len(sys.argv) > 4 else "."))), n)
"""
# One local run of `mlgit validate s3://...` in this process, counting what s3fs fetches.
S3_COUNTED = """
import json, sys, collections
import s3fs.core
opened, fetched = collections.Counter(), collections.Counter()
calls = collections.Counter()
init, fetch = s3fs.core.S3File.__init__, s3fs.core.S3File._fetch_range
def counted_init(self, s3, path, *args, **kwargs):
    opened[path] += 1
    init(self, s3, path, *args, **kwargs)
def counted_fetch(self, start, end):
    data = fetch(self, start, end)
    calls[self.path] += 1
    fetched[self.path] += len(data)
    return data
s3fs.core.S3File.__init__, s3fs.core.S3File._fetch_range = counted_init, counted_fetch
sys.argv = ["mlgit", *sys.argv[1:]]
from mlgit.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps({"opened": opened, "calls": calls, "fetched": fetched}), file=sys.stderr)
"""


# ---------------------------------------------------------------- mlgit
def mlgit(version: Version, path: str, *extra: str) -> list[str]:
    return version.command("validate", path, "--schema", str(SCHEMA), *MLGIT_FLAGS, *extra)


def report_of(run: Run) -> dict | None:
    try:
        return json.loads(run.out)
    except ValueError:
        return None


def first_difference(a: object, b: object, where: str = "") -> str | None:
    """None when the reports match (keys in UNCOMPARED aside), else where they first differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key in UNCOMPARED:
                continue
            if key not in a or key not in b:
                return f"{where}.{key}: only in one"
            found = first_difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{where}: {a!r} != {b!r}"


def identical(a: Run | None, b: Run | None) -> str:
    left, right = (report_of(a) if a else None), (report_of(b) if b else None)
    if left is None or right is None:
        return "no report to compare"
    if "datasets" in left and "datasets" in right:  # labels: the path or URL given
        for d in (*left["datasets"], *right["datasets"]):
            d.pop("dataset", None), d.pop("source", None)
    return first_difference(left, right) or "identical"


# ---------------------------------------------------------------- clusters and servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def cluster(workers: int) -> Iterator[object]:
    """A LocalCluster like the one mlgit starts (process workers, one thread each), started
    once here so runs with --scheduler pay no start-up; its workers import this checkout."""
    import logging
    import warnings

    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)  # "Restarting worker" notes
    warnings.filterwarnings("ignore", message="Port .* is already in use")
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as started,
        Client(started) as client,
    ):
        client.run(lambda: bool(__import__("mlgit.data.checks.validator")))  # warm
        yield client


def workers_peak(client) -> list[float]:
    return [kib / 1024 for kib in client.run(lambda: _vm_hwm(os.getpid())).values()]


@dataclass
class S3Server:
    endpoint: str
    log: Path | None  # the server's request log (a separate process), else None

    def requests(self, since: int) -> tuple[int, dict[str, int]]:
        """(end offset, {method: count}) of the log lines written after `since`."""
        if self.log is None:
            return since, {}
        with self.log.open("rb") as f:
            f.seek(since)
            text = f.read()
        counts: dict[str, int] = {}
        for line in text.decode(errors="replace").splitlines():
            for method in ("GET", "HEAD", "PUT", "POST"):
                if f'"{method} ' in line:
                    request = line.split('"')[1]
                    listing = "list-type" in request or "prefix=" in request
                    key = "LIST" if method == "GET" and listing else method
                    counts[key] = counts.get(key, 0) + 1
        return since + len(text), counts

    def offset(self) -> int:
        return self.log.stat().st_size if self.log else 0


@contextlib.contextmanager
def s3_server(kind: str, work: Path) -> Iterator[S3Server]:
    """moto in server mode on loopback: ThreadedMotoServer in this process (default), or
    `moto_server` as its own process, logging each request."""
    os.environ.update(S3_CREDENTIALS)
    if kind == "thread":
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"  # mlgit and the workers
        try:
            yield S3Server(f"http://{host}:{port}", None)
        finally:
            server.stop()
        return
    port = free_port()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"  # mlgit and the workers
    log = work / "moto.log"
    moto = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [moto, "-H", "127.0.0.1", "-p", str(port)], stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"moto_server did not start: {log.read_text()[-500:]}")
            time.sleep(0.1)
        yield S3Server(f"http://127.0.0.1:{port}", log)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- the table
def header(first: str = "tool") -> None:
    print(f"   {first:<52}{'wall s':>8}{'x floor':>9}{'peak MiB':>10}{'M rows/s':>10}")


def line(name: str, run: Run | None, floor: float, rows: int, note: str = "") -> None:
    if run is None or run.rc not in (0, 1):
        print(f"   {name:<52}{'failed':>8}")
        return
    print(
        f"   {name:<52}{run.wall:>8.2f}{run.wall / floor:>9.2f}{run.mib:>10.0f}"
        f"{rows / run.wall / 1e6:>10.2f}{note}"
    )


def verdict(value: float, target: float, below: bool) -> str:
    ok = value <= target if below else value >= target
    return f"{value:.2f} ({'meets' if ok else 'misses'} {'<=' if below else '>='} {target})"


# ---------------------------------------------------------------- sections
def speed(args, versions: list[Version], rows: int, client) -> None:
    path = generate(rows, args.files, args.row_group)
    units = _units(path)
    print(
        f"\n== speed: {rows:,} rows, {args.files} files, {units} row groups "
        f"({size_mib(path):.0f} MiB), best of {args.repeat}"
    )
    scheduler = client.scheduler.address
    new, *older = versions
    env = new.env({**os.environ, "DVC_NO_ANALYTICS": "1"})
    tools = [
        Tool(
            "pyarrow.parquet.read_table(dir) (floor)", [sys.executable, "-c", READ_TABLE, str(path)]
        ),
        Tool("pyarrow.dataset(dir).to_table()", [sys.executable, "-c", TO_TABLE, str(path)]),
        Tool(
            "pyarrow.dataset(dir).to_batches(), streamed",
            [sys.executable, "-c", STREAMED, str(path)],
        ),
        Tool("mlgit validate --engine local", mlgit(new, str(path), "--engine", "local"), env),
        Tool(
            "mlgit validate --engine local --no-statistics",
            mlgit(new, str(path), "--engine", "local", "--no-statistics"),
            env,
        ),
        Tool(
            "mlgit validate --engine dask (mlgit's LocalCluster)",
            mlgit(new, str(path), "--engine", "dask"),
            env,
        ),
        Tool(
            "mlgit validate --engine dask --scheduler (pre-started)",
            mlgit(new, str(path), "--engine", "dask", "--scheduler", scheduler),
            env,
        ),
        Tool(
            "  same, --no-statistics",
            mlgit(new, str(path), "--engine", "dask", "--scheduler", scheduler, "--no-statistics"),
            env,
        ),
    ]
    for version in older:
        tools.append(
            Tool(
                f"{version.label} validate (local)",
                mlgit(version, str(path)),
                version.env({**os.environ, "DVC_NO_ANALYTICS": "1"}),
            )
        )
    best = in_turns(tools, args.repeat)
    floor = best[tools[0].name].wall
    header()
    for tool in tools:
        line(tool.name, best.get(tool.name), floor, rows)
    local = best["mlgit validate --engine local"]
    local_plain = best["mlgit validate --engine local --no-statistics"]
    own = best["mlgit validate --engine dask (mlgit's LocalCluster)"]
    pre = best["mlgit validate --engine dask --scheduler (pre-started)"]
    pre_plain = best["  same, --no-statistics"]
    print(
        f"   dask/local throughput: {verdict(local.wall / own.wall, 0.8, False)} with mlgit's "
        f"LocalCluster, {verdict(local.wall / pre.wall, 0.8, False)} pre-started"
    )
    print(
        f"   validate/floor: local {verdict(local.wall / floor, 0.5, True)}, --no-statistics "
        f"{local_plain.wall / floor:.2f}; dask pre-started {pre.wall / floor:.2f}, "
        f"--no-statistics {pre_plain.wall / floor:.2f}"
    )
    print(
        f"   validate/streamed read: local {local.wall / best[tools[2].name].wall:.2f}, "
        f"--no-statistics {local_plain.wall / best[tools[2].name].wall:.2f}"
    )
    pairs = [
        ("local vs dask (mlgit's LocalCluster)", local, own),
        ("local vs dask (pre-started)", local, pre),
        ("local vs local --no-statistics", local, local_plain),
        ("dask vs dask --no-statistics", pre, pre_plain),
    ]
    pairs += [
        (f"local vs {v.label} local", local, best[f"{v.label} validate (local)"]) for v in older
    ]
    for label, a, b in pairs:
        print(f"   reports, {label}: {identical(a, b)}")
    for version in older:
        old = best[f"{version.label} validate (local)"]
        print(
            f"   mlgit validate local new/old ({version.label}): wall {ratio(local.wall, old.wall)}"
            f", peak RSS {ratio(local.mib, old.mib)}"
        )


def memory(args, version: Version, rows_list: list[int], client) -> None:
    print(
        "\n== memory: peak RSS of the mlgit process (the client) with --engine dask; workers "
        f"apart; best wall of {args.repeat}"
    )
    env = version.env({**os.environ, "DVC_NO_ANALYTICS": "1"})
    scheduler = client.scheduler.address
    print(
        f"   {'rows':>12}{'MiB on disk':>12}{'dask own: MiB':>15}{'s':>7}"
        f"{'pre-started: MiB':>18}{'s':>7}{'workers MiB':>13}{'local: MiB':>12}{'s':>7}"
    )
    seen = []
    for rows in rows_list:
        path = generate(rows, args.files, args.row_group)
        tools = [
            Tool("own", mlgit(version, str(path), "--engine", "dask"), env),
            Tool(
                "pre", mlgit(version, str(path), "--engine", "dask", "--scheduler", scheduler), env
            ),
            Tool("local", mlgit(version, str(path), "--engine", "local"), env),
        ]
        peaks: list[float] = []

        def restart(tool: Tool) -> None:
            if tool.name == "pre":
                client.restart()
                client.run(lambda: bool(__import__("mlgit.data.checks.validator")))

        best = {}
        for _ in range(args.repeat):
            for tool in tools:
                restart(tool)
                run = measure(tool.argv, tool.env)
                if tool.name == "pre":
                    peaks.append(max(workers_peak(client)))
                if run.rc not in (0, 1):
                    print(f"   {tool.name} failed: {run.err.strip()[-500:]}")
                best[tool.name] = max(  # memory: the highest peak; time: the fastest
                    best.get(tool.name, run), run, key=lambda r: r.mib
                )
                best[tool.name + " wall"] = min(best.get(tool.name + " wall", run.wall), run.wall)
        seen.append((rows, best))
        print(
            f"   {rows:>12,}{size_mib(path):>12.0f}{best['own'].mib:>15.0f}{best['own wall']:>7.2f}"
            f"{best['pre'].mib:>18.0f}{best['pre wall']:>7.2f}{max(peaks):>13.0f}"
            f"{best['local'].mib:>12.0f}{best['local wall']:>7.2f}"
        )
    if len(seen) > 1:
        (r0, a), (r1, b) = seen[0], seen[-1]
        for name, label in (("own", "mlgit's LocalCluster"), ("pre", "pre-started")):
            grow = b[name].mib / a[name].mib
            ok = abs(grow - 1) <= 0.10 and b[name].mib < 250
            print(
                f"   client {label}: x{grow:.2f} peak for x{r1 / r0:.0f} rows, "
                f"{b[name].mib:.0f} MiB at {r1:,} ({'meets' if ok else 'misses'}: within 10%, "
                "< 250 MiB)"
            )
        print(
            f"   local engine: x{b['local'].mib / a['local'].mib:.2f} peak for x{r1 / r0:.0f} rows"
        )


def s3(args, version: Version, rows: int, client, server: S3Server, work: Path) -> None:
    import s3fs

    path = generate(rows, args.files, args.row_group)
    fs = s3fs.S3FileSystem(endpoint_url=server.endpoint)
    bucket = "mlgit-bench"
    prefix = f"{bucket}/{path.name}"
    started = time.perf_counter()
    if not fs.exists(bucket):
        fs.mkdir(bucket)
    if not fs.exists(prefix):
        fs.put(str(path) + "/", prefix + "/", recursive=True)
    upload = time.perf_counter() - started
    url = f"s3://{prefix}/"
    # the server's address is in the environment (AWS_ENDPOINT_URL), as a CI job sets it:
    # mlgit.yaml may not hold endpoints (it comes with every pull request)
    (work / "mlgit.yaml").write_text("version: 1\n", encoding="utf-8")
    kind = "moto_server, its own process" if server.log else "ThreadedMotoServer, in this process"
    print(
        f"\n== s3: {rows:,} rows, {args.files} files ({size_mib(path):.0f} MiB) on loopback S3 "
        f"({kind}; upload {upload:.1f} s), best of {args.repeat}"
    )
    env = version.env({**os.environ, "DVC_NO_ANALYTICS": "1"})
    scheduler = client.scheduler.address
    tools = [
        Tool(
            "pyarrow.parquet.read_table(disk) (floor)",
            [sys.executable, "-c", READ_TABLE, str(path)],
        ),
        Tool(
            "pyarrow.parquet.read_table(s3fs)",
            [sys.executable, "-c", S3_READ, prefix, server.endpoint],
        ),
        Tool(
            "mlgit validate local, disk", mlgit(version, str(path), "--engine", "local"), env, work
        ),
        Tool("mlgit validate local, s3://", mlgit(version, url, "--engine", "local"), env, work),
        Tool(
            "mlgit validate dask pre-started, disk",
            mlgit(version, str(path), "--engine", "dask", "--scheduler", scheduler),
            env,
            work,
        ),
        Tool(
            "mlgit validate dask pre-started, s3://",
            mlgit(version, url, "--engine", "dask", "--scheduler", scheduler),
            env,
            work,
        ),
        Tool(
            "mlgit validate dask (mlgit's LocalCluster), s3://",
            mlgit(version, url, "--engine", "dask"),
            env,
            work,
        ),
    ]
    requests: dict[str, dict[str, int]] = {}
    offsets = {"at": server.offset()}

    def mark(tool: Tool) -> None:  # the requests of the tool that ran before this one
        end, counts = server.requests(offsets["at"])
        if "last" in offsets:
            requests[offsets["last"]] = counts
        offsets["at"], offsets["last"] = end, tool.name

    best = in_turns(tools, args.repeat, before=mark)
    mark(Tool("", []))
    floor = best[tools[0].name].wall
    print(
        f"   {'tool':<52}{'wall s':>8}{'x floor':>9}{'peak MiB':>10}{'M rows/s':>10}"
        f"{'  S3 requests (last run)':<28}"
    )
    for tool in tools:
        counts = requests.get(tool.name) or {}
        note = "  " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) if counts else ""
        line(tool.name, best.get(tool.name), floor, rows, note)
    local_disk, local_s3 = best[tools[2].name], best[tools[3].name]
    dask_disk, dask_s3 = best[tools[4].name], best[tools[5].name]
    print(
        f"   s3/disk: local {verdict(local_s3.wall / local_disk.wall, 1.5, True)}, dask "
        f"pre-started {verdict(dask_s3.wall / dask_disk.wall, 1.5, True)}; "
        f"pyarrow s3/disk {best[tools[1].name].wall / floor:.2f}"
    )
    print(
        f"   reports, local disk vs s3://: {identical(local_disk, local_s3)}; "
        f"local s3:// vs dask s3://: {identical(local_s3, dask_s3)}"
    )
    planning = measure(
        [sys.executable, "-P", "-c", S3_PLANNING, url, server.endpoint, str(SCHEMA), str(path)],
        env,
        work,
    )
    if planning.rc == 0:
        plan_s, disk_s, opens = planning.out.split()
        print(
            f"   client planning (schema, dictionary columns, units: every footer, 16 files at "
            f"a time): {float(plan_s):.2f} s on s3:// vs {float(disk_s):.2f} s on disk, "
            f"{opens} footer reads for {args.files} files"
        )
    counted = measure(
        [sys.executable, "-P", "-c", S3_COUNTED, *mlgit(version, url, "--engine", "local")[4:]],
        env,
        work,
    )
    try:
        stats = json.loads(counted.err.strip().splitlines()[-1])
    except (ValueError, IndexError):
        print(f"   (s3fs counting failed: {counted.err.strip()[-300:]})")
        return
    total = sum(p.stat().st_size for p in path.iterdir())
    files = len(stats["opened"]) or 1
    opened, calls, fetched = (sum(stats[k].values()) for k in ("opened", "calls", "fetched"))
    print(
        f"   s3fs in one local run: {opened} opens ({opened / files:.1f} per file, {files} "
        f"files, {_units(path)} row groups), {calls} ranged GETs ({calls / files:.1f} per file), "
        f"{fetched / 2**20:.0f} MiB fetched = x{fetched / total:.2f} the dataset's "
        f"{total / 2**20:.0f} MiB"
    )


UNITS_SCRIPT = r"""
import json, os, sys, time
from pathlib import Path
import cloudpickle as pickle  # what Dask sends: the accumulator factory is a closure
from mlgit.data import engine, io, units
from mlgit.data.checks.validator import Validator, read_plan
from mlgit.data.schema import load_schema

path, schema_file, repeat = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
schedulers = sys.argv[4:]
schema = load_schema(schema_file)
source = io.open_source(path)
started = time.perf_counter()
plan = read_plan(source, schema)
planned = units.plan(source)
planning = time.perf_counter() - started
new = lambda: Validator(schema, 20, None)
reading = units.Reading(source.format, source.label, False, plan.columns, plan.column_types,
                        plan.null_values, plan.dictionary_columns or None, statistics=True)
best = {}
for _ in range(repeat):
    started = time.perf_counter()
    parts = [units.run_unit(u, new, reading) for u in planned]
    kernel = time.perf_counter() - started
    state_bytes = len(pickle.dumps(parts[0]))
    task_bytes = len(pickle.dumps((planned[0], new, reading)))
    started = time.perf_counter()
    total = units.fold(parts, units.merge)
    merging = time.perf_counter() - started
    final_bytes = len(pickle.dumps(total))
    best["kernel"] = min(best.get("kernel", kernel), kernel)
    best["merge"] = min(best.get("merge", merging), merging)
for address in schedulers:
    chosen = engine.Engine("dask", scheduler=address)
    workers = len(engine.client(chosen).scheduler_info()["workers"])
    for _ in range(repeat):
        started = time.perf_counter()
        engine.run(chosen, planned, new, reading)
        wall = time.perf_counter() - started
        best[f"dask{workers}"] = min(best.get(f"dask{workers}", wall), wall)
print(json.dumps({
    "units": len(planned), "rows": sum(u.rows or 0 for u in planned), "planning": planning,
    "state_bytes": state_bytes, "task_bytes": task_bytes, "final_bytes": final_bytes, **best,
}))
"""


def unit_costs(args, version: Version, rows: int, one, two) -> None:
    big = generate(rows, args.files, args.row_group)
    tiny = generate(200_000, 20, 100)
    print(
        f"\n== units: cost per work unit and per merge, in one process (mlgit's API; Dask "
        f"clusters pre-started), best of {args.repeat}"
    )
    env = version.env({**os.environ, "DVC_NO_ANALYTICS": "1"})
    found = {}
    for label, path in (("tiny", tiny), ("big", big)):
        run = measure(
            [
                sys.executable,
                "-P",
                "-c",
                UNITS_SCRIPT,
                str(path),
                str(SCHEMA),
                str(args.repeat),
                one.scheduler.address,
                two.scheduler.address,
            ],
            env,
        )
        if run.rc != 0:
            print(f"   units {label} failed: {run.err.strip()[-800:]}")
            return
        found[label] = json.loads(run.out.strip().splitlines()[-1])
    print(
        f"   {'dataset':<30}{'units':>7}{'rows/unit':>10}{'plan s':>8}{'unit ms':>9}"
        f"{'merge ms':>9}{'state KiB':>10}{'1 worker s':>11}{'2 workers s':>12}"
        f"{'ms/unit 1w':>11}{'ms/unit 2w':>11}{'overhead ms/task':>17}"
    )
    for label, f in found.items():
        u = f["units"]
        merges = max(u - 1, 1)
        unit_ms = f["kernel"] / u * 1e3
        merge_ms = f["merge"] / merges * 1e3
        # what a task costs on 1 worker beyond its own work: scheduling, pickling, transfer
        overhead = (f["dask1"] - f["kernel"] - f["merge"]) / (u + merges) * 1e3
        f.update(unit_ms=unit_ms, merge_ms=merge_ms, overhead_ms=overhead)
        name = f"{label}: {f['rows']:,} rows"
        print(
            f"   {name:<30}{u:>7}{f['rows'] // u:>10,}{f['planning']:>8.2f}{unit_ms:>9.2f}"
            f"{merge_ms:>9.3f}{f['state_bytes'] / 1024:>10.1f}{f['dask1']:>11.2f}"
            f"{f['dask2']:>12.2f}{f['dask1'] / u * 1e3:>11.2f}{f['dask2'] / u * 1e3:>11.2f}"
            f"{overhead:>17.2f}"
        )
    b, t = found["big"], found["tiny"]
    print(
        f"   the kernel reads and checks {b['rows'] / b['kernel'] / 1e6:.2f} M rows/s on one core"
        f" ({b['unit_ms']:.0f} ms per {b['rows'] // b['units']:,}-row unit); a task's state is "
        f"{b['state_bytes'] / 1024:.0f} KiB, the merged one {b['final_bytes'] / 1024:.0f} KiB; "
        f"a task's arguments pickle to {b['task_bytes'] / 1024:.1f} KiB; a unit is "
        f"{size_mib(big) / b['units']:.1f} MiB of Parquet, read at "
        f"{size_mib(big) / b['kernel']:.0f} MiB/s by one core"
    )
    overhead = max(t["overhead_ms"], 0.0)
    print(
        f"   Dask overhead per task (tiny dataset, 1 worker): {overhead:.2f} ms; 2 workers run "
        f"its {t['units']} units at {t['dask2'] / t['units'] * 1e3:.2f} ms each "
        f"(x{t['dask1'] / t['dask2']:.2f} of 1 worker), the big dataset x"
        f"{b['dask1'] / b['dask2']:.2f}"
    )
    predict(b, t)


def predict(b: dict, t: dict) -> None:
    """Throughput at W workers (docs/scaling.md): the client plans (reads every footer), the
    units run in waves of W, each paying its kernel and the per-task overhead, the scheduler
    handles every task (units + merges) one after another at `serial` each, and the merge tree
    adds its depth of merges after the last unit. `serial` is measured (the tiny dataset's
    wall per task at 2 workers: on this 2-core machine an upper bound, the scheduler, client
    and workers sharing the cores) or Dask's usual ~1 ms per task on a scheduler of its own.
    Object-store bandwidth is left out (see the s3 section)."""
    unit_s, merge_s = b["unit_ms"] / 1e3, b["merge_ms"] / 1e3
    over_s = max(t["overhead_ms"], 0.0) / 1e3
    measured = t["dask2"] / (2 * t["units"] - 1)
    rows_per_unit = b["rows"] / b["units"]
    widths = (1, 2, 8, 32, 128)
    print(f"   {'predicted M rows/s at W workers':<52}" + "".join(f"{f'W={w}':>9}" for w in widths))
    for serial, how in ((measured, f"{measured * 1e3:.1f} ms/task measured"), (1e-3, "1 ms/task")):
        for scale in (1, 100):
            units = b["units"] * scale
            cells = []
            for workers in widths:
                work = math.ceil(units / workers) * (unit_s + over_s)
                depth = math.ceil(math.log2(units)) if units > 1 else 0
                total = b["planning"] * scale + max(work, (2 * units - 1) * serial)
                total += depth * (merge_s + over_s)
                cells.append(units * rows_per_unit / total / 1e6)
            label = f"{units:,} units ({units * rows_per_unit / 1e6:,.0f}M rows), {how}"
            print(f"   {label:<52}" + "".join(f"{c:>9.1f}" for c in cells))


def _units(path: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(p).num_row_groups for p in sorted(path.glob("*.parquet")))


# ---------------------------------------------------------------- main
@contextlib.contextmanager
def this_checkout(against: str | None) -> Iterator[list[Version]]:
    """[this checkout as `python -P -m mlgit`] (+ the --against revision)."""
    if against:
        with compared(against, "") as versions:
            yield versions
        return
    compile_bytecode(ROOT)
    yield [from_checkout("mlgit", ROOT)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=None,
        help="rows (default 20000000); memory uses these when 2+ are given, else 10M and 40M",
    )
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--row-group", type=int, default=131_072)
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the fastest counts")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument(
        "--s3-server",
        choices=("thread", "process"),
        default="thread",
        help="ThreadedMotoServer in this process (faster here), or moto_server as its own "
        "process (slower, but its log gives the S3 requests of each run)",
    )
    parser.add_argument("--against", metavar="REV", help=AGAINST_HELP)
    args = parser.parse_args()
    rows = args.rows or [20_000_000]
    memory_rows = args.rows if args.rows and len(args.rows) > 1 else [10_000_000, 40_000_000]
    # the workers of the clusters started here import this checkout and reach the S3 server
    os.environ.update(S3_CREDENTIALS)
    os.environ["PYTHONPATH"] = str(ROOT)
    os.environ["DVC_NO_ANALYTICS"] = "1"
    sys.path.insert(0, str(ROOT))
    for size in {*rows, *(memory_rows if "memory" in args.only else [])}:
        generate(size, args.files, args.row_group)
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    with (
        this_checkout(args.against) as versions,
        tempfile.TemporaryDirectory(prefix="mlgit-bench-scale-") as tmp,
        s3_server(args.s3_server, Path(tmp))
        if "s3" in args.only
        else contextlib.nullcontext() as server,
        cluster(2) as two,  # after the S3 server: its workers get AWS_ENDPOINT_URL
    ):
        work = Path(tmp)
        if "speed" in args.only:
            for size in rows:
                speed(args, versions, size, two)
        if "memory" in args.only:
            memory(args, versions[0], memory_rows, two)
        if server is not None:
            s3(args, versions[0], rows[0], two, server, work)
        if "units" in args.only:
            with cluster(1) as one:
                unit_costs(args, versions[0], rows[0], one, two)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
