"""The model registry: annotated git tags in GTO's grammar, so `gto show` reads what mlgit writes.

    churn@v1.2.0         register a version          churn@v1.2.0!        deregister it
    churn#prod#7         assign a stage (N = 7)      churn#prod!#8        unassign it
    churn@deprecated#9   deprecate the artifact      models:churn -> models=churn in tags

As in GTO, N counts every counted tag of the artifact (max N + 1), and events are ordered by
the tagger time. mlgit keeps a stage holding ONE version: an assignment first unassigns the
previous holder, so GTO's default view (highest active version per stage) and its `--sort
timestamp` view agree with mlgit's. Tag times of one artifact are made strictly increasing
(at most a few seconds ahead of the clock in a burst) so time order equals N order for GTO.

Writes are atomic: every tag of one operation (register + unassign + assign) is created in a
single `git update-ref --stdin` transaction, guarded by compare-and-swap on
`refs/mlgit/registry/<artifact>`; a racing writer makes the transaction fail as a whole and it
is retried with fresh counters. Every tag message is a summary line, a blank line, and the
provenance as JSON (commit, metrics, dataset and model md5s, gates, author, reason, mlgit).
"""

from __future__ import annotations

import json
import random
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import git

    from mlgit.config import Config, Model
    from mlgit.models.gates import GateReport

# ---------------------------------------------------------------- grammar (GTO's, exactly)
_NAME = r"[a-zA-Z0-9]([a-zA-Z0-9\-/_]*[a-zA-Z0-9])?"
_DIR = r"[a-zA-Z0-9\-_./]+"
_SEMVER = (
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
TAG_RE = re.compile(
    rf"^(?P<artifact>(?:{_DIR}=)?{_NAME})"
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?)"
    rf"|@(?:(?P<deprecated>deprecated)|(?P<created>created)))"
    rf"(?:#(?P<counter>[0-9]+))?$"
)
VERSION_RE = re.compile(rf"^v{_SEMVER}$")
# mlgit's own names are stricter than GTO's (lowercase, as in config.schema.json)
_MLGIT_NAME = r"[a-z0-9]([a-z0-9_-]*[a-z0-9])?"
ARTIFACT_RE = re.compile(rf"^({_MLGIT_NAME}(/{_MLGIT_NAME})*:)?{_MLGIT_NAME}$")
STAGE_RE = re.compile(rf"^{_MLGIT_NAME}$")

REGISTER, DEREGISTER, ASSIGN, UNASSIGN, DEPRECATE, CREATE = (
    "register",
    "deregister",
    "assign",
    "unassign",
    "deprecate",
    "create",
)
# same-second ties: registrations before assignments (as GTO's event priorities)
_PRIORITY = {CREATE: 0, REGISTER: 1, DEREGISTER: 2, ASSIGN: 3, UNASSIGN: 4, DEPRECATE: 5}
GUARD_PREFIX = "refs/mlgit/registry/"
MAX_ATTEMPTS = 60
BUMPS = ("major", "minor", "patch")


@dataclass(frozen=True)
class TagName:
    artifact: str  # as in mlgit.yaml: `dir:name`
    action: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None


def parse_tag_name(name: str) -> TagName | None:
    match = TAG_RE.match(name)
    if not match:
        return None
    artifact = match["artifact"].replace("=", ":")
    counter = int(match["counter"]) if match["counter"] else None
    cancel = match["cancel"] == "!"
    if match["version"]:
        action = DEREGISTER if cancel else REGISTER
        return TagName(artifact, action, version=match["version"], counter=counter)
    if match["stage"]:
        action = UNASSIGN if cancel else ASSIGN
        return TagName(artifact, action, stage=match["stage"], counter=counter)
    return TagName(artifact, DEPRECATE if match["deprecated"] else CREATE, counter=counter)


def format_tag(t: TagName) -> str:
    artifact = t.artifact.replace(":", "=")
    body = {
        REGISTER: f"{artifact}@{t.version}",
        DEREGISTER: f"{artifact}@{t.version}!",
        ASSIGN: f"{artifact}#{t.stage}",
        UNASSIGN: f"{artifact}#{t.stage}!",
        DEPRECATE: f"{artifact}@deprecated",
        CREATE: f"{artifact}@created",
    }[t.action]
    return body if t.counter is None else f"{body}#{t.counter}"


def looks_like_registry_tag(name: str) -> bool:
    return "@" in name or "#" in name


def validate_artifact(name: str) -> None:
    if not ARTIFACT_RE.match(name):
        raise MlgitError(
            f"model name {name!r}: not a valid registry name; use lowercase letters, digits, "
            "'-' and '_' (and `dir:name` for a model in a subfolder)"
        )


def validate_version(version: str) -> None:
    if not VERSION_RE.match(version):
        raise MlgitError(
            f"version {version!r}: not a semantic version tag; write it as vMAJOR.MINOR.PATCH, "
            "e.g. v1.2.0"
        )


def validate_stage(stage: str, config: Config) -> None:
    from mlgit.config import _did_you_mean

    if not STAGE_RE.match(stage) or stage not in config.stages:
        hint = _did_you_mean(stage, list(config.stages))
        raise MlgitError(
            f"{config.file}: stages: no stage {stage!r}{hint} (stages: {', '.join(config.stages)})"
        )


def semver_key(version: str) -> tuple:
    match = VERSION_RE.match(version)
    if not match:
        return (-1, -1, -1, 0, version)
    major, minor, patch, pre = match.group(1), match.group(2), match.group(3), match.group(4)
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


def bump(version: str | None, part: str) -> str:
    if version is None:
        return {"major": "v1.0.0", "minor": "v0.1.0", "patch": "v0.0.1"}[part]
    major, minor, patch = semver_key(version)[:3]
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


# ---------------------------------------------------------------- state from tags
@dataclass(frozen=True)
class Event:
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
    message: str  # the whole tag message

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0].strip()

    @cached_property
    def provenance(self) -> dict | None:
        """The JSON after the summary line, when mlgit wrote the tag."""
        _, _, body = self.message.partition("\n\n")
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class VersionInfo:
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
    stages: dict[str, VersionInfo] = field(default_factory=dict)
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
            if info is not None and info.active:
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


def read_state(repo: git.Repo) -> RegistryState:
    """The whole registry from ONE `git for-each-ref` pass over all tags."""
    from mlgit.repo import git as gitx

    grouped: dict[str, list[tuple[TagName, gitx.Tag, int]]] = {}
    counters: dict[str, int] = {}
    problems = []
    for tag in gitx.list_tags(repo):
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
        if not tag.annotated:
            problems.append(
                TagProblem(
                    tag.name,
                    "lightweight tag: gto and mlgit ignore it; recreate it annotated "
                    f"(`git tag -d {shlex.quote(tag.name)}` then `git tag -a ...`)",
                )
            )
            continue
        stamp = int(datetime.fromisoformat(tag.created).timestamp()) if tag.created else 0
        grouped.setdefault(parsed.artifact, []).append((parsed, tag, stamp))
    artifacts = {
        name: replace(
            _fold(name, grouped[name]) if name in grouped else ArtifactState(name),
            max_counter=counters.get(name, 0),
        )
        for name in sorted(grouped.keys() | counters.keys())
    }
    return RegistryState(artifacts, tuple(problems))


def _fold(name: str, items: list) -> ArtifactState:
    """Replay one artifact's tags in time order (N, then GTO's priorities, break ties)."""
    items.sort(
        key=lambda it: (
            it[2],
            it[0].counter if it[0].counter is not None else -1,
            _PRIORITY[it[0].action],
            it[1].name,
        )
    )
    versions: dict[str, VersionInfo] = {}
    for parsed, tag, _ in items:
        if parsed.action == REGISTER and parsed.version not in versions:
            versions[parsed.version] = VersionInfo(
                parsed.version, tag.commit, True, True, tag.created, tag.name
            )
        elif parsed.action == DEREGISTER and parsed.version in versions:
            versions[parsed.version] = replace(versions[parsed.version], active=False)
    at_commit: dict[str, VersionInfo] = {}
    for info in sorted(versions.values(), key=lambda v: semver_key(v.version)):
        if info.active:
            at_commit[info.commit] = info  # the highest version at a commit wins
    active: dict[tuple[str, str], int] = {}  # (version, stage) -> order of its last assignment
    events = []
    deprecated = False
    for order, (parsed, tag, stamp) in enumerate(items):
        version = parsed.version
        if parsed.action in (ASSIGN, UNASSIGN):
            info = at_commit.get(tag.commit)
            if info is None:
                info = versions.setdefault(tag.commit, VersionInfo(tag.commit, tag.commit, False))
            version = info.version
            key = (version, parsed.stage)
            if parsed.action == ASSIGN:
                active[key] = order
            else:
                active.pop(key, None)
        elif parsed.action == DEPRECATE:
            deprecated = True
        elif parsed.action == CREATE:
            deprecated = False
        events.append(
            Event(
                tag=tag.name,
                action=parsed.action,
                artifact=name,
                version=version,
                stage=parsed.stage,
                counter=parsed.counter,
                commit=tag.commit,
                timestamp=stamp,
                created=tag.created,
                author=tag.tagger,
                message=tag.message,
            )
        )
    holders: dict[str, tuple[int, str]] = {}
    for (version, stage), order in active.items():
        if versions[version].active and (stage not in holders or order > holders[stage][0]):
            holders[stage] = (order, version)
    return ArtifactState(
        name=name,
        versions=tuple(
            sorted(versions.values(), key=lambda v: semver_key(v.version), reverse=True)
        ),
        stages={stage: versions[v] for stage, (_, v) in sorted(holders.items())},
        events=tuple(events),
        deprecated=deprecated,
        last_timestamp=max((s for _, _, s in items), default=0),
    )


# ---------------------------------------------------------------- writing tags
@dataclass(frozen=True)
class NewTag:
    action: str
    commit: str
    summary: str
    provenance: dict
    version: str | None = None
    stage: str | None = None


def _guard_ref(artifact: str) -> str:
    return GUARD_PREFIX + artifact.replace(":", "=").replace("/", "%2F")


def write_tags(
    repo: git.Repo, artifact: str, plan: Callable[[ArtifactState], list[NewTag]]
) -> tuple[list[str], ArtifactState]:
    """Create the tags `plan` asks for, all or none, with fresh counters; retried when another
    writer got there first. Returns the tag names and the state they were planned on."""
    from mlgit import __version__
    from mlgit.repo import git as gitx

    for _ in range(MAX_ATTEMPTS):
        old = gitx.read_ref(repo, _guard_ref(artifact))  # read BEFORE the tags: CAS below
        state = read_state(repo).artifact(artifact)
        wanted = plan(state)
        name, email, now, tz = gitx.committer_ident(repo)
        stamp = max(now, state.last_timestamp + 1)
        counter = state.max_counter
        creates, names = [], []
        for offset, new in enumerate(wanted):
            if new.action != REGISTER:
                counter += 1
            tag = format_tag(
                TagName(
                    artifact,
                    new.action,
                    version=new.version,
                    stage=new.stage,
                    counter=None if new.action == REGISTER else counter,
                )
            )
            provenance = {
                **new.provenance,
                "tag": tag,
                "author": f"{name} <{email}>",
                "mlgit": __version__,
                "schema_version": 1,
            }
            message = f"{new.summary}\n\n{json.dumps(provenance, sort_keys=True)}"
            tagger = f"{name} <{email}> {stamp + offset} {tz}"
            creates.append(
                (f"refs/tags/{tag}", gitx.make_tag_object(repo, tag, new.commit, tagger, message))
            )
            names.append(tag)
        if gitx.create_refs_atomically(repo, creates, (_guard_ref(artifact), creates[-1][1], old)):
            return names, state
        time.sleep(random.uniform(0.01, 0.1))
    raise MlgitError(
        f"could not create registry tags for {artifact!r}: other processes kept writing "
        f"{MAX_ATTEMPTS} times in a row; run the command again"
    )


# ---------------------------------------------------------------- provenance and readiness
def provenance(repo: git.Repo, config: Config, model: Model, commit: str) -> dict:
    """What a version is made of, read at its commit: metrics, dataset and model md5s."""
    from mlgit.models import metrics as metrics_mod
    from mlgit.repo import dvc

    data: dict[str, Any] = {"artifact": model.name, "commit": commit}
    if model.metrics:
        data["metrics_file"] = model.metrics
        data["metrics"] = metrics_mod.read_or_none(repo, model.metrics, commit)
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
    from mlgit.repo import git as gitx

    if gitx.is_dirty(repo):
        changed = sorted(
            {d.a_path for d in repo.index.diff(None)} | {d.a_path for d in repo.index.diff("HEAD")}
        )
        raise MlgitError(
            f"{repo.working_dir}: the work tree has uncommitted changes "
            f"({', '.join(changed[:5])}{', ...' if len(changed) > 5 else ''}); "
            "commit or stash them first, so the tag points at what you tested"
        )
    if model.path and commit == gitx.head_commit(repo):
        _check_dvc_outputs(repo, config, model)


def _check_dvc_outputs(repo: git.Repo, config: Config, model: Model) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from mlgit.repo import dvc
    from mlgit.repo import git as gitx

    root = Path(repo.working_dir)
    record = dvc.tracked(repo, model.path)
    if record is None:
        if gitx.is_tracked(repo, root / model.path):
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
    if local_out and json.loads(local_out):
        raise MlgitError(
            f"{model.path}: changed since DVC recorded it ({target}); run "
            f"`dvc commit {target}` (or `dvc repro`), `git commit` and `dvc push` first"
        )
    if cloud_out and json.loads(cloud_out):
        raise MlgitError(
            f"{model.path}: not in the DVC remote yet; run `dvc push` first, so the "
            "tagged version can be pulled anywhere"
        )


# ---------------------------------------------------------------- operations
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

    @property
    def ok(self) -> bool:
        return not self.refused

    def retry_push(self) -> str:
        quoted = " ".join(shlex.quote(f"refs/tags/{t}") for t in self.tags)
        return f"git push {shlex.quote(self.remote or 'origin')} {quoted}"


def _model(config: Config, name: str) -> Model:
    validate_artifact(name)
    return config.model(name)


def register(
    repo: git.Repo,
    config: Config,
    name: str,
    version: str | None = None,
    bump_part: str | None = None,
    rev: str = "HEAD",
    push: str | None = None,
) -> RegistryChange:
    from mlgit.repo import git as gitx

    model = _model(config, name)
    if version is not None:
        validate_version(version)
    gitx.require_identity(repo)
    commit = gitx.resolve_rev(repo, rev)
    check_ready(repo, config, model, commit)
    facts = provenance(repo, config, model, commit)
    chosen: list[str] = []

    def plan(state: ArtifactState) -> list[NewTag]:
        chosen[:] = [_new_version(state, commit, version, bump_part or "patch")]
        return [
            NewTag(
                REGISTER,
                commit,
                f"mlgit: register {name} {chosen[0]}",
                {**facts, "action": REGISTER, "version": chosen[0]},
                version=chosen[0],
            )
        ]

    tags, _ = write_tags(repo, name, plan)
    change = RegistryChange("register", name, version=chosen[0], commit=commit, tags=tuple(tags))
    return _push(repo, change, push)


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
    (registering HEAD's commit as the next patch version when it has none)."""
    from mlgit.models import gates as gates_mod
    from mlgit.repo import git as gitx

    model = _model(config, name)
    validate_stage(stage, config)
    if version is not None:
        validate_version(version)
    if force and not reason:
        raise MlgitError("--force needs --reason TEXT: the reason is recorded in the tag")
    gitx.require_identity(repo)
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
        commit = gitx.resolve_rev(repo, "HEAD")
        info = state.version_at(commit)
    check_ready(repo, config, model, commit)
    holder = state.stage_holder(stage)
    if info is not None and holder is not None and holder.version == info.version:
        raise MlgitError(f"{name} {info.version} is already in {stage}; nothing to promote")
    refused = []
    shown = info.version if info else "this commit's new version"
    for needed in config.promotion_requires.get(stage, ()):
        if info is None or not state.was_in(info.version, needed):
            refused.append(
                f"policy: {stage} requires {needed} first ({config.file}: promotion.requires); "
                f"{shown} was never in {needed}; run `mlgit promote {name} --to {needed}`"
            )
    report = None
    if model.gates:
        report = gates_mod.run(repo, config, model, rev=commit, baseline=stage)
        refused += [
            f"gate {r.metric} {r.kind}: {r.reason}" for r in report.failed if r.severity != "warn"
        ]
    if refused and not force:
        return RegistryChange(
            "promote",
            name,
            version=info.version if info else None,
            stage=stage,
            commit=commit,
            previous=holder.version if holder else None,
            refused=tuple(refused),
            gates=report,
        )
    facts = provenance(repo, config, model, commit)
    facts["gates"] = [_gate_json(r) for r in report.results] if report else []
    facts.update(forced=force, reason=reason, overridden=refused if force else [])
    picked: list[str] = []
    previous: list[str | None] = []

    def plan(now: ArtifactState) -> list[NewTag]:
        tags = []
        current = now.version_at(commit)
        if current is None:
            new_version = _new_version(now, commit, None, "patch")
            tags.append(
                NewTag(
                    REGISTER,
                    commit,
                    f"mlgit: register {name} {new_version}",
                    {**facts, "action": REGISTER, "version": new_version},
                    version=new_version,
                )
            )
        else:
            new_version = current.version
        held = now.stage_holder(stage)
        picked[:], previous[:] = [new_version], [held.version if held else None]
        tags += _reassign(now, stage, commit, new_version, facts, "promote")
        return tags

    tags, _ = write_tags(repo, name, plan)
    change = RegistryChange(
        "promote",
        name,
        version=picked[0],
        stage=stage,
        commit=commit,
        previous=previous[0],
        tags=tuple(tags),
        gates=report,
        forced=force and bool(refused),
        reason=reason,
    )
    return _push(repo, change, push)


def _reassign(
    state: ArtifactState, stage: str, commit: str, version: str, facts: dict, why: str
) -> list[NewTag]:
    """Unassign whatever the stage holds, then assign `version`: one version per stage."""
    tags = []
    held = state.stage_holder(stage)
    if held is not None and held.version != version:
        tags.append(
            NewTag(
                UNASSIGN,
                held.commit,
                f"mlgit: {why}: unassign {stage} from {state.name} {held.version}",
                {
                    **facts,
                    "action": UNASSIGN,
                    "version": held.version,
                    "stage": stage,
                    "commit": held.commit,
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


def _gate_json(r: Any) -> dict:
    return {
        "metric": r.metric,
        "kind": r.kind,
        "value": r.value,
        "baseline": r.baseline,
        "threshold": r.threshold,
        "ok": r.ok,
        "severity": r.severity,
        "reason": r.reason,
    }


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
    from mlgit.repo import git as gitx

    model = _model(config, name)
    validate_stage(stage, config)
    if to is not None:
        validate_version(to)
    gitx.require_identity(repo)
    chosen: list[VersionInfo] = []
    previous: list[str] = []

    def plan(state: ArtifactState) -> list[NewTag]:
        holder = state.stage_holder(stage)
        if holder is None:
            raise MlgitError(f"{name}: {stage} holds no version; nothing to roll back")
        target = state.version(to) if to else state.previous_holder(stage)
        if target is None or not target.active:
            raise MlgitError(
                f"{name} {to} is not registered"
                if to
                else f"{name}: {stage} held no other version before {holder.version}; "
                "pass --to VERSION"
            )
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
    )
    return _push(repo, change, push)


def unassign(
    repo: git.Repo,
    config: Config,
    name: str,
    stage: str,
    reason: str | None = None,
    push: str | None = None,
) -> RegistryChange:
    """GTO's `name#stage!#N`: the stage holds nothing afterwards."""
    from mlgit.repo import git as gitx

    _model(config, name)
    validate_stage(stage, config)
    gitx.require_identity(repo)
    held: list[VersionInfo] = []

    def plan(state: ArtifactState) -> list[NewTag]:
        holder = state.stage_holder(stage)
        if holder is None:
            raise MlgitError(f"{name}: {stage} holds no version; nothing to unassign")
        held[:] = [holder]
        facts = {
            "artifact": name,
            "action": UNASSIGN,
            "version": holder.version,
            "stage": stage,
            "commit": holder.commit,
            "reason": reason,
        }
        return [
            NewTag(
                UNASSIGN,
                holder.commit,
                f"mlgit: unassign {stage} from {name} {holder.version}",
                facts,
                stage=stage,
            )
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
    """GTO's `name@deprecated#N` on HEAD: the model is retired (its history stays)."""
    from mlgit.repo import git as gitx

    _model(config, name)
    gitx.require_identity(repo)
    commit = gitx.resolve_rev(repo, "HEAD")

    def plan(state: ArtifactState) -> list[NewTag]:
        if not state.events:
            raise MlgitError(f"{name} has no registry tags yet; nothing to deprecate")
        if state.deprecated:
            raise MlgitError(f"{name} is already deprecated")
        facts = {"artifact": name, "action": DEPRECATE, "commit": commit, "reason": reason}
        return [NewTag(DEPRECATE, commit, f"mlgit: deprecate {name}", facts)]

    tags, _ = write_tags(repo, name, plan)
    change = RegistryChange("deprecate", name, commit=commit, tags=tuple(tags), reason=reason)
    return _push(repo, change, push)


def _push(repo: git.Repo, change: RegistryChange, remote: str | None) -> RegistryChange:
    """Push the new tags; on failure the local tags stay (a consistent registry) and the
    change carries the reason and the command that retries."""
    if remote is None or not change.tags:
        return change
    from mlgit.repo import git as gitx

    error = gitx.push_refs(repo, remote, [f"refs/tags/{t}" for t in change.tags])
    return replace(change, remote=remote, push_error=error)
