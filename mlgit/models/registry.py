"""The model registry: annotated git tags in GTO's grammar, so `gto show` reads what mlgit writes.

    churn@v1.2.0         register a version          churn@v1.2.0!        deregister it
    churn#prod#7         assign a stage (N = 7)      churn#prod!#8        unassign it
    churn@deprecated#9   deprecate the artifact      models:churn -> models=churn in tags

Read as GTO 1.10 reads it (gto/tag.py, gto/base.py, gto/registry.py): N counts per artifact
over every parseable tag of it, any stage or action, lightweight too (max N + 1); all
registrations are indexed before any assignment, so an assignment belongs to the version
registered at its commit; then events count in tagger-time order (seconds; a cancelling event
wins a tie). A stage may hold several versions (`gto assign` never unassigns); `gto show`
(default `--sort timestamp`) shows the most recently assigned one, and so does mlgit, whose
assignments also unassign every other holder so the stage holds one. An artifact is
deprecated while its latest event is `@deprecated` (a later one revives it). `@created` tags
parse but make `gto show` crash: mlgit warns about them. Tag times of one artifact are made
strictly increasing per operation (ahead of the clock only in a burst of operations).

Writes are atomic: every tag of one operation (register + unassign + assign) is created in a
single `git update-ref --stdin` transaction, guarded by compare-and-swap on
`refs/mlgit/registry/<artifact>`; a racing writer makes the transaction fail as a whole and it
is retried with fresh counters. Every tag message is a summary line, a blank line, and the
provenance as JSON (commit, metrics, dataset and model md5s, gates, author, reason, mlgit).
"""

from __future__ import annotations

import functools
import json
import random
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

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


class TagName(NamedTuple):  # a NamedTuple: made 10,000s of times per `mlgit registry`
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
    from mlgit.documents import did_you_mean

    if not STAGE_RE.match(stage) or stage not in config.stages:
        hint = did_you_mean(stage, list(config.stages))
        raise MlgitError(
            f"{config.file}: stages: no stage {stage!r}{hint} (stages: {', '.join(config.stages)})"
        )


@functools.lru_cache(maxsize=65536)
def semver_key(version: str) -> tuple:
    match = VERSION_RE.match(version)
    if not match:
        return (-1, -1, -1, 0, ((1, 0, version),))
    major, minor, patch, pre = match.group(1), match.group(2), match.group(3), match.group(4)
    # a pre-release sorts before its release; numeric identifiers numerically, below words
    ids = tuple((0, int(i), "") if i.isdigit() else (1, 0, i) for i in (pre or "").split("."))
    return (int(major), int(minor), int(patch), 0 if pre else 1, ids if pre else ())


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
    from mlgit.repo import git as gitx

    grouped: dict[str, list[tuple[TagName, gitx.Tag, int]]] = {}
    counters: dict[str, int] = {}
    problems = []
    for tag in gitx.list_tags(repo, messages=messages):
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
            _fold(name, grouped[name]) if name in grouped else ArtifactState(name),
            max_counter=counters.get(name, 0),
        )
        for name in sorted(grouped.keys() | counters.keys())
    }
    return RegistryState(artifacts, tuple(problems))


def _fold(name: str, items: list) -> ArtifactState:
    """Replay one artifact's tags as GTO does: in tagger-time order, an assignment belongs to
    the version registered at its commit; a version (a stage of a version, the artifact) is
    active when its latest event by time is a registration (assignment, anything but a
    deprecation), a cancelling event winning a same-second tie, as in GTO's stable sorts."""
    items.sort(
        key=lambda it: (
            it[2],
            it[0].counter if it[0].counter is not None else -1,
            _PRIORITY[it[0].action],
            it[1].name,
        )
    )
    versions: dict[str, VersionInfo] = {}
    direct: dict[str, tuple[int, bool]] = {}  # version -> (time, registered) of its last event
    for parsed, tag, stamp in items:
        if parsed.action not in (REGISTER, DEREGISTER):
            continue
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
        version = parsed.version
        if parsed.action in (ASSIGN, UNASSIGN):
            info = at_commit.get(tag.commit)
            if info is None:
                info = versions.setdefault(tag.commit, VersionInfo(tag.commit, tag.commit, False))
            version = info.version
            key = (version, parsed.stage)
            last = vstage.get(key)
            if last is None or stamp > last[0] or (stamp == last[0] and parsed.action == UNASSIGN):
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
        # one second per operation, later than any tag of the artifact: GTO orders by time,
        # and it indexes registrations before assignments, so the tags of one operation
        # (register, unassign others, assign) may share it
        stamp = max(now, state.last_timestamp + 1)
        counter = state.max_counter
        creates, names = [], []
        for new in wanted:
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
            tagger = f"{name} <{email}> {stamp} {tz}"
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


def _model(config: Config, name: str) -> Model:
    validate_artifact(name)
    return config.model(name)


def require_reason(force: bool, reason: str | None) -> None:
    if force and not (reason or "").strip():
        raise MlgitError("--force needs --reason TEXT: the reason is recorded in the tag")


def declared(root: Path) -> tuple[list[str], list[str]]:
    """(stages, models) as mlgit.yaml declares them, read without validating it (the registry
    view only orders by them); empty lists when there is no readable mlgit.yaml."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: faster
    try:
        data = yaml.load((root / "mlgit.yaml").read_text(encoding="utf-8"), loader)
    except (OSError, ValueError, yaml.YAMLError):
        return [], []
    if not isinstance(data, dict):
        return [], []
    stages = data.get("stages") if isinstance(data.get("stages"), list) else []
    models = data.get("models") if isinstance(data.get("models"), dict) else {}
    return [str(s) for s in stages], [str(m) for m in models]


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
    gitx.require_full_history(repo)
    gitx.require_identity(repo)
    if push:
        gitx.fetch_tags(repo, push)  # choose N after what other clones already pushed
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
    (registering HEAD's commit as the next patch version when it has none). When another
    writer changed the registry meanwhile, policy and gates are judged again on what it
    wrote, so a gate never passes against a stale baseline."""
    from mlgit.repo import git as gitx

    model = _model(config, name)
    validate_stage(stage, config)
    if version is not None:
        validate_version(version)
    require_reason(force, reason)
    gitx.require_full_history(repo)
    gitx.require_identity(repo)
    if push:
        gitx.fetch_tags(repo, push)  # choose N after what other clones already pushed
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
        facts["gates"] = [_gate_json(r) for r in report.results] if report else []
        facts.update(forced=force, reason=reason, overridden=list(refused) if force else [])
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
    from mlgit.models import gates as gates_mod

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
        report = gates_mod.run(repo, config, model, rev=commit, baseline=stage, state=state)
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
    gitx.require_full_history(repo)
    gitx.require_identity(repo)
    if push:
        gitx.fetch_tags(repo, push)  # choose N after what other clones already pushed
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
    from mlgit.repo import git as gitx

    _model(config, name)
    validate_stage(stage, config)
    gitx.require_full_history(repo)
    gitx.require_identity(repo)
    if push:
        gitx.fetch_tags(repo, push)  # choose N after what other clones already pushed
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
    from mlgit.repo import git as gitx

    _model(config, name)
    gitx.require_full_history(repo)
    gitx.require_identity(repo)
    if push:
        gitx.fetch_tags(repo, push)  # choose N after what other clones already pushed
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
    from mlgit.repo import git as gitx

    error = gitx.push_refs(repo, remote, [f"refs/tags/{t}" for t in change.pushed])
    return replace(change, remote=remote, push_error=error)
