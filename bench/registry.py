"""Registry at scale: `mlgit registry` / `mlgit promote` vs `gto show` / `gto assign`.

Builds a temporary repository holding 1,000 and 10,000 annotated registry tags (100 models,
versions registered and assigned to stages, written in one `git fast-import` pass), then times
whole processes side by side and prints the ratios. `mlgit registry` is timed with the tags as
loose refs (one file each) and packed (as after a clone or `git gc`); the rest run packed.
Run: `python bench/registry.py [--sizes 1000,10000] [--repeat 3] [--against REV]`. Target:
`mlgit registry` <= 0.5 s at 10,000 tags, >= 10x faster than `gto show`.
With --against REV, mlgit at that git revision (a temporary worktree) takes turns with this
checkout's on the same repository, both as `python -P -m mlgit` from their own checkout, and the
table adds its `mlgit registry` (loose, packed) and `mlgit promote` times and the ratios new/old.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from versions import AGAINST_HELP, Version, compared
from versions import ratio as new_over_old

BIN = Path(sys.executable).parent
MODELS = 100
CONFIG = """\
version: 1
models:
  churn:
    path: models/churn.pkl
    metrics: metrics.json
    gates:
      - {metric: roc_auc, min: 0.8}
      - {metric: roc_auc, max_drop: 0.05}
stages: [staging, prod, canary]
"""
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "DVC_NO_ANALYTICS": "1",
}


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=root, env=ENV, input=stdin, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def build(root: Path, tags: int) -> None:
    """A repository with `tags` registry tags over 100 models: version k of every model is
    registered on commit k, then assigned to staging or prod (one fast-import stream)."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "models").mkdir()
    (root / "models/churn.pkl").write_text("m1")  # kept in git: no DVC in this benchmark
    (root / "mlgit.yaml").write_text(CONFIG)
    (root / "metrics.json").write_text('{"roc_auc": 0.85}')
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")
    per_model = max(2, tags // MODELS // 2)
    stamp = 1_700_000_000
    stream = []
    parent = git(root, "rev-parse", "HEAD")
    for k in range(per_model):
        stamp += 1
        content = f'{{"roc_auc": {0.85 + k / 100_000:.6f}}}\n'
        stream.append(
            f"commit refs/heads/main\nmark :{k + 1}\n"
            f"committer Bench <bench@example.com> {stamp} +0000\ndata 7\nretrain\n"
            f"from {parent if k == 0 else f':{k}'}\n"
            f"M 644 inline metrics.json\ndata {len(content)}\n{content}\n"
        )
    for m in range(MODELS):
        name = "churn" if m == 0 else f"model{m:03d}"
        for k in range(per_model):
            stamp += 1
            stage = ("staging", "prod")[k % 2]
            for tag in (f"{name}@v1.0.{k}", f"{name}#{stage}#{k + 1}"):
                message = f"bench {tag}\n"
                stream.append(
                    f"tag {tag}\nfrom :{k + 1}\n"
                    f"tagger Bench <bench@example.com> {stamp} +0000\n"
                    f"data {len(message)}\n{message}"
                )
    git(root, "fast-import", "--quiet", "--force", stdin="".join(stream))
    git(root, "reset", "-q", "--hard", "main")


TIMEOUT = 120.0  # seconds; a slower command is reported as "> TIMEOUT"


def timed(root: Path, *cmd: str, env: dict[str, str] = ENV) -> float:
    """Wall time of one whole process; `inf` when it ran past TIMEOUT (then killed)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=root, env=env, capture_output=True, text=True, check=False, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return float("inf")
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def median(root: Path, repeat: int, *cmd: str) -> float:
    first = timed(root, *cmd)
    if first == float("inf"):
        return first  # one timeout is enough to know
    return statistics.median([first, *(timed(root, *cmd) for _ in range(repeat - 1))])


def in_turns(root: Path, repeat: int, versions: list[Version], *args: str) -> list[float]:
    """`median` of each version's `mlgit ARGS`, the versions taking turns (A, B, A, B, ...) so a
    busy moment of the shared machine lands on both alike."""
    runs: list[list[float]] = [[] for _ in versions]
    for _ in range(repeat):
        for version, seen in zip(versions, runs, strict=True):
            if seen and seen[0] == float("inf"):
                continue  # one timeout is enough to know
            seen.append(timed(root, *version.command(*args), env=version.env(ENV)))
    return [statistics.median(seen) for seen in runs]


def seconds(value: float, width: int) -> str:
    text = f"{value:.3f} s" if value != float("inf") else f">{TIMEOUT:.0f} s"
    return f"{text:>{width}}"


def ratio(slow: float, fast: float) -> str:
    if slow == float("inf"):
        return f">{TIMEOUT / fast:.0f}x"
    return f"{slow / fast:.1f}x"


def alternating(root: Path, repeat: int, make_cmd) -> float:
    """Median of commands that change the registry (each run assigns the other version)."""
    return statistics.median(timed(root, *make_cmd(i)) for i in range(repeat))


def promotions(
    root: Path, repeat: int, versions: list[Version], two: tuple[str, str]
) -> list[float]:
    """Median `mlgit promote` of each version, taking turns; every run assigns the version the
    stage does not hold (the k-th run overall promotes two[k % 2]), so none is a no-op."""
    runs: list[list[float]] = [[] for _ in versions]
    k = 0
    for _ in range(repeat):
        for version, seen in zip(versions, runs, strict=True):
            cmd = version.command(
                "promote", "churn", "--to", "canary", "--version", two[k % 2], "--format", "json"
            )
            seen.append(timed(root, *cmd, env=version.env(ENV)))
            k += 1
    return [statistics.median(seen) for seen in runs]


def main() -> None:
    global TIMEOUT  # one knob for the whole run
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="per gto/mlgit run")
    parser.add_argument("--against", metavar="REV", help=AGAINST_HELP)
    args = parser.parse_args()
    TIMEOUT = args.timeout
    if not (BIN / "gto").exists():
        raise SystemExit("gto is not installed in this environment: pip install gto")
    with compared(args.against, str(BIN / "mlgit")) as versions:
        run(args, versions)


def run(args: argparse.Namespace, versions: list[Version]) -> None:
    gto = str(BIN / "gto")
    old = [v.label for v in versions[1:]]
    base = Path(tempfile.mkdtemp(prefix="mlgit-bench-registry-"))
    try:
        print(f"{'tags':>6} | {'registry loose':>14} | {'mlgit registry':>14} | "
              f"{'gto show':>9} | {'ratio':>6} | {'mlgit promote':>13} | {'gto assign':>10} | "
              f"{'ratio':>6}"
              + "".join(f" | {label} loose | new/old | {label} registry | new/old | "
                        f"{label} promote | new/old"
                        for label in old),
        )  # fmt: skip
        for size in (int(s) for s in args.sizes.split(",")):
            root = base / f"repo-{size}"
            build(root, size)
            count = len(git(root, "tag", "-l").splitlines())
            # fast-import leaves 1 file per tag (loose refs), as fetching tags one by one does;
            # a clone, `git gc` or `git pack-refs` packs them: time both, the rest packed
            loose = in_turns(root, args.repeat, versions, "registry", "--format", "json")
            git(root, "pack-refs", "--all")
            registry = in_turns(root, args.repeat, versions, "registry", "--format", "json")
            show = median(root, args.repeat, gto, "show", "--json")
            last = len(git(root, "tag", "-l", "churn@*").splitlines()) - 1
            two = (f"v1.0.{last}", f"v1.0.{last - 1}")
            promote = promotions(root, args.repeat, versions, two)
            assign = alternating(
                root, args.repeat,
                lambda i, two=two: (gto, "assign", "churn", "--version", two[i % 2],
                                    "--stage", "shadow"),
            )  # fmt: skip
            line = (
                f"{count:>6} | {seconds(loose[0], 14)} | {seconds(registry[0], 14)} | "
                f"{seconds(show, 9)} | "
                f"{ratio(show, registry[0]):>6} | {seconds(promote[0], 13)} | "
                f"{seconds(assign, 10)} | {ratio(assign, promote[0]):>6}"
            )
            for i, label in enumerate(old, start=1):
                for name, times in (("loose", loose), ("registry", registry), ("promote", promote)):
                    line += (
                        f" | {seconds(times[i], len(f'{label} {name}'))} | "
                        f"{new_over_old(times[0], times[i]):>7}"
                    )
            print(line, flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
