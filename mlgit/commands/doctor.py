"""`mlgit doctor`: how mature is this project, and what to do next.

A scorecard against the MLOps maturity levels (0: manual; 1: pipeline automation with continuous
training; 2: CI/CD of the pipeline). Each item is pass, fail or n/a (not applicable), with why
and the exact command (or mlgit.yaml edit) that fixes it. The project is at the highest level
whose items, and those of every level below, have no fail.

Level 1 (pipeline automation, continuous training):
  data.tracked     every dataset in mlgit.yaml is tracked by DVC (a .dvc file or a dvc.lock output)
  data.history     no large data in git: no file above 5 MB or with a data/model extension in
                   the trees of the last N commits (`--history N`, the rules of check-large-files)
  dvc.remote       a DVC remote is configured
  dvc.pushed       every tracked output is in the remote (`dvc status --cloud`; "deleted" there
                   means in the remote only, i.e. not pulled, which is fine)
  schemas          a schema file for every dataset
  gates.thresholds, gates.deployed (max_drop/max_rise vs a stage), gates.fairness (max_gap),
  gates.baseline   (min_lift, n/a while mlgit.yaml has no such gate field): gates per model
  registry         the model registry is in use (any GTO tag)
  ct.schedule, ct.new_data, ct.on_demand
                   the generated CT pipeline is there (with ci.schedule for the schedule)
Level 2 (CI/CD of the pipeline):
  pipelines        the generated pipelines are in sync with mlgit.yaml (`mlgit ci generate --check`)
  ct.monitor       the generated monitor pipeline runs on ci.monitor_schedule (it asks CT to
                   retrain; it belongs here because it needs the monitor)
  monitor          `monitor:` names a model and data (monitor.dataset or ci.monitor_data)
  hooks            .pre-commit-config.yaml has mlgit's hooks and they are installed in .git/hooks
  profiles         a reference profile for every dataset (what drift compares with)

Fast by design: no data is read. Files are checked for presence, git answers with two
processes, and `dvc status --cloud` runs in the background while the rest is checked.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from mlgit.config import Config, Model
    from mlgit.report.tables import Report

PASS, FAIL, NA = "pass", "fail", "n/a"
MAX_LEVEL = 2
DEFAULT_HISTORY = 50
CT_FILES = (".github/workflows/mlgit-ct.yml", ".gitlab-ci.yml")
MONITOR_FILES = (".github/workflows/mlgit-monitor.yml", ".gitlab-ci.yml")
SHOWN = 3  # names listed in a why before "and N more"


@dataclass(frozen=True)
class Item:
    id: str
    level: int  # the first level that needs it
    title: str
    status: str  # pass | fail | n/a
    why: str
    fix: str | None = None  # the command (or mlgit.yaml edit) that makes it pass


@dataclass(frozen=True)
class Scorecard:
    root: Path
    items: tuple[Item, ...]
    history: int  # commits asked for
    commits: int  # commits walked

    @property
    def level(self) -> int:
        for level in range(1, MAX_LEVEL + 1):
            if any(i.status == FAIL and i.level <= level for i in self.items):
                return level - 1
        return MAX_LEVEL


def doctor(history: int = DEFAULT_HISTORY, min_level: int | None = None) -> Report:
    from mlgit.report.doctor import as_report

    return as_report(scorecard(history), min_level)


def scorecard(history: int = DEFAULT_HISTORY, start: Path | None = None) -> Scorecard:
    from mlgit.config import find_config, load
    from mlgit.repo import dvc

    if history < 1:
        raise MlgitError(f"--history {history}: give a number of commits of 1 or more")
    cfg = load(find_config(start))
    root = cfg.root
    # the slowest check (DVC starts, then asks the remote) runs while the others are done
    cloud = dvc.start_cloud_status(root) if dvc.has_remote(root) else None
    commits, history_item = _history(root, history)
    items = [
        _tracked(cfg),
        history_item,
        _remote(root),
        _pushed(cloud),
        _schemas(cfg),
        *_gates(cfg),
        _registry(cfg),
        *_triggers(cfg),
        _pipelines(cfg),
        _monitor(cfg),
        _hooks(root),
        _profiles(cfg),
    ]
    return Scorecard(root, tuple(sorted(items, key=lambda i: i.level)), history, commits)


# ---------------------------------------------------------------- data
def _listed(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def _joined(commands: list[str]) -> str:
    return " && ".join(commands[:SHOWN])


def _is_tracked(root: Path, path: str) -> bool:
    from mlgit.repo.dvc import lock_outputs

    return (root / f"{path}.dvc").exists() or Path(path).as_posix() in lock_outputs(root)


def _tracked(cfg: Config) -> Item:
    title = "data tracked by DVC"
    if not cfg.datasets:
        return Item("data.tracked", 1, title, FAIL, f"no datasets in {cfg.file.name}",
                    "mlgit track data/FILE")  # fmt: skip
    untracked = [d for d in cfg.datasets.values() if not _is_tracked(cfg.root, d.path)]
    if untracked:
        why = f"not tracked by DVC: {_listed([d.path for d in untracked])}"
        fix = _joined([f"mlgit track {shlex.quote(d.path)} --name {d.name}" for d in untracked])
        return Item("data.tracked", 1, title, FAIL, why, fix)
    return Item("data.tracked", 1, title, PASS, f"{len(cfg.datasets)} dataset(s) tracked")


def _history(root: Path, history: int) -> tuple[int, Item]:
    from mlgit.commands.no_large_data import (
        DEFAULT_MAX_SIZE,
        Refusal,
        data_extension,
        human_size,
        parse_size,
    )
    from mlgit.repo.git import history_blobs

    title = f"no large data in git (last {history} commits)"
    commits, blobs = history_blobs(root, history)
    if commits == 0:
        return 0, Item("data.history", 1, title, NA, "no commits yet")
    limit = parse_size(DEFAULT_MAX_SIZE)
    found: dict[str, str] = {}
    for blob in blobs:
        extension = data_extension(blob.path)
        if extension is not None:
            found.setdefault(blob.path, f"a .{extension} file")
        elif blob.size > limit:
            found.setdefault(blob.path, human_size(blob.size))
    if not found:
        return commits, Item("data.history", 1, title, PASS,
                             f"no file above {DEFAULT_MAX_SIZE} or with a data extension in "
                             f"{commits} commit(s)")  # fmt: skip
    paths = sorted(found)
    why = (
        f"git holds data in {commits} commit(s): "
        + _listed([f"{p} ({found[p]})" for p in paths])
        + "; old copies stay in history until it is rewritten (e.g. git filter-repo)"
    )
    fix = _joined([Refusal(path=p, size=0, reason="").fix for p in paths])
    return commits, Item("data.history", 1, title, FAIL, why, fix)


def _remote(root: Path) -> Item:
    from mlgit.repo.dvc import has_remote

    title = "a DVC remote"
    if has_remote(root):
        return Item("dvc.remote", 1, title, PASS, "a remote is configured in .dvc/config")
    return Item("dvc.remote", 1, title, FAIL, "no DVC remote: data exists only on this machine",
                "dvc remote add -d storage URL")  # fmt: skip


def _pushed(cloud: Callable[[], dict[str, str]] | None) -> Item:
    title = "every tracked output pushed"
    if cloud is None:
        return Item("dvc.pushed", 1, title, NA, "no DVC remote to push to")
    try:
        states = cloud()
    except MlgitError as exc:
        return Item("dvc.pushed", 1, title, FAIL, str(exc), "dvc remote list && dvc push")
    not_pushed = sorted(p for p, s in states.items() if s in ("new", "modified"))
    lost = sorted(p for p, s in states.items() if s == "missing")
    not_pulled = sorted(p for p, s in states.items() if s == "deleted")
    pulled_note = f"; in the remote only (not pulled): {_listed(not_pulled)}" if not_pulled else ""
    if lost:
        why = f"in neither the cache nor the remote: {_listed(lost)}{pulled_note}"
        return Item("dvc.pushed", 1, title, FAIL, why, "dvc repro && dvc push")
    if not_pushed:
        why = f"not pushed (in the local cache only): {_listed(not_pushed)}{pulled_note}"
        return Item("dvc.pushed", 1, title, FAIL, why, "dvc push")
    return Item("dvc.pushed", 1, title, PASS, "every tracked output is in the remote" + pulled_note)


def _schemas(cfg: Config) -> Item:
    title = "a schema per dataset"
    if not cfg.datasets:
        return Item("schemas", 1, title, NA, "no datasets")
    missing = [
        d for d in cfg.datasets.values() if not d.schema or not (cfg.root / d.schema).exists()
    ]
    if missing:
        why = f"no schema file: {_listed([d.name for d in missing])}"
        fix = _joined([f"mlgit track {shlex.quote(d.path)} --name {d.name}" for d in missing])
        return Item("schemas", 1, title, FAIL, why + " (track infers one)", fix)
    return Item("schemas", 1, title, PASS, f"{len(cfg.datasets)} dataset(s) with a schema")


def _profiles(cfg: Config) -> Item:
    title = "a reference profile per dataset"
    if not cfg.datasets:
        return Item("profiles", 2, title, NA, "no datasets")
    missing = [
        d for d in cfg.datasets.values() if not d.reference or not (cfg.root / d.reference).exists()
    ]
    if missing:
        fixes = [
            f"mlgit profile {d.name}" if d.reference
            else f"mlgit profile {d.name} -o profiles/{d.name}.json "
            f"(and set datasets.{d.name}.reference: profiles/{d.name}.json)"
            for d in missing
        ]  # fmt: skip
        why = f"no reference profile for drift: {_listed([d.name for d in missing])}"
        return Item("profiles", 2, title, FAIL, why, _joined(fixes))
    return Item("profiles", 2, title, PASS, f"{len(cfg.datasets)} dataset(s) with a profile")


# ---------------------------------------------------------------- models
GATE_KINDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    # id: (title, Gate fields that make one, the gate to add)
    "gates.thresholds": (
        "a threshold gate per model", ("min", "max"), "{metric: roc_auc, min: 0.8}",
    ),
    "gates.deployed": (
        "a comparison with the deployed version", ("max_drop", "max_rise"),
        "{metric: roc_auc, max_drop: 0.01, baseline: prod}",
    ),
    "gates.fairness": (
        "a fairness gap gate", ("max_gap",), "{metric: slices.sex.accuracy, max_gap: 0.05}",
    ),
    "gates.baseline": (
        "a gate against a trivial baseline", ("min_lift",),
        "{metric: roc_auc, min_lift: 0.05, baseline: dummy}",
    ),
}  # fmt: skip


def _has_gate(model: Model, keys: tuple[str, ...]) -> bool:
    return any(getattr(g, key, None) is not None for g in model.gates for key in keys)


def _gates(cfg: Config) -> list[Item]:
    from mlgit.config import Gate

    known = {f.name for f in fields(Gate)}
    items = []
    for item_id, (title, keys, example) in GATE_KINDS.items():
        if not known.intersection(keys):
            why = f"this mlgit has no {'/'.join(keys)} gate"
            items.append(Item(item_id, 1, title, NA, why))
        elif not cfg.models:
            fix = f"add under models.NAME.gates in {cfg.file.name}: - {example}"
            items.append(Item(item_id, 1, title, FAIL, f"no models in {cfg.file.name}", fix))
        elif without := [m.name for m in cfg.models.values() if not _has_gate(m, keys)]:
            why = f"no {'/'.join(keys)} gate: {_listed(without)}"
            fix = f"add under models.{without[0]}.gates in {cfg.file.name}: - {example}"
            items.append(Item(item_id, 1, title, FAIL, why, fix))
        else:
            items.append(Item(item_id, 1, title, PASS, f"{len(cfg.models)} model(s) gated"))
    return items


def _registry(cfg: Config) -> Item:
    from mlgit.models.registry.state import read_state

    title = "the model registry in use"
    artifacts = sorted(read_state(cfg.root).artifacts)
    if artifacts:
        return Item("registry", 1, title, PASS, f"registry tags for {_listed(artifacts)}")
    model = next(iter(cfg.models), "MODEL")
    return Item("registry", 1, title, FAIL, "no registry tags (name@vX.Y.Z, name#stage#N)",
                f"mlgit register {model}")  # fmt: skip


# ---------------------------------------------------------------- pipelines
def _generated(root: Path, paths: tuple[str, ...]) -> list[str]:
    from mlgit.ci.render import HEADER_MARK

    found = []
    for rel in paths:
        path = root / rel
        if path.is_file():
            with path.open("r", encoding="utf-8", errors="replace") as f:
                if f.readline().startswith(HEADER_MARK):
                    found.append(rel)
    return found


def _triggers(cfg: Config) -> list[Item]:
    ct = _generated(cfg.root, CT_FILES)
    generate = "mlgit ci generate"
    where = ", ".join(ct)
    no_ct = f"no generated CT pipeline ({' or '.join(CT_FILES)})"
    items = []
    if not ct:
        items.append(Item("ct.schedule", 1, "CT trigger: schedule", FAIL, no_ct, generate))
    elif not cfg.ci.get("schedule"):
        fix = f'set ci.schedule: "0 3 * * 1" in {cfg.file.name}, then {generate}'
        items.append(Item("ct.schedule", 1, "CT trigger: schedule", FAIL, "no ci.schedule", fix))
    else:
        why = f"{where} on {cfg.ci['schedule']!r}"
        items.append(Item("ct.schedule", 1, "CT trigger: schedule", PASS, why))
    for item_id, title, what in (
        ("ct.new_data", "CT trigger: new data", "on changes to *.dvc and dvc.lock"),
        ("ct.on_demand", "CT trigger: on demand", "run by hand with a reason"),
    ):
        if ct:
            items.append(Item(item_id, 1, title, PASS, f"{where}: {what}"))
        else:
            items.append(Item(item_id, 1, title, FAIL, no_ct, generate))
    monitor = _generated(cfg.root, MONITOR_FILES)
    title = "CT trigger: monitor"
    if not monitor:
        why = f"no generated monitor pipeline ({' or '.join(MONITOR_FILES)})"
        items.append(Item("ct.monitor", 2, title, FAIL, why, generate))
    elif not cfg.ci.get("monitor_schedule"):
        why = "no ci.monitor_schedule: the monitor runs only by hand"
        fix = f'set ci.monitor_schedule: "0 4 * * *" in {cfg.file.name}, then {generate}'
        items.append(Item("ct.monitor", 2, title, FAIL, why, fix))
    else:
        why = f"{', '.join(monitor)} on {cfg.ci['monitor_schedule']!r} retrains on drift"
        items.append(Item("ct.monitor", 2, title, PASS, why))
    return items


def _pipelines(cfg: Config) -> Item:
    from mlgit.commands.ci import generate

    title = "pipelines generated and in sync"
    try:
        result = generate(check=True, config_file=cfg.file)
    except MlgitError as exc:
        return Item("pipelines", 2, title, FAIL, str(exc), "mlgit check-config")
    missing = [f.path for f in result.files if f.state == "missing"]
    stale = [f.path for f in result.files if f.state == "stale"]
    if len(missing) == len(result.files):
        return Item("pipelines", 2, title, FAIL, "no pipelines generated", "mlgit ci generate")
    if missing or stale:
        parts = ([f"stale: {_listed(stale)}"] if stale else []) + (
            [f"missing: {_listed(missing)}"] if missing else []
        )
        return Item("pipelines", 2, title, FAIL, "; ".join(parts), "mlgit ci generate")
    return Item("pipelines", 2, title, PASS, f"{len(result.files)} file(s) match {cfg.file.name}")


def _monitor(cfg: Config) -> Item:
    title = "monitor configured"
    model = cfg.monitor.get("model")
    data = cfg.monitor.get("dataset") or cfg.ci.get("monitor_data")
    if model and data:
        return Item("monitor", 2, title, PASS, f"monitor.model {model}, data {data}")
    name = model or next(iter(cfg.models), "MODEL")
    dataset = next(iter(cfg.datasets), "DATASET")
    why = "no monitor.model" if not model else "no monitor.dataset and no ci.monitor_data"
    fix = f"set in {cfg.file.name}: monitor: {{model: {name}, dataset: {dataset}}}"
    return Item("monitor", 2, title, FAIL, why, fix)


def _hooks(root: Path) -> Item:
    from mlgit.commands.init import PRE_COMMIT_FILE
    from mlgit.repo.git import git_path

    title = "pre-commit hooks installed"
    config = root / PRE_COMMIT_FILE
    text = config.read_text(encoding="utf-8", errors="replace") if config.is_file() else None
    if text is None:
        return Item("hooks", 2, title, FAIL, f"no {PRE_COMMIT_FILE}",
                    "mlgit init && pre-commit install")  # fmt: skip
    if "id: mlgit-" not in text:
        why = f"{PRE_COMMIT_FILE} has no mlgit hooks (id: mlgit-...)"
        fix = f"add the hooks `mlgit init` writes to {PRE_COMMIT_FILE}, then pre-commit install"
        return Item("hooks", 2, title, FAIL, why, fix)
    if not git_path(root, "hooks/pre-commit").is_file():
        why = f"{PRE_COMMIT_FILE} has mlgit hooks but git does not run them"
        return Item("hooks", 2, title, FAIL, why, "pre-commit install")
    return Item("hooks", 2, title, PASS, "mlgit hooks run on every commit")
