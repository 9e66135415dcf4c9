"""The pipeline context: every value the CI templates lay out, computed once from mlgit.yaml.

GitHub Actions and GitLab CI render the same `PipelineContext`, so a default, a derived name
or a check lives here and nowhere else; the templates only place these values in YAML.
User commands (`ci.test`, `ci.train`, `ci.deploy`) are carried as data: the templates put them
in environment variables and the shell runs `bash -c "$VAR"`, never splicing their text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from mlgit.config import Config

PROVIDERS = ("github", "gitlab")
DEFAULTS = {
    "python": "3.11",
    "train": "dvc repro",
    "default_branch": "main",
    "runner": "ubuntu-latest",
}
STRING_KEYS = (
    "python",
    "install",
    "test",
    "train",
    "deploy",
    "schedule",
    "monitor_schedule",
    "monitor_data",
    "default_branch",
    "branch",
    "runner",
    "image",
    "promote_on_merge",
)
BOOL_KEYS = ("public_remote", "deploy_unverified")
# deploy placeholders -> the environment variables the CD job sets (values never reach the
# script text: the command refers to them and the shell expands them at run time)
PLACEHOLDERS = {"model": "MLGIT_MODEL", "version": "MLGIT_VERSION", "stage": "MLGIT_STAGE"}
# GitHub's documented cron ranges: minute, hour, day of month, month, day of week
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31),
                ("month", 1, 12), ("day of week", 0, 6))  # fmt: skip
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_CRON_ITEM = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]+$")


@dataclass(frozen=True)
class ModelJob:
    """One model as the pipelines see it: its name, and what a new version changes."""

    name: str
    metrics: str | None
    watch: tuple[str, ...]  # files whose change on the default branch means a new version
    gated: bool = True  # it has gates and a metrics file: the pipelines run `mlgit gate` on it


@dataclass(frozen=True)
class PipelineContext:
    version: str  # mlgit's, written in every header
    config_file: str  # as the header names it
    providers: tuple[str, ...]
    python: str
    install: str
    test: str | None
    train: str
    deploy: str | None  # placeholders replaced by "$MLGIT_MODEL" etc.
    schedule: str | None
    monitor_schedule: str | None
    monitor_data: str | None
    monitor_model: str | None
    default_branch: str
    runner: str
    gitlab_tags: tuple[str, ...]
    image: str
    public_remote: bool
    promote_on_merge: str | None
    deploy_unverified: bool
    models: tuple[ModelJob, ...]
    stages: tuple[str, ...]
    rollback_stage: str  # the last stage: production, where a rollback acts


def build(cfg: Config) -> PipelineContext:
    """The context for `cfg`; MlgitError (exit 2) naming mlgit.yaml and the key when a value
    cannot make a working pipeline."""
    from mlgit import __version__

    ci = cfg.ci
    where = cfg.file.name
    if not isinstance(ci, dict):
        raise MlgitError(f"{where}: ci: expected a mapping, got {type(ci).__name__}")
    for key in STRING_KEYS:
        if key in ci and ci[key] is not None and not isinstance(ci[key], str):
            raise MlgitError(
                f"{where}: ci.{key}: expected a string, got {_kind(ci[key])}; write it as "
                f'one line, e.g. {key}: "..."'
            )
    for key in BOOL_KEYS:
        if key in ci and not isinstance(ci[key], bool):
            raise MlgitError(f"{where}: ci.{key}: expected true or false, got {_kind(ci[key])}")
    providers = _providers(ci.get("providers", list(PROVIDERS)), where)
    for name in cfg.models:
        _tag_safe(name, f"{where}: models.{name}", "model")
    for stage in cfg.stages:
        _tag_safe(stage, f"{where}: stages", "stage")
    python = ci.get("python") or DEFAULTS["python"]
    if not re.fullmatch(r"3\.[0-9]+", python):
        raise MlgitError(f'{where}: ci.python: {python!r} is not a Python version like "3.11"')
    branch = ci.get("default_branch") or ci.get("branch") or DEFAULTS["default_branch"]
    if not _BRANCH.match(branch) or ".." in branch or branch.startswith(("-", "/")):
        raise MlgitError(f"{where}: ci.default_branch: {branch!r} is not a git branch name")
    promote = ci.get("promote_on_merge")
    if promote is not None and promote not in cfg.stages:
        raise MlgitError(
            f"{where}: ci.promote_on_merge: {promote!r} is not a stage "
            f"(stages: {', '.join(cfg.stages)})"
        )
    commands = {k: _command(ci.get(k), f"{where}: ci.{k}") for k in ("install", "test", "train")}
    deploy = _command(ci.get("deploy"), f"{where}: ci.deploy")
    runner = ci.get("runner") or DEFAULTS["runner"]
    return PipelineContext(
        version=__version__,
        config_file=where,
        providers=providers,
        python=python,
        install=commands["install"] or f"python -m pip install mlgit=={__version__}",
        test=commands["test"],
        train=commands["train"] or DEFAULTS["train"],
        deploy=_placeholders(deploy, where) if deploy else None,
        schedule=_cron(ci.get("schedule"), f"{where}: ci.schedule"),
        monitor_schedule=_cron(ci.get("monitor_schedule"), f"{where}: ci.monitor_schedule"),
        monitor_data=_command(ci.get("monitor_data"), f"{where}: ci.monitor_data"),
        monitor_model=_monitor_model(cfg),
        default_branch=branch,
        runner=runner,
        gitlab_tags=(runner,) if ci.get("runner") else (),
        image=ci.get("image") or f"python:{python}",
        public_remote=bool(ci.get("public_remote", False)),
        promote_on_merge=promote,
        deploy_unverified=bool(ci.get("deploy_unverified", False)),
        models=tuple(
            ModelJob(
                m.name,
                m.metrics,
                tuple(p for p in ("dvc.lock", m.metrics) if p),
                gated=bool(m.gates and m.metrics),
            )
            for m in cfg.models.values()
        ),
        stages=tuple(cfg.stages),
        rollback_stage=cfg.stages[-1],
    )


def _kind(value: Any) -> str:
    names = {list: "a list", dict: "a mapping", bool: "a boolean", type(None): "nothing"}
    return names.get(type(value), f"a {type(value).__name__}")


def _providers(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):  # `providers: github` is one provider
        value = [value]
    if value == []:
        raise MlgitError(f"{where}: ci.providers is empty; name github, gitlab or both")
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise MlgitError(f"{where}: ci.providers: expected a list such as [github, gitlab]")
    for name in value:
        check_provider(name, f"{where}: ci.providers")
    return tuple(dict.fromkeys(value))


def check_provider(name: str, where: str) -> None:
    if name not in PROVIDERS:
        from mlgit.documents import did_you_mean

        raise MlgitError(
            f"{where}: unknown provider {name!r}{did_you_mean(name, list(PROVIDERS))} "
            f"(providers: {', '.join(PROVIDERS)})"
        )


def _tag_safe(name: str, where: str, what: str) -> None:
    """Model and stage names become git tags (MODEL#STAGE#N): refuse what cannot be one."""
    from mlgit.models.registry.tags import ARTIFACT_RE, STAGE_RE

    pattern = ARTIFACT_RE if what == "model" else STAGE_RE
    if not pattern.match(name):
        raise MlgitError(
            f"{where}: {what} name {name!r} cannot be part of a registry tag; use lowercase "
            "letters, digits, '-' and '_'"
        )


def _command(value: str | None, where: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        raise MlgitError(f"{where}: empty; give a command or remove the key")
    if "${{" in text:  # GitHub would evaluate it as an expression inside `env:`
        raise MlgitError(f"{where}: contains '${{{{'; GitHub would evaluate it; remove it")
    if "\x00" in text:
        raise MlgitError(f"{where}: contains a NUL character; remove it")
    return text


def _placeholders(command: str, where: str) -> str:
    """`./deploy.sh {model}` -> `./deploy.sh "$MLGIT_MODEL"`: the value stays in the
    environment; the shell expands it as one word at run time."""

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            raise MlgitError(
                f"{where}: ci.deploy: unknown placeholder {{{name}}} "
                f"(placeholders: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
            )
        return f'"${PLACEHOLDERS[name]}"'

    return re.sub(r"\{([A-Za-z_]+)\}", swap, command)


def _monitor_model(cfg: Config) -> str | None:
    named = (cfg.monitor or {}).get("model")
    if named:
        return str(named)
    return next(iter(cfg.models)) if len(cfg.models) == 1 else None


def _cron(value: str | None, where: str) -> str | None:
    """A five-field cron line in GitHub's documented syntax (`*`, `,`, `-`, `/`, month and
    day names), also valid for GitLab; runs no more often than every 5 minutes (GitHub's
    shortest interval)."""
    if value is None:
        return None
    fields = value.split()
    if len(fields) != 5:
        raise MlgitError(
            f"{where}: {value!r} is not a cron expression: it needs 5 fields (minute hour "
            f'day-of-month month day-of-week), got {len(fields)}; e.g. "0 3 * * 1"'
        )
    minutes: set[int] = set()
    for text, (name, low, high) in zip(fields, _CRON_FIELDS, strict=True):
        values = _cron_field(text.lower(), name, low, high, where, value)
        if name == "minute":
            minutes = values
    ordered = sorted(minutes)
    gaps = [b - a for a, b in zip(ordered, [*ordered[1:], ordered[0] + 60], strict=True)]
    if min(gaps) < 5:
        raise MlgitError(f"{where}: {value!r} runs more often than every 5 minutes; GitHub's "
                         "shortest schedule is */5")  # fmt: skip
    return " ".join(fields)


def _cron_field(text: str, name: str, low: int, high: int, where: str, line: str) -> set[int]:
    names = _MONTHS if name == "month" else _DAYS if name == "day of week" else []
    values: set[int] = set()

    def number(word: str) -> int:
        if word in names:
            return names.index(word) + (1 if name == "month" else 0)
        if not word.isdigit() or not low <= int(word) <= high:
            raise MlgitError(
                f"{where}: {line!r}: {name} {word!r} is not in {low}-{high}; fix the cron line"
            )
        return int(word)

    for item in text.split(","):
        match = _CRON_ITEM.match(item)
        if not match:
            raise MlgitError(f"{where}: {line!r}: {name} {item!r} is not valid cron syntax")
        span, step = match.groups()
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (number(w) for w in span.split("-"))
        else:
            first = last = number(span)
        if first > last or (step is not None and int(step) == 0):
            raise MlgitError(f"{where}: {line!r}: {name} {item!r} is an empty range")
        if step is not None and span != "*" and "-" not in span:
            last = high  # "5/15" means from 5 to the end, every 15
        values.update(range(first, last + 1, int(step or 1)))
    return values
