"""`mlgit reproduce MODEL@vX.Y.Z` (or `MODEL#STAGE`): can we still build what we shipped?

In a temporary `git worktree` at the version's commit (sharing the project's DVC cache and
remotes): `dvc pull` of the input data, `dvc repro --force`, then the metrics file compared
with the metrics the version's tag recorded. The verdict becomes a git note on the commit
(refs/notes/mlgit); the user's work tree is never touched."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import git

    from mlgit.config import Config
    from mlgit.models.registry.state import ArtifactState, VersionInfo
    from mlgit.models.reproduction import Verdict
    from mlgit.report import Report

DEFAULT_TOLERANCE = 1e-6


def parse_target(target: str, stage: str | None) -> tuple[str, str | None, str | None]:
    """(model, version, stage) from `MODEL@vX.Y.Z`, `MODEL#STAGE` or `MODEL` + --stage."""
    from mlgit.models.registry.tags import validate_artifact, validate_version

    model, version, named_stage = target, None, None
    if "@" in target:
        model, _, version = target.partition("@")
        validate_version(version)
    elif "#" in target:
        model, _, named_stage = target.partition("#")
    validate_artifact(model)
    if stage is not None and (version or named_stage):
        raise MlgitError(f"{target!r} already names a version or stage; drop --stage {stage}")
    return model, version, named_stage or stage


def reproduce(
    target: str, stage: str | None = None, tolerance: float = DEFAULT_TOLERANCE
) -> Report:
    from mlgit.commands.registry import open_project
    from mlgit.models.registry.state import read_state
    from mlgit.report.reproduce import as_report

    if not tolerance >= 0:
        raise MlgitError(f"--tolerance {tolerance}: give a number >= 0")
    name, version, stage = parse_target(target, stage)
    repo, cfg = open_project()
    art = read_state(repo, messages=True).artifact(name)
    info = _version(cfg, art, version, stage)
    tag, recorded = _recorded(art, info)
    metrics_file = str(recorded.get("metrics_file") or _metrics_file(repo, cfg, name, info.commit))
    per_metric = {**_tolerances_at(repo, name, info.commit)}
    if name in cfg.models:
        per_metric.update(cfg.models[name].reproduce_tolerance)
    verdict = rebuild(
        name, repo, cfg.root, info, tag, recorded["metrics"], metrics_file, tolerance, per_metric
    )
    _write_note(repo, verdict)
    return as_report(verdict)


def _version(
    cfg: Config, art: ArtifactState, version: str | None, stage: str | None
) -> VersionInfo:
    if stage is not None:
        if stage not in cfg.stages:
            from mlgit.documents import did_you_mean

            raise MlgitError(
                f"unknown stage {stage!r}{did_you_mean(stage, list(cfg.stages))} "
                f"(stages in {cfg.file.name}: {', '.join(cfg.stages)})"
            )
        holder = art.stage_holder(stage)
        if holder is None:
            raise MlgitError(f"{art.name}: no version is in {stage}; name one as {art.name}@vX.Y.Z")
        return holder
    info = art.version(version) if version else art.latest
    if info is None or not info.registered:
        known = ", ".join(v.version for v in art.versions if v.registered) or "none"
        what = f"{art.name}@{version}" if version else f"a version of {art.name}"
        raise MlgitError(
            f"no tag registers {what} (versions: {known}); list them with `mlgit registry`"
        )
    return info


def _recorded(art: ArtifactState, info: VersionInfo) -> tuple[str, dict]:
    """(tag, provenance) of the version's registration, else of a later event of it that
    recorded metrics (promote writes them too)."""
    events = [e for e in art.events if e.version == info.version]
    events.sort(key=lambda e: e.tag != info.tag)  # the registration first
    for event in events:
        prov = event.provenance
        if prov and isinstance(prov.get("metrics"), dict):
            return event.tag, prov
    tag = info.tag or (events[0].tag if events else f"{art.name}@{info.version}")
    raise MlgitError(
        f"tag {tag!r} records no provenance metrics (it was not made by mlgit), so there is "
        f"nothing to compare a rebuild with; register the version with `mlgit register "
        f"{art.name}` to record them"
    )


def _model_at(repo: git.Repo, commit: str) -> dict:
    """The raw mlgit.yaml at `commit` ({} when it has none or it does not parse)."""
    from mlgit.documents import load_yaml_text
    from mlgit.repo.git import read_file_at

    text = read_file_at(repo, commit, "mlgit.yaml")
    if text is None:
        return {}
    try:
        data = load_yaml_text(text.decode("utf-8", "replace"), f"mlgit.yaml@{commit[:12]}")
    except MlgitError:
        return {}
    return data if isinstance(data, dict) else {}


def _entry_at(repo: git.Repo, name: str, commit: str) -> dict:
    """The model's entry in the mlgit.yaml at `commit` ({} when it has none of that shape: an old
    commit's file was never checked against today's schema)."""
    models = _model_at(repo, commit).get("models")
    entry = models.get(name) if isinstance(models, dict) else None
    return entry if isinstance(entry, dict) else {}


def _metrics_file(repo: git.Repo, cfg: Config, name: str, commit: str) -> str:
    path = _entry_at(repo, name, commit).get("metrics")
    if not path and name in cfg.models:
        path = cfg.models[name].metrics
    if not path:
        raise MlgitError(
            f"mlgit.yaml at {commit[:12]}: models.{name}.metrics is not set, so the rebuilt "
            "metrics cannot be found; name the model's metrics file"
        )
    return str(path)


def _tolerances_at(repo: git.Repo, name: str, commit: str) -> dict[str, float]:
    import math

    settings = _entry_at(repo, name, commit).get("reproduce")
    found = settings.get("tolerance") if isinstance(settings, dict) else None
    if not isinstance(found, dict):
        return {}
    tolerances = {}
    for key, value in found.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value) if abs(value) < 1e300 else math.inf  # an int beyond float
            if number >= 0:  # NaN and negative tolerances: the default applies
                tolerances[str(key)] = number
    return tolerances


def rebuild(
    name: str,
    repo: git.Repo,
    root: Path,
    info: VersionInfo,
    tag: str,
    recorded: dict,
    metrics_file: str,
    tolerance: float,
    per_metric: dict[str, float],
) -> Verdict:
    """Build the version in a temporary work tree and compare; the work tree is removed."""
    import tempfile
    from datetime import UTC, datetime

    from mlgit.models import metrics, reproduction
    from mlgit.repo import dvc
    from mlgit.repo.git import add_worktree, remove_worktree

    rebuilt: dict | None = None
    error: str | None = None
    with tempfile.TemporaryDirectory(prefix="mlgit-reproduce-") as tmp:
        tree = Path(tmp) / "work"
        add_worktree(repo, tree, info.commit)
        try:
            if not (tree / "dvc.yaml").is_file():
                raise MlgitError(
                    f"{tag}: no dvc.yaml at {info.commit[:12]}, so there is no pipeline to run; "
                    "reproduce needs the stages that wrote the metrics (`dvc stage add`)"
                )
            _check_inside(tree, tag, metrics_file)
            dvc.share_cache(tree, root)
            dvc.pull_inputs(tree, _dvc_files(tree))
            proc = dvc.repro_forced(tree)
            if proc.returncode != 0:
                lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines()]
                lines = [ln for ln in lines if ln]
                why = next((ln for ln in lines if ln.startswith("ERROR")), "")
                error = f"`dvc repro` failed: {why or (lines[-1] if lines else 'no output')}"
            else:
                _check_inside(tree, tag, metrics_file)  # the pipeline may have made a link
                rebuilt = metrics.read(None, metrics_file, root=tree)
        finally:
            remove_worktree(repo, tree)
    checks = reproduction.compare(recorded, rebuilt, tolerance, per_metric)
    return reproduction.Verdict(
        artifact=name,
        version=info.version,
        tag=tag,
        commit=info.commit,
        metrics_file=metrics_file,
        reproduced=error is None and all(c.ok for c in checks),
        checks=checks,
        environment=reproduction.environment(),
        checked_at=datetime.now(UTC).isoformat(timespec="seconds"),
        error=error,
    )


def _check_inside(tree: Path, tag: str, metrics_file: str) -> None:
    """The metrics file (named by the tag's message or the version's mlgit.yaml, content anyone
    who pushes a tag or a commit controls) must be a file of the version, not one elsewhere on
    this machine whose values would go into the verdict and its note."""
    from mlgit.config import inside
    from mlgit.escape import printable

    if Path(metrics_file).is_absolute() or not inside(tree, metrics_file):
        raise MlgitError(
            f"{tag}: metrics file {printable(metrics_file, newlines=False)!r} leaves the "
            "repository (after resolving links); reproduce reads only the version's own files: "
            "fix the path in the tag's provenance or in mlgit.yaml"
        )


def _dvc_files(tree: Path) -> list[str]:
    """The `.dvc` files (the input data) of the checked-out version."""
    return sorted(
        p.relative_to(tree).as_posix()
        for p in tree.rglob("*.dvc")
        if p.is_file() and not {".git", ".dvc"} & set(p.relative_to(tree).parts[:-1])
    )


def _write_note(repo: git.Repo, verdict: Verdict) -> None:
    from mlgit.models.reproduction import NOTES_REF, merged_note
    from mlgit.repo.git import add_note, show_note

    existing = show_note(repo, NOTES_REF, verdict.commit)
    add_note(repo, NOTES_REF, verdict.commit, merged_note(existing, verdict))
