"""What tests share: the one CLI runner, JSON checked against its bundled schema, data writers,
real commands (`sh`), and the `Project` a test works in. Fixtures live in conftest.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from jsonschema import Draft202012Validator

from mlgit.cli import cli
from mlgit.documents import bundled_schema

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test User",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test User",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "DVC_NO_ANALYTICS": "1",
    "GIT_CONFIG_NOSYSTEM": "1",
}


# ---------------------------------------------------------------- running things
def run_cli(
    cwd: Path | None,
    *args: str,
    env: dict[str, str] | None = None,
    catch_exceptions: bool = False,
) -> Result:
    """The one way tests run the real CLI: in-process (click's CliRunner), in `cwd` if given.

    `catch_exceptions=False` lets a bug surface as the test's own traceback instead of an
    exit code; mlgit's error handler still turns every exception into its exit code first."""
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=catch_exceptions)
    finally:
        os.chdir(old)


def sh(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a real command (git, dvc, ...) in `cwd`."""
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


# ---------------------------------------------------------------- JSON outputs
def conforms(data: Any, schema_file: str) -> Any:
    """`data` checked against mlgit/schemas/`schema_file` (the schema itself checked too)."""
    schema = bundled_schema(schema_file)
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(data)
    return data


def json_output(text: str, schema_file: str) -> Any:
    """A command's JSON output, parsed and checked against its bundled schema."""
    return conforms(json.loads(text), schema_file)


# ---------------------------------------------------------------- data
def write_parquet(table: pa.Table, path: Path, **kwargs: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **kwargs)
    return path


def read_table(path: Path) -> pa.Table:
    return pq.read_table(path)


def drifting_table(
    rows: int = 20_000,
    seed: int = 0,
    scale: float = 1.0,
    mix: Sequence[float] = (0.4, 0.3, 0.2, 0.1),
) -> pa.Table:
    """Four columns whose distributions `seed`, `scale` and `mix` move in known ways."""
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "amount": rng.normal(100, 15, rows) * scale,
            "age": pa.array(rng.integers(18, 90, rows)),
            "city": pa.array(rng.choice(["paris", "rome", "oslo", "lima"], rows, p=list(mix))),
            "active": pa.array(rng.random(rows) < 0.5),
        }
    )


def with_blocks(config: str, blocks: str) -> str:
    """mlgit.yaml text with the top-level keys of `blocks` replaced by them (a key given twice
    is an error, so appending `drift:` to the file `mlgit init` wrote would not do)."""
    for key in re.findall(r"^(\w+):", blocks, re.MULTILINE):
        config = re.sub(rf"^{key}:.*?(?=^\S|\Z)", "", config, flags=re.MULTILINE | re.DOTALL)
    return config + blocks


# ---------------------------------------------------------------- a trained model
MODEL_CONFIG = """\
version: 1
datasets:
  train:
    path: data/train.csv
models:
  churn:
    path: models/churn.pkl
    metrics: metrics.json
    dataset: train
    gates:
      - {metric: roc_auc, min: 0.80}
      - {metric: roc_auc, max_drop: 0.02}
stages: [staging, prod]
promotion:
  requires:
    prod: [staging]
"""


def metrics(roc_auc: float) -> str:
    return json.dumps({"roc_auc": roc_auc, "slices": {"sex": {"accuracy": {"F": 0.8, "M": 0.82}}}})


def setup_model(project: Project, config: str = MODEL_CONFIG, roc_auc: float = 0.85) -> Project:
    """A trained model: data and model tracked by DVC and pushed, metrics committed."""
    project.write("mlgit.yaml", config)
    project.write("data/train.csv", "x,y\n1,0\n2,1\n")
    project.write("models/churn.pkl", "model-1")
    project.sh("dvc", "add", "-q", "data/train.csv", "models/churn.pkl")
    project.sh("dvc", "push", "-q")
    project.write("metrics.json", metrics(roc_auc))
    project.commit("train churn")
    return project


def retrain(project: Project, roc_auc: float, model: str | None = None) -> str:
    """A new commit with new metrics; with `model`, new model bytes tracked and pushed too."""
    if model is not None:
        project.write("models/churn.pkl", model)
        project.sh("dvc", "add", "-q", "models/churn.pkl")
        project.sh("dvc", "push", "-q")
    project.write("metrics.json", metrics(roc_auc))
    return project.commit(f"retrain {roc_auc}")


# ---------------------------------------------------------------- where a test works
@dataclass
class Workdir:
    """A directory holding mlgit.yaml: enough for commands that only read configuration."""

    root: Path

    def mlgit(self, *args: str) -> Result:
        """Run the real CLI in this directory."""
        return run_cli(self.root, *args)

    def configure(self, blocks: str) -> None:
        """Set top-level blocks of mlgit.yaml (replacing those already there)."""
        config = self.root / "mlgit.yaml"
        config.write_text(with_blocks(config.read_text(), blocks), encoding="utf-8")

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


@dataclass
class Project(Workdir):
    """A real repository in tmp_path with git, DVC, a local DVC remote and mlgit.yaml."""

    remote: Path

    def sh(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return sh(self.root, *args, check=check)

    def commit(self, message: str = "change") -> str:
        self.sh("git", "add", "-A")
        self.sh("git", "commit", "-q", "-m", message)
        return self.sh("git", "rev-parse", "HEAD").stdout.strip()


def remote_config(remote: Path) -> str:
    """The text `dvc remote add -d local REMOTE` writes into an empty DVC config file (DVC
    3.x: configobj with a quoted section name and four-space indents)."""
    return f"[core]\n    remote = local\n['remote \"local\"']\n    url = {remote}\n"


def set_remote(config: Path, remote: Path) -> None:
    """Point `config` (.dvc/config or .dvc/config.local) at `remote`, as `dvc remote add -d
    local` would, without paying for a dvc process."""
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    if text.strip():
        raise AssertionError(f"{config} is not empty; extend remote_config() for:\n{text}")
    config.write_text(remote_config(remote), encoding="utf-8")


class Templates:
    """Repositories built once per session and copied per test: `git init` + `mlgit init`
    (which runs `dvc init`) cost about a second, a copy a few milliseconds.

    Built lazily inside the first test that asks, so that test's environment (identity,
    HOME) applies, as it did when every test built its own."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._built: dict[str, Path] = {}

    def base(self) -> Path:
        """`mlgit init` in a fresh git repository: no remote, no commit yet."""
        if "base" not in self._built:
            root = self._factory.mktemp("template-base") / "repo"
            root.mkdir()
            sh(root, "git", "init", "-q", "-b", "main")
            result = run_cli(root, "init")
            assert result.exit_code == 0, result.output
            self._built["base"] = root
        return self._built["base"]

    def project(self, tmp_path: Path) -> Project:
        """What the `project` fixture always gave: `mlgit init`, a local DVC remote in the
        committed .dvc/config, and a first commit."""
        root, remote = tmp_path / "repo", tmp_path / "dvc-remote"
        shutil.copytree(self.base(), root, symlinks=True)
        remote.mkdir()
        set_remote(root / ".dvc" / "config", remote)
        proj = Project(root=root, remote=remote)
        proj.commit("init")
        return proj

    def derived(self, name: str, build: Callable[[Project], object], tmp_path: Path) -> Project:
        """A copy of a project on which `build` ran once. Its remote sits in the uncommitted
        .dvc/config.local, so a copy points at its own remote without dirtying the tree."""
        if name not in self._built:
            base = self._factory.mktemp(f"template-{name}")
            root, remote = base / "repo", base / "dvc-remote"
            shutil.copytree(self.base(), root, symlinks=True)
            remote.mkdir()
            set_remote(root / ".dvc" / "config.local", remote)
            template = Project(root=root, remote=remote)
            template.commit("init")
            build(template)
            self._built[name] = base
        return copy_project(self._built[name], tmp_path)


def copy_project(template: Path, tmp_path: Path) -> Project:
    """A copy of `template` (repo + its own DVC remote) pointing at the copied remote."""
    root, remote = tmp_path / "repo", tmp_path / "dvc-remote"
    shutil.copytree(template / "repo", root, symlinks=True)
    shutil.copytree(template / "dvc-remote", remote)
    config = root / ".dvc" / "config.local"
    config.write_text(config.read_text().replace(str(template / "dvc-remote"), str(remote)))
    return Project(root=root, remote=remote)


# ---------------------------------------------------------------- mlgit.yaml variants for ci
ONE_MODEL = """\
version: 1
models:
  churn:
    path: models/churn.pkl
    metrics: metrics.json
    gates:
      - {metric: roc_auc, min: 0.7}
"""
TWO_MODELS = """\
version: 1
models:
  churn:
    metrics: metrics.json
  fraud-detector:
    metrics: fraud/metrics.json
stages: [dev, staging, prod]
monitor:
  model: churn
"""
TRICKY_DEPLOY = """./deploy.sh {model} {version} {stage} "Zoë: #1" '$HOME' ${X:-y}"""
TRICKY_TEST = """pytest -k "not slow" && echo '$HOME: # done'"""
TRICKY_TRAIN = """python train.py --name "Zoë" --note 'a: b # c' $EXTRA"""
TRICKY_INSTALL = 'pip install "mlgit[dev]>=0.1" # pinned: later'
VARIANTS = {
    "one_model": ONE_MODEL
    + """\
ci:
  providers: [github, gitlab]
  schedule: "0 3 * * 1"
  deploy: ./deploy.sh {model} {version} {stage}
""",
    "two_models_three_stages": TWO_MODELS
    + """\
ci:
  providers: [github, gitlab]
  python: "3.12"
  schedule: "30 2 * * MON-FRI"
  monitor_schedule: "*/15 * * * *"
  monitor_data: data/production.parquet
  test: pytest -q
  deploy: ./deploy.sh {model} {version} {stage}
  promote_on_merge: dev
  runner: ubuntu-24.04
  image: registry.example.com/ml/python:3.12
  default_branch: trunk
  public_remote: true
  deploy_unverified: true
""",
    "github_only": ONE_MODEL + "ci:\n  providers: [github]\n  schedule: '0 4 1 * *'\n",
    "gitlab_only": ONE_MODEL + "ci:\n  providers: [gitlab]\n  schedule: '0 4 1 * *'\n",
    "no_schedule": ONE_MODEL + "ci:\n  providers: [github, gitlab]\n",
    "tricky_commands": ONE_MODEL
    + "ci:\n"
    + "  providers: [github, gitlab]\n"
    + f"  test: {json.dumps(TRICKY_TEST)}\n"
    + f"  train: {json.dumps(TRICKY_TRAIN)}\n"
    + f"  deploy: {json.dumps(TRICKY_DEPLOY)}\n"
    + f"  install: {json.dumps(TRICKY_INSTALL)}\n",
}


def make_repo(root: Path, config: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    (root / "mlgit.yaml").write_text(config, encoding="utf-8")
    return root
