"""Two versions of mlgit side by side in one benchmark run (`--against REV`).

The older revision is checked out into a temporary `git worktree` (removed at the end, also on
Ctrl-C, SIGTERM or an error). Both sides then run as `python -P -m mlgit` with this interpreter
and `PYTHONPATH` set to their checkout's root, so they share every dependency and only the mlgit
code differs. Without `--against` a benchmark times the installed `mlgit` script as before.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AGAINST_HELP = "also time mlgit at this git revision (e.g. f549fcd), side by side"


@dataclass(frozen=True)
class Version:
    """One mlgit to time: how to start it and which checkout it imports."""

    label: str  # "mlgit" for this checkout, "mlgit@REV" for the older one
    argv: tuple[str, ...]
    root: Path | None  # None: whatever `mlgit` the environment already imports

    def command(self, *args: str) -> list[str]:
        return [*self.argv, *args]

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        if self.root is not None:
            # replaces, not prepends: a PYTHONPATH pointing at another checkout would win
            env["PYTHONPATH"] = str(self.root)
        return env


def installed(script: str) -> Version:
    """The `mlgit` console script, as each benchmark ran it before `--against` existed."""
    return Version("mlgit", (script,), None)


def from_checkout(label: str, root: Path) -> Version:
    # -P: `python -m` would put the working directory first on sys.path, ahead of PYTHONPATH, so
    # run from this repository's root, both sides would import this checkout's mlgit
    return Version(label, (sys.executable, "-P", "-m", "mlgit"), root)


def git(*args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def compile_bytecode(root: Path) -> None:
    """Write the .pyc files up front: a fresh checkout would otherwise pay the compiler on its
    first timed run only (py_compile writes them even under PYTHONDONTWRITEBYTECODE)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(root / "mlgit")],
        check=True,
        capture_output=True,
    )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through `finally`, which removes the worktree


@contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """A detached worktree of `rev` in a temporary directory, removed on the way out."""
    known = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if known.returncode != 0:
        raise SystemExit(f"--against {rev}: not a commit of {ROOT}; try a hash from `git log`")
    base = Path(tempfile.mkdtemp(prefix="mlgit-bench-against-"))
    path = base / "mlgit"
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        git("worktree", "add", "--detach", str(path), rev)
        yield path
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "prune"], capture_output=True, check=False
        )
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def compared(against: str | None, script: str) -> Iterator[list[Version]]:
    """[this mlgit] without `against`; [this checkout, the checkout of `against`] with it.

    `script` is the console script a benchmark used so far, kept for runs without `--against`.
    """
    if against is None:
        yield [installed(script)]
        return
    with checkout(against) as old:
        versions = [from_checkout("mlgit", ROOT), from_checkout(f"mlgit@{against}", old)]
        for version in versions:
            assert version.root is not None
            compile_bytecode(version.root)
            imports_its_checkout(version)
        yield versions


def imports_its_checkout(version: Version) -> None:
    """Stop before timing anything if a side would import another checkout's mlgit."""
    probe = [sys.executable, "-P", "-c", "import mlgit; print(mlgit.__file__)"]
    found = subprocess.run(
        probe, env=version.env(), capture_output=True, text=True, check=True
    ).stdout.strip()
    if version.root is not None and not Path(found).is_relative_to(version.root):
        raise SystemExit(f"{version.label} imports {found}, not {version.root}")


def ratio(new: float, old: float) -> str:
    """new/old as `0.98x`; below 1 the current code is faster."""
    if old in (0.0, float("inf")) or new == float("inf"):
        return "-"
    return f"{new / old:.2f}x"
