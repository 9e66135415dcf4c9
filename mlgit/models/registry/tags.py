"""GTO's tag grammar, exactly: parse and format registry tag names, validate mlgit's names,
order and bump semantic versions.

    churn@v1.2.0         register a version          churn@v1.2.0!        deregister it
    churn#prod#7         assign a stage (N = 7)      churn#prod!#8        unassign it
    churn@deprecated#9   deprecate the artifact      models:churn -> models=churn in tags
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, NamedTuple

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from mlgit.config import Config

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
