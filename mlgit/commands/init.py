"""`mlgit init`: make a directory an mlgit project (git, DVC, mlgit.yaml, pre-commit config)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlgit.config import CONFIG_FILE
from mlgit.errors import MlgitError
from mlgit.fs import write_atomic

PRE_COMMIT_FILE = ".pre-commit-config.yaml"


@dataclass(frozen=True)
class InitResult:
    root: Path
    created: tuple[str, ...]  # what this run made: "git repository", "mlgit.yaml", ...
    kept: tuple[str, ...]  # what was there already and left alone


def config_text(providers: tuple[str, ...]) -> str:
    return f"""\
# mlgit configuration. Check it with `mlgit check-config`.
version: 1

# Datasets: DVC-tracked files or directories, each checked against its schema by
# `mlgit validate`. Add one with `mlgit track data/train.parquet`.
datasets: {{}}

# Models: where each model and its metrics are, and the gates a version must pass before
# `mlgit promote` tags it. mlgit never loads the model file.
#   churn:
#     path: models/churn.pkl
#     metrics: metrics.json            # DVC metrics file written by your pipeline
#     dataset: train                   # the dataset it is trained on (for drift)
#     gates:
#       - {{metric: roc_auc, min: 0.80}}
#       - {{metric: roc_auc, max_drop: 0.01, baseline: prod}}
#       - {{metric: slices.sex.accuracy, max_gap: 0.05}}   # fairness gap between slices
models: {{}}

# Stages a model version moves through, as GTO-compatible git tags (MODEL#STAGE#N).
stages: [staging, prod]
promotion:
  requires:
    prod: [staging]                    # a version must have been in staging before prod

# Drift thresholds for `mlgit drift` and `mlgit monitor`.
drift:
  psi: {{warn: 0.1, fail: 0.2}}
  js: {{fail: 0.1}}
  wasserstein: {{fail: 0.1}}
  share: 0.5                           # the dataset drifts when this share of columns does

# CI (pull requests), CT (retraining) and CD (deploy on promotion) pipelines.
ci:
  providers: [{", ".join(providers)}]
  python: "3.11"
  schedule: "0 3 * * 1"                # retraining check, cron in UTC
  train: dvc repro
  # deploy: ./deploy.sh {{model}} {{version}} {{stage}}
"""


PRE_COMMIT_TEXT = """\
# pre-commit hooks from mlgit. Install them once with `pre-commit install`.
# They run the mlgit installed in your environment (language: system).
repos:
  - repo: local
    hooks:
      - id: mlgit-check-config
        name: mlgit check-config
        entry: mlgit check-config
        language: system
        files: ^(mlgit\\.yaml|schemas/.*\\.(ya?ml|json))$
        pass_filenames: false
      - id: mlgit-validate
        name: mlgit validate (datasets changed since HEAD)
        entry: mlgit validate --changed HEAD
        language: system
        files: (\\.dvc|(^|/)dvc\\.lock|^mlgit\\.yaml|^schemas/.*\\.(ya?ml|json))$
        pass_filenames: false
      - id: mlgit-no-large-data
        name: mlgit no large data (track data and models with DVC)
        entry: mlgit check-large-files
        language: system
        types: [file]
        stages: [pre-commit, pre-merge-commit, pre-push, manual]
      - id: mlgit-ci-check
        name: mlgit ci generate --check (generated pipelines up to date)
        entry: mlgit ci generate --check
        language: system
        files: ^mlgit\\.yaml$
        pass_filenames: false
"""


PROVIDERS = ("github", "gitlab")


def parse_providers(text: str) -> tuple[str, ...]:
    """`--ci github,gitlab` as a tuple; an unknown or empty list is an MlgitError."""
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    if not chosen or any(p not in PROVIDERS for p in chosen):
        raise MlgitError(f"--ci {text!r}: choose github, gitlab or github,gitlab")
    return chosen


def describe(result: InitResult, force: bool) -> str:
    """What init did, and the next commands, as printed."""
    lines = [f"created  {item}" for item in result.created]
    keep = "" if force else "; --force overwrites files"
    lines += [f"kept     {item} (already there{keep})" for item in result.kept]
    if not result.created:
        lines.append("nothing to do: this is already an mlgit project")
    lines.append(
        "\nnext:\n  mlgit track data/train.parquet   # version a dataset with DVC\n"
        "  mlgit validate                   # check every dataset against its schema\n"
        "  pre-commit install               # run mlgit's hooks on every commit"
    )
    return "\n".join(lines)


def init(directory: Path, force: bool, providers: tuple[str, ...] = ()) -> InitResult:
    """git, DVC, mlgit.yaml and the pre-commit config; with `providers`, also their pipelines
    (`mlgit ci generate`). What exists is kept unless `force`."""
    from mlgit.repo import dvc, git

    directory = directory.resolve()
    if not directory.is_dir():
        raise MlgitError(f"{directory}: not a directory; create it or run mlgit init elsewhere")
    if not os.access(directory, os.W_OK):
        raise MlgitError(f"{directory}: not writable; run mlgit init in a directory you can write")
    created: list[str] = []
    kept: list[str] = []
    root = git.find_root(directory)
    if root is None:
        git._git_module()  # fail before touching anything when git is missing
        dvc._dvc_executable()
        git.init(directory)
        root = directory
        created.append("git repository")
    else:
        kept.append("git repository")
    if dvc.is_initialized(root):
        kept.append("DVC")
    else:
        dvc.init(root)
        created.append("DVC")
    files = {CONFIG_FILE: config_text(providers or ("github",)), PRE_COMMIT_FILE: PRE_COMMIT_TEXT}
    written = []
    for name, text in files.items():
        path = root / name
        if path.exists() and not force:
            kept.append(name)
            continue
        write_atomic(path, text)
        written.append(path)
        created.append(name)
    if providers:
        written += _pipelines(root, providers, force, created, kept)
    if written:
        git.stage(git.open_repo(root), written)
    return InitResult(root=root, created=tuple(created), kept=tuple(kept))


def _pipelines(
    root: Path, providers: tuple[str, ...], force: bool, created: list[str], kept: list[str]
) -> list[Path]:
    """The pipelines of mlgit.yaml; a file someone wrote by hand is kept (and said so)."""
    from mlgit.commands.ci import generate

    try:
        result = generate(providers, force=force, config_file=root / CONFIG_FILE)
    except MlgitError as exc:
        kept.append(f"pipelines: {exc}")
        return []
    written = [f for f in result.files if f.state == "written"]
    created += [f.path for f in written]
    kept += [f.path for f in result.files if f.state == "unchanged"]
    return [root / f.path for f in written]
