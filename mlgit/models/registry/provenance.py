"""What a registry tag records and what it requires: provenance read at the version's commit
(metrics, dataset and model md5s), and a version ready to be tagged (a clean work tree, model
outputs committed to DVC and pushed to its remote)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import git

    from mlgit.config import Config, Model


def provenance(repo: git.Repo, config: Config, model: Model, commit: str) -> dict:
    """What a version is made of, read at its commit: metrics, dataset and model md5s."""
    from mlgit.models.metrics import read_or_none
    from mlgit.repo import dvc

    data: dict[str, Any] = {"artifact": model.name, "commit": commit}
    if model.metrics:
        data["metrics_file"] = model.metrics
        data["metrics"] = read_or_none(repo, model.metrics, commit)
    datasets = {}
    for name, ds in sorted(config.datasets.items()):
        record = dvc.tracked(repo, ds.path, rev=commit)
        if record is not None:
            datasets[name] = {"path": record.path, "md5": record.md5, "source": record.source}
    data["datasets"] = datasets
    if model.path:
        record = dvc.tracked(repo, model.path, rev=commit)
        data["model"] = {
            "path": model.path,
            "md5": record.md5 if record else None,
            "source": record.source if record else "git",
        }
    return data


def check_ready(repo: git.Repo, config: Config, model: Model, commit: str) -> None:
    """Refuse a dirty work tree, and model outputs DVC has not committed or pushed."""
    from mlgit.repo.git import changed_paths, head_commit, is_dirty, work_tree

    if is_dirty(repo):
        changed = changed_paths(repo)
        raise MlgitError(
            f"{work_tree(repo)}: the work tree has uncommitted changes "
            f"({', '.join(changed[:5])}{', ...' if len(changed) > 5 else ''}); "
            "commit or stash them first, so the tag points at what you tested"
        )
    if model.path and commit == head_commit(repo):
        _check_dvc_outputs(repo, config, model)


def _check_dvc_outputs(repo: git.Repo, config: Config, model: Model) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from mlgit.repo import dvc
    from mlgit.repo.git import is_tracked, work_tree

    assert model.path is not None  # check_ready calls this only for a model with a path
    root = work_tree(repo)
    record = dvc.tracked(repo, model.path)
    if record is None:
        if is_tracked(repo, root / model.path):
            return  # a small model kept in git: the clean work tree is enough
        raise MlgitError(
            f"{config.file}: models.{model.name}.path: {model.path} is tracked neither by DVC nor "
            f"by git; run `dvc add {model.path}` (or make it a dvc.yaml output), commit, `dvc push`"
        )
    if not dvc.has_remote(root):
        raise MlgitError(
            f"{model.path}: no DVC remote is configured, so the model cannot be pushed; run "
            "`dvc remote add -d NAME URL` and `dvc push`"
        )
    target = record.source if record.source != "dvc.lock" else model.path
    with ThreadPoolExecutor(2) as pool:
        local = pool.submit(dvc.run, root, "status", "--json", target)
        cloud = pool.submit(dvc.run, root, "status", "--cloud", "--json", target)
        local_out, cloud_out = local.result().stdout.strip(), cloud.result().stdout.strip()
    changes = _recorded_changes(json.loads(local_out) if local_out else {})
    if changes:
        raise MlgitError(
            f"{model.path}: changed since DVC recorded it ({target}: {', '.join(changes[:3])}); "
            f"run `dvc commit {target}` (or `dvc repro`), `git commit` and `dvc push` first"
        )
    unpushed = [
        p for p, s in (json.loads(cloud_out) if cloud_out else {}).items() if s != "deleted"
    ]
    if unpushed:
        raise MlgitError(
            f"{model.path}: not in the DVC remote yet; run `dvc push` first, so the "
            "tagged version can be pulled anywhere"
        )


# `dvc status` states that say only that data is not here (a fresh CI checkout pulls nothing),
# not that the work tree differs from what DVC recorded
_NOT_PULLED = ("deleted", "not in cache")


def _recorded_changes(status: dict) -> list[str]:
    """What `dvc status --json` says differs from the record: a modified output or dependency,
    a changed command; data that is merely absent (not pulled) is no change."""
    found: list[str] = []
    for entries in status.values():
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, str):
                found.append(entry)  # "changed command", "always changed"
                continue
            for files in (entry or {}).values():
                states = files.items() if isinstance(files, dict) else [(str(files), "changed")]
                found += [f"{path} {state}" for path, state in states if state not in _NOT_PULLED]
    return found
