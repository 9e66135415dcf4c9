"""The registry's operations: register, promote, rollback, unassign, deprecate. Each opens the
same way (`_begin`), plans its tags on the registry state it reads (`writes.write_tags` plans
again on a fresh state when another writer got there first) and returns a `RegistryChange`.
Only promotion judges: policy (`promotion.requires`) and the model's gates, against the
version in the stage (`_judge`)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mlgit.errors import MlgitError
from mlgit.models.registry.provenance import check_ready, provenance
from mlgit.models.registry.state import ArtifactState, VersionInfo, read_state
from mlgit.models.registry.tags import (
    ASSIGN,
    DEPRECATE,
    REGISTER,
    UNASSIGN,
    TagName,
    bump,
    format_tag,
    semver_key,
    validate_artifact,
    validate_stage,
    validate_version,
)
from mlgit.models.registry.writes import NewTag, push_tags, write_tags

if TYPE_CHECKING:
    import git

    from mlgit.config import Config, Model
    from mlgit.models.gates import GateReport


@dataclass(frozen=True)
class RegistryChange:
    action: str  # register | promote | rollback | deprecate | unassign
    artifact: str
    version: str | None = None
    stage: str | None = None
    commit: str | None = None
    previous: str | None = None  # the version the stage held before
    tags: tuple[str, ...] = ()  # what was created (empty when refused)
    refused: tuple[str, ...] = ()  # why nothing was written
    gates: GateReport | None = None
    forced: bool = False
    reason: str | None = None
    remote: str | None = None
    push_error: str | None = None
    version_tag: str | None = None  # MODEL@vX.Y.Z the new stage tags point at

    @property
    def ok(self) -> bool:
        return not self.refused

    @property
    def pushed(self) -> tuple[str, ...]:
        """The tags a push sends: the new ones, and the version tag they assign (maybe only
        local so far; without it a clone sees a stage on a commit with no version)."""
        if self.version_tag is None or self.version_tag in self.tags:
            return self.tags
        return (self.version_tag, *self.tags)

    def retry_push(self) -> str:
        quoted = " ".join(shlex.quote(f"refs/tags/{t}") for t in self.pushed)
        return f"git push {shlex.quote(self.remote or 'origin')} {quoted}"


def _begin(
    repo: git.Repo,
    config: Config,
    name: str,
    push: str | None,
    stage: str | None = None,
    version: str | None = None,
) -> Model:
    """The checks every operation opens with, before it reads the registry: valid names, a
    full history (a shallow clone's registry lacks tags: counters would restart), an
    identity to sign tags with, and the remote's tags when the change will be pushed there."""
    from mlgit.repo.git import fetch_tags, require_full_history, require_identity

    validate_artifact(name)
    model = config.model(name)
    if stage is not None:
        validate_stage(stage, config)
    if version is not None:
        validate_version(version)
    require_full_history(repo)
    require_identity(repo)
    if push:
        fetch_tags(repo, push)  # choose N after what other clones already pushed
    return model


def require_reason(force: bool, reason: str | None) -> None:
    if force and not (reason or "").strip():
        raise MlgitError("--force needs --reason TEXT: the reason is recorded in the tag")


def register(
    repo: git.Repo,
    config: Config,
    name: str,
    version: str | None = None,
    bump_part: str | None = None,
    rev: str = "HEAD",
    push: str | None = None,
) -> RegistryChange:
    from mlgit.repo.git import resolve_rev

    model = _begin(repo, config, name, push, version=version)
    commit = resolve_rev(repo, rev)
    check_ready(repo, config, model, commit)
    facts = provenance(repo, config, model, commit)
    chosen: list[str] = []

    def plan(state: ArtifactState) -> list[NewTag]:
        chosen[:] = [_new_version(state, commit, version, bump_part or "patch")]
        return [_registration(name, commit, chosen[0], facts)]

    tags, _ = write_tags(repo, name, plan)
    change = RegistryChange("register", name, version=chosen[0], commit=commit, tags=tuple(tags))
    return _push(repo, change, push)


def _registration(name: str, commit: str, version: str, facts: dict) -> NewTag:
    return NewTag(
        REGISTER,
        commit,
        f"mlgit: register {name} {version}",
        {**facts, "action": REGISTER, "version": version},
        version=version,
    )


def _new_version(state: ArtifactState, commit: str, version: str | None, part: str) -> str:
    at = state.version_at(commit)
    if at is not None:
        raise MlgitError(
            f"commit {commit[:10]} is already registered as {state.name} {at.version} "
            f"({at.tag}); promote that version, or commit a new model"
        )
    if version is None:
        latest = max(
            (v.version for v in state.versions if v.registered), key=semver_key, default=None
        )
        version = bump(latest, part)
    if state.version(version) is not None:
        raise MlgitError(
            f"{state.name} {version} is already registered; pick another version or --bump"
        )
    return version


def promote(
    repo: git.Repo,
    config: Config,
    name: str,
    stage: str,
    version: str | None = None,
    force: bool = False,
    reason: str | None = None,
    push: str | None = None,
) -> RegistryChange:
    """Gates against the version in `stage`, the promotion policy, then the assignment tag
    (registering HEAD's commit as the next patch version when it has none). When another
    writer changed the registry meanwhile, policy and gates are judged again on what it
    wrote, so a gate never passes against a stale baseline."""
    from mlgit.models import gates
    from mlgit.repo.git import resolve_rev

    require_reason(force, reason)
    model = _begin(repo, config, name, push, stage=stage, version=version)
    state = read_state(repo).artifact(name)
    if version is not None:
        info = state.version(version)
        if info is None or not info.active or not info.registered:
            known = ", ".join(v.version for v in state.versions if v.registered) or "none"
            raise MlgitError(
                f"{name} {version} is not registered (versions: {known}); "
                f"register it with `mlgit register {name} --version {version}`"
            )
        commit = info.commit
    else:
        commit = resolve_rev(repo, "HEAD")
    check_ready(repo, config, model, commit)
    verdict = _judge(repo, config, model, stage, commit, state)
    if verdict.refused and not force:
        return verdict.refusal(name, stage, commit)
    facts = provenance(repo, config, model, commit)
    judged = [verdict]
    picked: list[str] = []

    def plan(now: ArtifactState) -> list[NewTag]:
        if [e.tag for e in now.events] != [e.tag for e in state.events]:
            judged[0] = _judge(repo, config, model, stage, commit, now)
            if judged[0].refused and not force:
                raise _Refused(judged[0])
        report, refused = judged[0].gates, judged[0].refused
        facts["gates"] = [gates.gate_json(r, label=False) for r in report.results] if report else []
        facts.update(forced=force, reason=reason, overridden=list(refused) if force else [])
        tags = []
        current = now.version_at(commit)
        if current is None:
            new_version = _new_version(now, commit, None, "patch")
            tags.append(_registration(name, commit, new_version, facts))
        else:
            new_version = current.version
        picked[:] = [new_version]
        return tags + _reassign(now, stage, commit, new_version, facts, "promote")

    try:
        tags, planned = write_tags(repo, name, plan)
    except _Refused as refusal:
        return refusal.verdict.refusal(name, stage, commit)
    held = planned.stage_holder(stage)
    change = RegistryChange(
        "promote",
        name,
        version=picked[0],
        stage=stage,
        commit=commit,
        previous=held.version if held else None,
        tags=tuple(tags),
        gates=judged[0].gates,
        forced=force and bool(judged[0].refused),
        reason=reason,
        version_tag=format_tag(TagName(name, REGISTER, version=picked[0])),
    )
    return _push(repo, change, push)


@dataclass(frozen=True)
class _Verdict:
    """Policy and gates for putting the version at `commit` into a stage."""

    version: str | None  # None: the commit has no version yet (promote registers one)
    previous: str | None
    refused: tuple[str, ...]
    gates: GateReport | None

    def refusal(self, name: str, stage: str, commit: str) -> RegistryChange:
        return RegistryChange(
            "promote",
            name,
            version=self.version,
            stage=stage,
            commit=commit,
            previous=self.previous,
            refused=self.refused,
            gates=self.gates,
        )


class _Refused(Exception):
    def __init__(self, verdict: _Verdict) -> None:
        super().__init__("refused")
        self.verdict = verdict


def _judge(
    repo: git.Repo, config: Config, model: Model, stage: str, commit: str, state: ArtifactState
) -> _Verdict:
    from mlgit.models import gates

    info = state.version_at(commit)
    holder = state.stage_holder(stage)
    if info is not None and holder is not None and holder.version == info.version:
        raise MlgitError(f"{model.name} {info.version} is already in {stage}; nothing to promote")
    refused = []
    shown = info.version if info else "this commit's new version"
    for needed in config.promotion_requires.get(stage, ()):
        if info is None or not state.was_in(info.version, needed):
            refused.append(
                f"policy: {stage} requires {needed} first ({config.file}: promotion.requires); "
                f"{shown} was never in {needed}; run `mlgit promote {model.name} --to {needed}`"
            )
    report = None
    if model.gates:
        report = gates.run(repo, config, model, rev=commit, baseline=stage, state=state)
        refused += [
            f"gate {r.metric} {r.kind}: {r.reason}" for r in report.failed if r.severity != "warn"
        ]
    return _Verdict(
        info.version if info else None, holder.version if holder else None, tuple(refused), report
    )


def _reassign(
    state: ArtifactState, stage: str, commit: str, version: str, facts: dict, why: str
) -> list[NewTag]:
    """Unassign whatever the stage holds, then assign `version`: one version per stage."""
    tags = []
    held = state.stage_holder(stage)
    for other in state.assigned.get(stage, ()):  # GTO lets a stage hold several; leave one
        if other.version == version:
            continue
        tags.append(
            NewTag(
                UNASSIGN,
                other.commit,
                f"mlgit: {why}: unassign {stage} from {state.name} {other.version}",
                {
                    **facts,
                    "action": UNASSIGN,
                    "version": other.version,
                    "stage": stage,
                    "commit": other.commit,
                    "replaced_by": version,
                },
                stage=stage,
            )
        )
    tags.append(
        NewTag(
            ASSIGN,
            commit,
            f"mlgit: {why}: assign {stage} to {state.name} {version}",
            {
                **facts,
                "action": ASSIGN,
                "version": version,
                "stage": stage,
                "previous": held.version if held else None,
            },
            stage=stage,
        )
    )
    return tags


def rollback(
    repo: git.Repo,
    config: Config,
    name: str,
    stage: str,
    to: str | None = None,
    reason: str | None = None,
    push: str | None = None,
) -> RegistryChange:
    """Assign the stage's previous (or the given) version again; history is never rewritten."""
    model = _begin(repo, config, name, push, stage=stage, version=to)
    chosen: list[VersionInfo] = []
    previous: list[str] = []

    def plan(state: ArtifactState) -> list[NewTag]:
        holder = state.stage_holder(stage)
        if holder is None:
            raise MlgitError(f"{name}: {stage} holds no version; nothing to roll back")
        target = _rollback_target(state, stage, holder, to)
        if target.version == holder.version:
            raise MlgitError(f"{name} {target.version} is already in {stage}; nothing to roll back")
        chosen[:], previous[:] = [target], [holder.version]
        facts = provenance(repo, config, model, target.commit)
        facts.update(reason=reason, rolled_back=holder.version)
        return _reassign(state, stage, target.commit, target.version, facts, "rollback")

    tags, _ = write_tags(repo, name, plan)
    change = RegistryChange(
        "rollback",
        name,
        version=chosen[0].version,
        stage=stage,
        commit=chosen[0].commit,
        previous=previous[0],
        tags=tuple(tags),
        reason=reason,
        version_tag=chosen[0].tag or None,
    )
    return _push(repo, change, push)


def _rollback_target(
    state: ArtifactState, stage: str, holder: VersionInfo, to: str | None
) -> VersionInfo:
    """The version to put back: `to` only when it held the stage before (going back needs no
    gates; anything else is a promotion), else the latest earlier holder still registered."""
    name = state.name
    if to is None:
        target = state.previous_holder(stage)
        if target is not None:
            return target
        gone = sorted(
            {
                v
                for e in state.events
                if e.action == ASSIGN and e.stage == stage
                for v in state.deregistered_at(e.commit)
            },
            key=semver_key,
        )
        if gone:
            raise MlgitError(
                f"{name}: no earlier version of {stage} is still registered "
                f"({', '.join(gone)} deregistered); nothing to roll back to; use "
                f"`mlgit promote {name} --to {stage} --version V` (it checks gates and policy)"
            )
        raise MlgitError(
            f"{name}: {stage} held no other version before {holder.version}; nothing to roll "
            f"back to; use `mlgit promote {name} --to {stage} --version V` (it checks gates "
            "and policy)"
        )
    held = state.holders_of(stage)
    info = state.version(to)
    if to in held and info is not None:
        return info
    why = "is not registered" if info is None or not info.active else f"never held {stage}"
    raise MlgitError(
        f"{name} {to} {why}: rollback only goes back to a version that held {stage} "
        f"({', '.join(held) or 'none'}); to put {to} there, use "
        f"`mlgit promote {name} --to {stage} --version {to}` (it checks gates and policy)"
    )


def unassign(
    repo: git.Repo,
    config: Config,
    name: str,
    stage: str,
    reason: str | None = None,
    push: str | None = None,
) -> RegistryChange:
    """GTO's `name#stage!#N` for every version in the stage: it holds nothing afterwards."""
    _begin(repo, config, name, push, stage=stage)
    held: list[VersionInfo] = []

    def plan(state: ArtifactState) -> list[NewTag]:
        holders = state.assigned.get(stage, ())
        if not holders:
            raise MlgitError(f"{name}: {stage} holds no version; nothing to unassign")
        held[:] = list(holders)
        return [
            NewTag(
                UNASSIGN,
                holder.commit,
                f"mlgit: unassign {stage} from {name} {holder.version}",
                {
                    "artifact": name,
                    "action": UNASSIGN,
                    "version": holder.version,
                    "stage": stage,
                    "commit": holder.commit,
                    "reason": reason,
                },
                stage=stage,
            )
            for holder in holders
        ]

    tags, _ = write_tags(repo, name, plan)
    change = RegistryChange(
        "unassign",
        name,
        version=held[0].version,
        stage=stage,
        commit=held[0].commit,
        tags=tuple(tags),
        reason=reason,
    )
    return _push(repo, change, push)


def deprecate(
    repo: git.Repo, config: Config, name: str, reason: str | None = None, push: str | None = None
) -> RegistryChange:
    """GTO's `name@deprecated#N`, on the commit of the artifact's latest event as `gto
    deprecate` does: the model is retired, its history stays; a later registration or
    assignment revives it (GTO's rule)."""
    _begin(repo, config, name, push)
    where: list[str] = []

    def plan(state: ArtifactState) -> list[NewTag]:
        if not state.events:
            raise MlgitError(f"{name} has no registry tags yet; nothing to deprecate")
        if state.deprecated:
            raise MlgitError(f"{name} is already deprecated")
        latest = state.events[-1]
        where[:] = [latest.commit]
        facts = {"artifact": name, "action": DEPRECATE, "commit": latest.commit, "reason": reason}
        return [NewTag(DEPRECATE, latest.commit, f"mlgit: deprecate {name}", facts)]

    tags, _ = write_tags(repo, name, plan)
    change = RegistryChange("deprecate", name, commit=where[0], tags=tuple(tags), reason=reason)
    return _push(repo, change, push)


def _push(repo: git.Repo, change: RegistryChange, remote: str | None) -> RegistryChange:
    """Push the new tags; on failure the local tags stay (a consistent registry) and the
    change carries the reason and the command that retries."""
    if remote is None or not change.tags:
        return change
    return replace(change, remote=remote, push_error=push_tags(repo, remote, change.pushed))
