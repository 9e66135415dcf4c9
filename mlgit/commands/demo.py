"""`mlgit demo`: the bundled churn example end to end, in a fresh git + DVC repository.

Every step is the real CLI in a subprocess, exactly as a user would type it, so the demo
shows (and checks) the user's day: init, track, validate, train, gate, promote, drift, monitor.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlgit.errors import MlgitError

EXAMPLE_FILES = (
    "make_data.py",
    "train.py",
    "dvc.yaml",
    "mlgit.yaml",
    "README.md",
    ".github/workflows/mlgit-ci.yml",  # the pipelines `mlgit ci generate` wrote from mlgit.yaml
    ".github/workflows/mlgit-ct.yml",
    ".github/workflows/mlgit-cd.yml",
    ".github/workflows/mlgit-monitor.yml",
    ".gitlab-ci.yml",
)


@dataclass(frozen=True)
class Step:
    why: str
    command: tuple[str, ...]
    expect: tuple[int, ...] = (0,)  # exit codes that are the right answer here


def steps(remote: Path) -> list[Step]:
    mlgit = ("mlgit",)
    return [
        Step("a fresh repository: git, DVC, mlgit.yaml, pre-commit hooks", ("git", "init", "-q")),
        Step("", (*mlgit, "init", "--ci", "github,gitlab")),
        Step("the example's config, data and training pipeline", ("copy-example",)),
        Step("", (sys.executable, "make_data.py")),
        Step(
            "a DVC remote (a local directory here)",
            ("dvc", "remote", "add", "-d", "demo", str(remote)),
        ),
        Step(
            "version the training data with DVC and infer its schema",
            (*mlgit, "track", "data/train.parquet", "--name", "train"),
        ),
        Step("", (*mlgit, "check-config")),
        Step(
            "the CI/CT/CD pipelines committed with the example match mlgit.yaml",
            (*mlgit, "ci", "generate", "--check"),
        ),
        Step("check the data against its schema", (*mlgit, "validate")),
        Step("the reference profile for drift detection", (*mlgit, "profile", "train")),
        Step(
            "train and evaluate (dvc.yaml runs train.py and mlgit evaluate)",
            ("dvc", "repro", "--quiet"),
        ),
        Step("", ("git", "add", "-A")),
        Step("", ("git", "commit", "-q", "-m", "Churn model v1")),
        Step("", ("dvc", "push", "--quiet")),
        Step("metric gates: thresholds and fairness gap", (*mlgit, "gate", "churn")),
        Step(
            "promote: gates pass, so a GTO-compatible tag is made",
            (*mlgit, "promote", "churn", "--to", "staging"),
        ),
        Step("", (*mlgit, "promote", "churn", "--to", "prod")),
        Step("the registry, read back from the tags", (*mlgit, "registry")),
        Step(
            "production data: prices rose 20% -> drift (exit 1 is the right answer)",
            (*mlgit, "drift", "train", "--data", "data/production.parquet", "--plots", "plots"),
            (1,),
        ),
        Step(
            "what the scheduled monitor job decides",
            (*mlgit, "monitor", "--data", "data/production.parquet", "--model", "churn"),
            (1,),
        ),
    ]


def example_dir() -> Path:
    """The bundled example: inside the wheel, or beside the package in a source checkout."""
    here = Path(__file__).resolve().parent.parent  # the mlgit package
    for candidate in (here / "examples" / "churn", here.parent / "examples" / "churn"):
        if (candidate / "mlgit.yaml").exists():
            return candidate
    raise MlgitError(f"the bundled example is missing from {here}; reinstall mlgit")


def prepare(directory: Path | None) -> tuple[Path, Path]:
    """The (empty) project directory and a directory for the DVC remote beside it."""
    if directory is None:
        base = Path(tempfile.mkdtemp(prefix="mlgit-demo-"))
        directory = base / "churn"
    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()):
        raise MlgitError(f"{directory}: not empty; give `mlgit demo` a new or empty directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MlgitError(f"{directory}: cannot create it ({exc.strerror})") from None
    return directory, directory.parent / f"{directory.name}-dvc-remote"


def run(directory: Path | None, echo: Callable[[str], None]) -> bool:
    """Run every step; True when each ended with the exit code it should."""
    project, remote = prepare(directory)
    remote.mkdir(exist_ok=True)
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    env.setdefault("GIT_AUTHOR_NAME", "mlgit demo")
    env.setdefault("GIT_AUTHOR_EMAIL", "demo@mlgit.invalid")
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    echo(f"mlgit demo in {project}\n")
    for step in steps(remote):
        if step.why:
            echo(f"\n# {step.why}")
        echo("$ " + " ".join(_shown(step.command)))
        if step.command == ("copy-example",):
            for name in EXAMPLE_FILES:
                (project / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(example_dir() / name, project / name)
            continue
        command = list(step.command)
        if command[0] == "mlgit":
            command = [sys.executable, "-m", "mlgit", *command[1:]]
        proc = subprocess.run(command, cwd=project, env=env, text=True, capture_output=True)
        output = (proc.stdout + proc.stderr).rstrip()
        if output:
            echo(output)
        if proc.returncode not in step.expect:
            echo(f"\nmlgit demo: step failed with exit {proc.returncode}: {' '.join(command)}")
            return False
    echo(f"\ndone: explore {project} (git tag -l, mlgit registry, plots/, metrics.json)")
    return True


def _shown(command: tuple[str, ...]) -> tuple[str, ...]:
    if command == ("copy-example",):
        return ("cp", "-r", "examples/churn/.", ".")
    if command[0] == sys.executable:
        return ("python", *command[1:])
    return command
