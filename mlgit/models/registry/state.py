"""The registry's state, folded from its tags as GTO 1.10 folds them (gto/tag.py, gto/base.py,
gto/registry.py), so `mlgit registry` shows what `gto show` shows.

N counts per artifact over every parseable tag of it, any stage or action, lightweight too (max
N + 1); all registrations are indexed before any assignment, so an assignment belongs to the
version registered at its commit; then events count in tagger-time order (seconds; a cancelling
event wins a tie). A stage may hold several versions (`gto assign` never unassigns); `gto show`
(default `--sort timestamp`) shows the most recently assigned one, and so does mlgit, whose
assignments also unassign every other holder so the stage holds one. An artifact is
deprecated while its latest event is `@deprecated` (a later one revives it). `@created` tags
parse but make `gto show` crash: mlgit warns about them.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from mlgit.models.registry.tags import (
    ASSIGN,
    CREATE,
    DEPRECATE,
    DEREGISTER,
    REGISTER,
    UNASSIGN,
    TagName,
    looks_like_registry_tag,
    parse_tag_name,
    semver_key,
)

if TYPE_CHECKING:
    import git

    from mlgit.repo.git import Tag

# same-second ties: registrations before assignments (as GTO's event priorities)
PRIORITY = {CREATE: 0, REGISTER: 1, DEREGISTER: 2, ASSIGN: 3, UNASSIGN: 4, DEPRECATE: 5}


class Event(NamedTuple):  # NamedTuples here: one per tag, built fast
    tag: str
    action: str
    artifact: str
    version: str | None  # for assignments: the version registered at the tag's commit
    stage: str | None
    counter: int | None
    commit: str
    timestamp: int
    created: str
    author: str
    message: str  # the whole tag message ("" unless the state was read with messages)

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0].strip()

    @property
    def provenance(self) -> dict | None:
        """The JSON after the summary line, when mlgit wrote the tag."""
        _, _, body = self.message.partition("\n\n")
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


class VersionInfo(NamedTuple):
    version: str
    commit: str
    registered: bool  # False: an assignment on a commit without a version (GTO allows it)
    active: bool = True  # False once deregistered
    created: str = ""
    tag: str = ""


@dataclass(frozen=True)
class ArtifactState:
    name: str
    versions: tuple[VersionInfo, ...] = ()  # highest first
    stages: dict[str, VersionInfo] = field(default_factory=dict)  # what `gto show` shows
    # every version holding a stage, latest assignment first (`gto assign` never unassigns)
    assigned: dict[str, tuple[VersionInfo, ...]] = field(default_factory=dict)
    events: tuple[Event, ...] = ()  # oldest first
    deprecated: bool = False
    max_counter: int = 0
    last_timestamp: int = 0

    def version(self, version: str) -> VersionInfo | None:
        return next((v for v in self.versions if v.version == version), None)

    def version_at(self, commit: str) -> VersionInfo | None:
        return next(
            (v for v in self.versions if v.commit == commit and v.registered and v.active), None
        )

    @property
    def latest(self) -> VersionInfo | None:
        return next((v for v in self.versions if v.registered and v.active), None)

    def stage_holder(self, stage: str) -> VersionInfo | None:
        return self.stages.get(stage)

    @property
    def shown_stages(self) -> dict[str, VersionInfo]:
        """The stages as `gto show` shows them: none while the artifact is deprecated (it
        hides the artifact; the assignments stay in the history and come back on revival)."""
        return {} if self.deprecated else self.stages

    def holders_of(self, stage: str) -> list[str]:
        """Every registered, active version ever assigned to `stage`, oldest first."""
        seen: list[str] = []
        for event in self.events:
            if event.action == ASSIGN and event.stage == stage and event.version not in seen:
                info = self.version(event.version or "")
                if info is not None and info.registered and info.active:
                    seen.append(info.version)
        return seen

    def deregistered_at(self, commit: str) -> list[str]:
        return [v.version for v in self.versions if v.commit == commit and not v.active]

    def was_in(self, version: str, stage: str) -> bool:
        return any(
            e.action == ASSIGN and e.version == version and e.stage == stage for e in self.events
        )

    def previous_holder(self, stage: str) -> VersionInfo | None:
        """The version the stage held before its current one (still registered)."""
        current = self.stage_holder(stage)
        for event in reversed(self.events):
            if event.action != ASSIGN or event.stage != stage or event.version is None:
                continue
            if current is not None and event.version == current.version:
                continue
            info = self.version(event.version)
            # a deregistered version's assignments resolve to its bare commit (as in GTO):
            # that is no version to go back to
            if info is not None and info.active and info.registered:
                return info
        return None


@dataclass(frozen=True)
class TagProblem:
    tag: str
    problem: str


@dataclass(frozen=True)
class RegistryState:
    artifacts: dict[str, ArtifactState]
    problems: tuple[TagProblem, ...] = ()

    def artifact(self, name: str) -> ArtifactState:
        return self.artifacts.get(name) or ArtifactState(name=name)


def read_state(repo: git.Repo | Path, messages: bool = False) -> RegistryState:
    """The whole registry from ONE `git for-each-ref` pass over all tags. The tag messages
    (provenance) are read only with `messages=True`: the history needs them, nothing else."""
    from mlgit.repo.git import list_tags

    grouped: dict[str, list[tuple[TagName, Tag, int]]] = {}
    counters: dict[str, int] = {}
    problems = []
    for tag in list_tags(repo, messages=messages):
        parsed = parse_tag_name(tag.name)
        if parsed is None:
            if looks_like_registry_tag(tag.name):
                problems.append(
                    TagProblem(
                        tag.name,
                        "looks like a registry tag but does not follow GTO's grammar "
                        "(name@vX.Y.Z, name#stage#N, name@deprecated#N); gto and mlgit ignore it",
                    )
                )
            continue
        if parsed.counter is not None:  # GTO counts every parseable tag, lightweight too
            counters[parsed.artifact] = max(counters.get(parsed.artifact, 0), parsed.counter)
        if parsed.action == CREATE:  # GTO parses it without an action and then crashes
            problems.append(
                TagProblem(
                    tag.name,
                    "GTO has no `@created` event: `gto show` fails with \"'action'\" while "
                    f"this tag exists; delete it with `git tag -d {shlex.quote(tag.name)}`",
                )
            )
            continue
        if not tag.annotated:
            problems.append(
                TagProblem(
                    tag.name,
                    "lightweight tag: gto and mlgit ignore it; recreate it annotated "
                    f"(`git tag -d {shlex.quote(tag.name)}` then `git tag -a ...`)",
                )
            )
            continue
        grouped.setdefault(parsed.artifact, []).append((parsed, tag, tag.timestamp))
    artifacts = {
        name: replace(
            fold(name, grouped[name]) if name in grouped else ArtifactState(name),
            max_counter=counters.get(name, 0),
        )
        for name in sorted(grouped.keys() | counters.keys())
    }
    return RegistryState(artifacts, tuple(problems))


def fold(name: str, items: list[tuple[TagName, Tag, int]]) -> ArtifactState:
    """One artifact's state from its tags, (parsed name, tag, tagger time) each, in any order
    (sorted in place). Replay them as GTO does: in tagger-time order, an assignment belongs to
    the version registered at its commit; a version (a stage of a version, the artifact) is
    active when its latest event by time is a registration (assignment, anything but a
    deprecation), a cancelling event winning a same-second tie, as in GTO's stable sorts."""
    items.sort(
        key=lambda it: (
            it[2],
            it[0].counter if it[0].counter is not None else -1,
            PRIORITY[it[0].action],
            it[1].name,
        )
    )
    versions: dict[str, VersionInfo] = {}
    direct: dict[str, tuple[int, bool]] = {}  # version -> (time, registered) of its last event
    for parsed, tag, stamp in items:
        if parsed.action not in (REGISTER, DEREGISTER):
            continue
        assert parsed.version is not None  # parse_tag_name: (de)registrations name a version
        if parsed.action == REGISTER and parsed.version not in versions:
            versions[parsed.version] = VersionInfo(
                parsed.version, tag.commit, True, True, tag.created, tag.name
            )
        last = direct.get(parsed.version)
        if last is None or stamp > last[0] or (stamp == last[0] and parsed.action == DEREGISTER):
            direct[parsed.version] = (stamp, parsed.action == REGISTER)
    for version, (_, registered) in direct.items():
        if version in versions and not registered:
            versions[version] = versions[version]._replace(active=False)
    at_commit: dict[str, VersionInfo] = {}
    for info in sorted(versions.values(), key=lambda v: semver_key(v.version)):
        if info.active:
            at_commit[info.commit] = info  # the highest version at a commit wins
    # (version, stage) -> (time, assigned) of its last event, and the order of that event
    vstage: dict[tuple[str, str], tuple[int, bool, int]] = {}
    events = []
    last_other, last_deprecation = -1, -1
    for order, (parsed, tag, stamp) in enumerate(items):
        event_version = parsed.version  # None for a deprecation
        if parsed.action in (ASSIGN, UNASSIGN):
            assert parsed.stage is not None  # parse_tag_name: (un)assignments name a stage
            found = at_commit.get(tag.commit)
            if found is None:
                found = versions.setdefault(tag.commit, VersionInfo(tag.commit, tag.commit, False))
            event_version = found.version
            key = (found.version, parsed.stage)
            prev = vstage.get(key)
            if prev is None or stamp > prev[0] or (stamp == prev[0] and parsed.action == UNASSIGN):
                vstage[key] = (stamp, parsed.action == ASSIGN, order)
        if parsed.action == DEPRECATE:
            last_deprecation = max(last_deprecation, stamp)
        else:
            last_other = max(last_other, stamp)
        events.append(
            Event(
                tag=tag.name,
                action=parsed.action,
                artifact=name,
                version=event_version,
                stage=parsed.stage,
                counter=parsed.counter,
                commit=tag.commit,
                timestamp=stamp,
                created=tag.created,
                author=tag.tagger,
                message=tag.message,
            )
        )
    # per stage, every version holding it, the most recently assigned first: `gto show`
    # (its default `--sort timestamp`, one version per stage) shows the first
    recency: dict[str, list[tuple[int, int, VersionInfo]]] = {}
    for (version, stage), (stamp, is_assigned, order) in vstage.items():
        if is_assigned and versions[version].active:
            recency.setdefault(stage, []).append((stamp, order, versions[version]))
    assigned = {
        stage: [info for _, _, info in sorted(held, key=lambda h: h[:2], reverse=True)]
        for stage, held in recency.items()
    }
    return ArtifactState(
        name=name,
        versions=tuple(
            sorted(versions.values(), key=lambda v: semver_key(v.version), reverse=True)
        ),
        stages={stage: held[0] for stage, held in sorted(assigned.items())},
        assigned={stage: tuple(held) for stage, held in sorted(assigned.items())},
        events=tuple(events),
        # GTO: deprecated while the latest event is a deprecation (a later one revives it)
        deprecated=last_deprecation > last_other,
        last_timestamp=max((s for _, _, s in items), default=0),
    )
