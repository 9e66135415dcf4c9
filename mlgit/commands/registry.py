"""The registry commands: `mlgit register`, `promote`, `rollback`, `deprecate`, `unassign`
(each a `RegistryChange`) and `mlgit registry` (a `Report` of versions and stages).

Names are checked before the project is opened, so a typo fails fast and says so; the
operations in `mlgit.models.registry.operations` check them again for other callers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from pathlib import Path

    import git

    from mlgit.config import Config
    from mlgit.models.registry.operations import RegistryChange
    from mlgit.models.registry.state import RegistryState
    from mlgit.report import Report
    from mlgit.report.registry import Reproductions


def open_project() -> tuple[git.Repo, Config]:
    """The repository and the mlgit.yaml of the project around the working directory."""
    from mlgit import config
    from mlgit.repo.git import open_repo

    cfg = config.load()
    return open_repo(cfg.root), cfg


def register(
    model: str,
    version: str | None = None,
    bump: str | None = None,
    rev: str = "HEAD",
    push: str | None = None,
) -> RegistryChange:
    from mlgit.models.registry import operations
    from mlgit.models.registry.tags import validate_artifact, validate_version

    if version and bump:
        raise MlgitError("--version and --bump: give one of them")
    validate_artifact(model)
    if version is not None:
        validate_version(version)
    repo, cfg = open_project()
    return operations.register(repo, cfg, model, version, bump, rev, push)


def promote(
    model: str,
    stage: str,
    version: str | None = None,
    force: bool = False,
    reason: str | None = None,
    push: str | None = None,
) -> RegistryChange:
    from mlgit.models.registry import operations
    from mlgit.models.registry.tags import validate_artifact, validate_version

    operations.require_reason(force, reason)
    validate_artifact(model)
    if version is not None:
        validate_version(version)
    repo, cfg = open_project()
    return operations.promote(repo, cfg, model, stage, version, force, reason, push)


def rollback(
    model: str,
    stage: str,
    to: str | None = None,
    reason: str | None = None,
    push: str | None = None,
) -> RegistryChange:
    from mlgit.models.registry import operations
    from mlgit.models.registry.tags import validate_artifact, validate_version

    validate_artifact(model)
    if to is not None:
        validate_version(to)
    repo, cfg = open_project()
    return operations.rollback(repo, cfg, model, stage, to, reason, push)


def deprecate(model: str, reason: str | None = None, push: str | None = None) -> RegistryChange:
    from mlgit.models.registry import operations
    from mlgit.models.registry.tags import validate_artifact

    validate_artifact(model)
    repo, cfg = open_project()
    return operations.deprecate(repo, cfg, model, reason, push)


def unassign(
    model: str, stage: str, reason: str | None = None, push: str | None = None
) -> RegistryChange:
    from mlgit.models.registry import operations
    from mlgit.models.registry.tags import validate_artifact

    validate_artifact(model)
    repo, cfg = open_project()
    return operations.unassign(repo, cfg, model, stage, reason, push)


def push_failure(change: RegistryChange) -> MlgitError | None:
    """The error (exit 2) for a change whose push failed: the tags exist locally, the
    registry is consistent, and the message says how to retry."""
    if change.push_error is None:
        return None
    return MlgitError(
        f"pushing to {change.remote!r} failed ({change.push_error}); the tags exist locally and "
        f"the registry is consistent; retry with: {change.retry_push()}"
    )


def show(model: str | None = None, history: bool = False) -> Report:
    """Models, versions and stages from the tags (with `history`, every event). Reads the tags
    with `git for-each-ref` only: no GitPython, no validated mlgit.yaml (a faster start)."""
    import os

    from mlgit.config import declared
    from mlgit.models.registry.state import read_state
    from mlgit.models.registry.tags import validate_artifact
    from mlgit.repo.git import find_root, is_shallow, shallow_message
    from mlgit.report.registry import state_report

    if model is not None:
        validate_artifact(model)
    root = find_root()
    if root is None:
        raise MlgitError(f"{os.getcwd()} is not inside a git repository; run `mlgit init` first")
    state = read_state(root, messages=history)
    stages, models = declared(root)
    if model is not None and model not in state.artifacts and model not in models:
        from mlgit.documents import did_you_mean

        known = sorted(set(models) | set(state.artifacts))
        raise MlgitError(
            f"no model named {model!r} in mlgit.yaml or in any registry tag"
            f"{did_you_mean(model, known)} (models: {', '.join(known) or 'none'})"
        )
    notes = [shallow_message(root)] if is_shallow(root) else []
    found = _reproductions(root, state, model) if history else {}
    return state_report(state, model, history, stages, notes, found)


def _reproductions(root: Path, state: RegistryState, model: str | None) -> Reproductions:
    """The `mlgit reproduce` verdicts in refs/notes/mlgit on the versions' commits."""
    from mlgit.models.reproduction import NOTES_REF, verdicts_in
    from mlgit.repo.git import noted_commits, show_note

    noted = noted_commits(root, NOTES_REF)
    found: Reproductions = {}
    for name, art in state.artifacts.items():
        if model is not None and name != model:
            continue
        for v in art.versions:
            if v.commit not in noted:
                continue
            for verdict in verdicts_in(show_note(root, NOTES_REF, v.commit)).values():
                if verdict.get("artifact") == name and verdict.get("version") == v.version:
                    found[(name, v.version)] = verdict
    return found
