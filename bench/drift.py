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
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

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


def timed(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one whole process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        env = {**os.environ, "DVC_NO_ANALYTICS": "1", "NO_COLOR": "1"}
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


def in_turns(commands: list[list[str]], cwd: Path, runs: int) -> list[tuple[float, float, int]]:
    """Best (wall, peak MiB, exit) of each command; the commands take turns, so a noisy moment
    of the machine hits all of them alike."""
    results: list[list[tuple[float, float, int]]] = [[] for _ in commands]
    for _ in range(runs):
        for command, seen in zip(commands, results, strict=True):
            seen.append(timed(command, cwd))
    return [min(seen, key=lambda r: r[0]) for seen in results]


def mlgit_commands(reference: Path, current: Path) -> list[list[str]]:
    """[profile the reference, drift the current data against that profile (two processes),
    drift the current data against the reference data (one process profiling both)]."""
    mlgit = str(Path(sys.executable).parent / "mlgit")
    drift = [mlgit, "drift", str(current), "--format", "json", "-o", "d.json", "--reference"]
    return [
        [mlgit, "profile", str(reference), "-o", "ref.json"],
        [*drift, "ref.json"],
        [*drift, str(reference)],
    ]


def checked(results: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    profile, *drifts = results
    if profile[2] != 0 or any(d[2] not in (0, 1) for d in drifts):
        raise SystemExit(f"mlgit failed: exit codes {[r[2] for r in results]}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "mlgit-bench-drift"
    )
    parser.add_argument("--evidently-python", default=EVIDENTLY_PYTHON)
    args = parser.parse_args()
    work = args.dir
    work.mkdir(parents=True, exist_ok=True)
    reference = make_data(work / "reference.parquet", args.rows, 1, 1.0)
    current = make_data(work / "current.parquet", args.rows, 2, 1.2)
    big_reference = make_data(work / "reference-big.parquet", args.big_rows, 3, 1.0)
    big_current = make_data(work / "current-big.parquet", args.big_rows, 4, 1.2)

    read_both = [sys.executable, "-c", READ_SCRIPT, str(reference), str(current)]
    read, *mlgit = in_turns([read_both, *mlgit_commands(reference, current)], work, args.runs)
    profile, drift, one_process = checked(mlgit)
    two_s, two_mib = profile[0] + drift[0], max(profile[1], drift[1])
    big = checked(in_turns(mlgit_commands(big_reference, big_current), work, 1))
    big_s, big_mib = big[0][0] + big[1][0], max(big[0][1], big[1][1])
    evidently = None
    if shutil.which(args.evidently_python) or Path(args.evidently_python).exists():
        check = subprocess.run(
            [args.evidently_python, "-c", "import evidently"], capture_output=True, check=False
        )
        if check.returncode == 0:
            evidently = in_turns(
                [[args.evidently_python, "-c", EVIDENTLY_SCRIPT, str(reference), str(current)]],
                work,
                1,
            )[0]

    rows = f"{args.rows:,}"
    print(f"{rows} reference rows vs {rows} current rows, 6 columns; whole processes, best of runs")
    print(f"{'':<52}{'seconds':>9}{'peak MiB':>10}{'vs read':>9}")

    def row(label: str, seconds: float, mib: float) -> None:
        print(f"{label:<52}{seconds:>9.2f}{mib:>10.0f}{seconds / read[0]:>8.2f}x")

    row("pyarrow read_table (both files)", read[0], read[1])
    row("mlgit profile REF -o ref.json", profile[0], profile[1])
    row("mlgit drift CUR --reference ref.json", drift[0], drift[1])
    row("mlgit profile + drift (2 processes)", two_s, two_mib)
    row("mlgit drift CUR --reference REF (1 process)", one_process[0], one_process[1])
    if evidently is None:
        print(f"{'Evidently DataDriftPreset':<52}{'not installed':>19}")
    else:
        row("Evidently DataDriftPreset", evidently[0], evidently[1])
        print(f"\nEvidently / mlgit = {evidently[0] / two_s:.1f}x (target >= 10x)")
    print(f"mlgit / pyarrow read = {two_s / read[0]:.2f}x as profile + drift, ", end="")
    print(f"{one_process[0] / read[0]:.2f}x in one process (target <= 2x)")
    big = f"{args.big_rows:,}"
    print(
        f"memory: {two_mib:.0f} MiB at {rows} rows, {big_mib:.0f} MiB at {big} rows "
        f"(x{big_mib / two_mib:.2f} for x{args.big_rows / args.rows:.0f} rows; "
        f"time {big_s:.2f} s)"
    )


if __name__ == "__main__":
    main()
