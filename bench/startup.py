"""Start-up time: `mlgit --help` against `dvc --version`, best of N whole processes each.

Target (issue 3): `mlgit --help` under 150 ms and at most a third of `dvc --version`.
Run: python bench/startup.py [--runs 10] [--against REV]
With --against REV, `mlgit --help` of this checkout and of REV (a temporary git worktree) both
run as `python -m mlgit --help` in the same turns, and the table adds the ratio new/old.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from versions import AGAINST_HELP, compared, ratio


def best_of(commands: list[tuple[list[str], dict[str, str]]], runs: int) -> list[float]:
    """The fastest of `runs` whole processes per (command, environment), run in turns (A, B, C,
    A, B, C, ...) so that a slow moment of the machine does not land on one command only."""
    for command, env in commands:  # writes the caches
        subprocess.run(command, check=True, capture_output=True, env=env)
    best = [float("inf")] * len(commands)
    for _ in range(runs):
        for i, (command, env) in enumerate(commands):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def environment() -> dict[str, str]:
    # As on a user's machine: bytecode caches are written and used (a sandbox may disable them,
    # and recompiling every module on each start would measure the compiler, not the tool).
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def executable(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed; pip install -e '.[dev]' first")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--against", metavar="REV", help=AGAINST_HELP)
    args = parser.parse_args()
    runs, env = args.runs, environment()
    with compared(args.against, executable("mlgit")) as versions:
        floor, *mlgit, dvc = best_of(
            [
                ([sys.executable, "-c", "pass"], env),
                *((version.command("--help"), version.env(env)) for version in versions),
                ([executable("dvc"), "--version"], env),
            ],
            runs,
        )
    print(f"best of {runs} runs, whole processes")
    if args.against:
        print("mlgit rows: python -P -m mlgit, PYTHONPATH = this checkout or a worktree of the REV")
    print(f"{'command':<22}{'seconds':>10}{'vs python -c pass':>20}")
    for name, seconds in (
        ("python -c pass", floor),
        *((f"{version.label} --help", s) for version, s in zip(versions, mlgit, strict=True)),
        ("dvc --version", dvc),
    ):
        print(f"{name:<22}{seconds:>10.3f}{seconds / floor:>19.2f}x")
    if args.against:
        print(f"\nmlgit --help new/old ({versions[1].label}) = {ratio(mlgit[0], mlgit[1])}")
    print(f"\nmlgit --help / dvc --version = {mlgit[0] / dvc:.2f} (target <= 0.33)")
    print(f"mlgit --help = {mlgit[0] * 1000:.0f} ms (target < 150 ms)")


if __name__ == "__main__":
    main()
