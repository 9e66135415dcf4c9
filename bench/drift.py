"""Drift: `mlgit profile` + `mlgit drift` against Evidently's data drift report and a pyarrow read.

1M-row reference vs 1M-row current (shifted), 6 columns (4 numeric, 2 categorical), Parquet.
Every number is a whole process (start-up included), timed with /usr/bin/time for peak memory;
the commands take turns, best of --runs. mlgit is timed two ways: `mlgit profile` writing the
reference profile, then `mlgit drift` against it (two processes, the workflow with a tracked
profile), and `mlgit drift --reference REFERENCE_DATA` profiling both files in one process (like
Evidently and the pyarrow read, which each run once).
Target (issue 5): >= 10x faster than Evidently, <= 2x the pyarrow read, memory flat in rows.

Evidently is imported from a separate virtualenv (it does not import under pandas 3):
  python3.11 -m venv /work/bench-venv-evidently
  /work/bench-venv-evidently/bin/pip install "pandas<3" "evidently==0.7.23" pyarrow
or pass --evidently-python; without it the row says "not installed".
Run: python bench/drift.py [--rows 1000000] [--big-rows 3000000] [--dir /tmp/mlgit-bench-drift]
                           [--against REV]
With --against REV, mlgit at that git revision (a temporary worktree) takes the same turns, both
mlgit sides as `python -P -m mlgit` from their own checkout; each mlgit row adds its seconds,
peak MiB and the ratio new/old.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from versions import AGAINST_HELP, Version, compared, ratio

EVIDENTLY_PYTHON = "/work/bench-venv-evidently/bin/python"

EVIDENTLY_SCRIPT = """
import sys
import pyarrow.parquet as pq
from evidently import Report
from evidently.presets import DataDriftPreset
reference = pq.read_table(sys.argv[1]).to_pandas()
current = pq.read_table(sys.argv[2]).to_pandas()
snapshot = Report([DataDriftPreset()]).run(reference_data=reference, current_data=current)
snapshot.dict()
"""

READ_SCRIPT = """
import sys
import pyarrow.parquet as pq
for path in sys.argv[1:]:
    pq.read_table(path)
"""


def make_data(path: Path, rows: int, seed: int, shift: float) -> Path:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists() and pq.read_metadata(path).num_rows == rows:
        return path
    rng = np.random.default_rng(seed)
    cities = np.array([f"city-{i}" for i in range(40)])
    weights = rng.dirichlet(np.ones(40) * (2 if shift == 1 else 1))
    table = pa.table(
        {
            "amount": rng.lognormal(3, 1, rows) * shift,
            "age": rng.integers(18, 90, rows),
            "score": rng.normal(0.5, 0.2, rows),
            "tenure_days": rng.exponential(400, rows).astype("int64"),
            "city": pa.array(rng.choice(cities, rows, p=weights)).dictionary_encode(),
            "plan": pa.array(rng.choice(["free", "basic", "pro"], rows, p=[0.6, 0.3, 0.1])),
        }
    )
    pq.write_table(table, path)
    return path


Result = tuple[float, float, int]  # (wall seconds, peak RSS MiB, exit code)
Command = tuple[list[str], "dict[str, str] | None"]  # argv, environment (None: this one's)


def timed(command: list[str], cwd: Path, base: dict[str, str] | None = None) -> Result:
    """(wall seconds, peak RSS MiB, exit code) of one whole process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        env = {**(os.environ if base is None else base), "DVC_NO_ANALYTICS": "1", "NO_COLOR": "1"}
        proc = subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%e %M", *command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        match = re.search(r"([\d.]+) (\d+)\s*$", Path(report.name).read_text())
    if match is None:
        raise SystemExit(f"could not time {command}: {proc.stderr}")
    return float(match.group(1)), int(match.group(2)) / 1024, proc.returncode


def in_turns(commands: list[Command], cwd: Path, runs: int) -> list[Result]:
    """Best (wall, peak MiB, exit) of each command; the commands take turns, so a noisy moment
    of the machine hits all of them alike."""
    results: list[list[Result]] = [[] for _ in commands]
    for _ in range(runs):
        for (command, env), seen in zip(commands, results, strict=True):
            seen.append(timed(command, cwd, env))
    return [min(seen, key=lambda r: r[0]) for seen in results]


def mlgit_commands(version: Version, reference: Path, current: Path, n: int) -> list[Command]:
    """[profile the reference, drift the current data against that profile (two processes),
    drift the current data against the reference data (one process profiling both)].
    `n` numbers the output files of each version but the first (which keeps ref.json, d.json)."""
    suffix = f"-{n}" if n else ""
    profile, report = f"ref{suffix}.json", f"d{suffix}.json"
    drift = version.command("drift", str(current), "--format", "json", "-o", report)
    env = version.env()
    return [
        (version.command("profile", str(reference), "-o", profile), env),
        ([*drift, "--reference", profile], env),
        ([*drift, "--reference", str(reference)], env),
    ]


def checked(results: list[Result]) -> list[Result]:
    profile, *drifts = results
    if profile[2] != 0 or any(d[2] not in (0, 1) for d in drifts):
        raise SystemExit(f"mlgit failed: exit codes {[r[2] for r in results]}")
    return results


def two_processes(results: list[Result]) -> tuple[float, float]:
    """profile + drift: the seconds add up, the peak is the larger one."""
    return results[0][0] + results[1][0], max(results[0][1], results[1][1])


def all_versions(
    versions: list[Version], reference: Path, current: Path
) -> tuple[list[Command], int]:
    """Every version's mlgit commands in one list (they take the same turns), and how many
    each has."""
    commands = [mlgit_commands(v, reference, current, n) for n, v in enumerate(versions)]
    return [c for per_version in commands for c in per_version], len(commands[0])


def per_version(results: list[Result], size: int) -> list[list[Result]]:
    return [checked(results[i : i + size]) for i in range(0, len(results), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "mlgit-bench-drift"
    )
    parser.add_argument("--evidently-python", default=EVIDENTLY_PYTHON)
    parser.add_argument("--against", metavar="REV", help=AGAINST_HELP)
    args = parser.parse_args()
    with compared(args.against, str(Path(sys.executable).parent / "mlgit")) as versions:
        run(args, versions)


def run(args: argparse.Namespace, versions: list[Version]) -> None:
    work = args.dir
    work.mkdir(parents=True, exist_ok=True)
    reference = make_data(work / "reference.parquet", args.rows, 1, 1.0)
    current = make_data(work / "current.parquet", args.rows, 2, 1.2)
    big_reference = make_data(work / "reference-big.parquet", args.big_rows, 3, 1.0)
    big_current = make_data(work / "current-big.parquet", args.big_rows, 4, 1.2)

    read_both = [sys.executable, "-c", READ_SCRIPT, str(reference), str(current)]
    commands, size = all_versions(versions, reference, current)
    read, *mlgit = in_turns([(read_both, None), *commands], work, args.runs)
    # per version: (profile, drift, one process)
    timings = per_version(mlgit, size)
    big_commands, size = all_versions(versions, big_reference, big_current)
    bigs = per_version(in_turns(big_commands, work, 1), size)
    evidently = None
    if shutil.which(args.evidently_python) or Path(args.evidently_python).exists():
        check = subprocess.run(
            [args.evidently_python, "-c", "import evidently"], capture_output=True, check=False
        )
        if check.returncode == 0:
            evidently = in_turns(
                [
                    (
                        [args.evidently_python, "-c", EVIDENTLY_SCRIPT, str(reference),
                         str(current)],
                        None,
                    )
                ],
                work,
                1,
            )[0]  # fmt: skip

    rows = f"{args.rows:,}"
    print(f"{rows} reference rows vs {rows} current rows, 6 columns; whole processes, best of runs")
    old = versions[1].label if len(versions) > 1 else None
    header = f"{'':<52}{'seconds':>9}{'peak MiB':>10}{'vs read':>9}"
    if old:
        header += f"{f'{old} s':>20}{'MiB':>6}{'new/old':>9}"
    print(header)

    def row(label: str, seconds: float, mib: float, against: tuple[float, float] | None) -> None:
        line = f"{label:<52}{seconds:>9.2f}{mib:>10.0f}{seconds / read[0]:>8.2f}x"
        if against is not None:
            line += f"{against[0]:>20.2f}{against[1]:>6.0f}{ratio(seconds, against[0]):>9}"
        print(line)

    def mlgit_row(label: str, pick: Callable[[list[Result]], tuple[float, float]]) -> None:
        new, *older = (pick(t) for t in timings)
        row(label, new[0], new[1], older[0] if older else None)

    row("pyarrow read_table (both files)", read[0], read[1], None)
    mlgit_row("mlgit profile REF -o ref.json", lambda t: t[0][:2])
    mlgit_row("mlgit drift CUR --reference ref.json", lambda t: t[1][:2])
    mlgit_row("mlgit profile + drift (2 processes)", two_processes)
    mlgit_row("mlgit drift CUR --reference REF (1 process)", lambda t: t[2][:2])
    two_s = two_processes(timings[0])[0]
    one_process = timings[0][2]
    if evidently is None:
        print(f"{'Evidently DataDriftPreset':<52}{'not installed':>19}")
    else:
        row("Evidently DataDriftPreset", evidently[0], evidently[1], None)
        print(f"\nEvidently / mlgit = {evidently[0] / two_s:.1f}x (target >= 10x)")
    print(f"mlgit / pyarrow read = {two_s / read[0]:.2f}x as profile + drift, ", end="")
    print(f"{one_process[0] / read[0]:.2f}x in one process (target <= 2x)")
    big = f"{args.big_rows:,}"
    for version, small, large in zip(versions, timings, bigs, strict=True):
        small_mib = two_processes(small)[1]
        big_s, big_mib = two_processes(large)
        label = "memory" if version is versions[0] else f"{version.label} memory"
        print(
            f"{label}: {small_mib:.0f} MiB at {rows} rows, {big_mib:.0f} MiB at {big} rows "
            f"(x{big_mib / small_mib:.2f} for x{args.big_rows / args.rows:.0f} rows; "
            f"time {big_s:.2f} s)"
        )


if __name__ == "__main__":
    main()
