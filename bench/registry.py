"""Registry at scale: `mlgit registry` / `mlgit promote` vs `gto show` / `gto assign`.

Builds a temporary repository holding 1,000 and 10,000 annotated registry tags (100 models,
versions registered and assigned to stages, written in one `git fast-import` pass), then times
whole processes side by side and prints the ratios. `mlgit registry` is timed with the tags as
loose refs (one file each) and packed (as after a clone or `git gc`); the rest run packed.
Run: `python bench/registry.py [--sizes 1000,10000] [--repeat 3]`. Target: `mlgit registry`
<= 0.5 s at 10,000 tags, >= 10x faster than `gto show`.
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


def timed(root: Path, *cmd: str) -> float:
    """Wall time of one whole process; `inf` when it ran past TIMEOUT (then killed)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=root, env=ENV, capture_output=True, text=True, check=False, timeout=TIMEOUT
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


def main() -> None:
    global TIMEOUT  # one knob for the whole run
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="per gto/mlgit run")
    args = parser.parse_args()
    TIMEOUT = args.timeout
    mlgit, gto = str(BIN / "mlgit"), str(BIN / "gto")
    if not Path(gto).exists():
        raise SystemExit("gto is not installed in this environment: pip install gto")
    base = Path(tempfile.mkdtemp(prefix="mlgit-bench-registry-"))
    try:
        print(f"{'tags':>6} | {'registry loose':>14} | {'mlgit registry':>14} | "
              f"{'gto show':>9} | {'ratio':>6} | {'mlgit promote':>13} | {'gto assign':>10} | "
              f"{'ratio':>6}")  # fmt: skip
        for size in (int(s) for s in args.sizes.split(",")):
            root = base / f"repo-{size}"
            build(root, size)
            count = len(git(root, "tag", "-l").splitlines())
            # fast-import leaves 1 file per tag (loose refs), as fetching tags one by one does;
            # a clone, `git gc` or `git pack-refs` packs them: time both, the rest packed
            loose = median(root, args.repeat, mlgit, "registry", "--format", "json")
            git(root, "pack-refs", "--all")
            registry = median(root, args.repeat, mlgit, "registry", "--format", "json")
            show = median(root, args.repeat, gto, "show", "--json")
            last = len(git(root, "tag", "-l", "churn@*").splitlines()) - 1
            two = (f"v1.0.{last}", f"v1.0.{last - 1}")
            promote = alternating(
                root, args.repeat,
                lambda i, two=two: (mlgit, "promote", "churn", "--to", "canary",
                                    "--version", two[i % 2], "--format", "json"),
            )  # fmt: skip
            assign = alternating(
                root, args.repeat,
                lambda i, two=two: (gto, "assign", "churn", "--version", two[i % 2],
                                    "--stage", "shadow"),
            )  # fmt: skip
            print(
                f"{count:>6} | {seconds(loose, 14)} | {seconds(registry, 14)} | "
                f"{seconds(show, 9)} | "
                f"{ratio(show, registry):>6} | {seconds(promote, 13)} | {seconds(assign, 10)} | "
                f"{ratio(assign, promote):>6}",
                flush=True,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
