"""The registry laid out: models, versions and stages (`mlgit registry`), the audit trail
(`--history`), and what one register/promote/rollback/deprecate/unassign did."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlgit.report import FAIL, OK, WARN, Report, Table, gates

if TYPE_CHECKING:
    from mlgit.models.registry.operations import RegistryChange
    from mlgit.models.registry.state import ArtifactState, Event, RegistryState

# (model, version) -> the last `mlgit reproduce` verdict (JSON), from refs/notes/mlgit
Reproductions = dict[tuple[str, str], dict]


# ---------------------------------------------------------------- mlgit registry
def _model_json(
    art: ArtifactState, versions: bool, history: bool, reproductions: Reproductions
) -> dict:
    """One model; its versions listed when asked for (`mlgit registry MODEL`, `--history`),
    as `gto show` lists them only for one artifact: the overview stays small at 10,000 tags."""
    latest = art.latest
    data: dict = {
        "latest": latest.version if latest else None,
        "deprecated": art.deprecated,
        "stages": {stage: info.version for stage, info in art.shown_stages.items()},
        "version_count": sum(1 for v in art.versions if v.registered and v.active),
    }
    if versions:
        data["versions"] = [
            {
                "version": v.version,
                "commit": v.commit,
                "registered": v.registered,
                "active": v.active,
                "created": v.created or None,
                "tag": v.tag or None,
                "stages": sorted(
                    s for s, held in art.shown_stages.items() if held.version == v.version
                ),
            }
            for v in art.versions
        ]
        if history:
            for entry in data["versions"]:
                entry["reproduction"] = reproductions.get((art.name, entry["version"]))
    if history:
        data["history"] = [_event_json(e) for e in art.events]
    return data


def _event_json(event: Event) -> dict:
    prov = event.provenance or {}
    return {
        "tag": event.tag,
        "action": event.action,
        "version": event.version,
        "stage": event.stage,
        "counter": event.counter,
        "commit": event.commit,
        "created": event.created,
        "author": event.author,
        "reason": prov.get("reason"),
        "forced": bool(prov.get("forced", False)),
        "provenance": event.provenance,
    }


def _stage_columns(artifacts: dict[str, ArtifactState], order: Sequence[str]) -> list[str]:
    """The stages in use, in the order mlgit.yaml declares them; undeclared ones after."""
    used = {s for art in artifacts.values() for s in art.shown_stages}
    return [s for s in order if s in used] + sorted(used - set(order))


def state_report(
    state: RegistryState,
    model: str | None,
    history: bool,
    stage_order: Sequence[str] = (),
    notes: Sequence[str] = (),
    reproductions: Reproductions | None = None,
) -> Report:
    """`stage_order`: the `stages:` of mlgit.yaml; `notes`: said before the tag warnings;
    `reproductions`: the verdicts of `mlgit reproduce` (with `history`)."""
    reproductions = reproductions or {}
    artifacts = {
        name: art for name, art in state.artifacts.items() if model is None or name == model
    }
    if model is not None and model not in artifacts:
        artifacts[model] = state.artifact(model)  # declared in mlgit.yaml, no tags yet
    stages = _stage_columns(artifacts, stage_order)
    models_table = Table(
        "Models",
        ("model", "latest", *stages, "versions", "deprecated"),
        tuple(
            (
                name,
                art.latest.version if art.latest else None,
                *(art.shown_stages[s].version if s in art.shown_stages else None for s in stages),
                sum(1 for v in art.versions if v.registered and v.active),
                "yes" if art.deprecated else "",
            )
            for name, art in artifacts.items()
        ),
    )
    tables = [models_table]
    if history:
        events = sorted(
            (e for art in artifacts.values() for e in art.events),
            key=lambda e: (e.timestamp, e.counter or -1),
        )
        tables.append(
            Table(
                "History",
                ("time", "tag", "action", "version", "stage", "author", "reason"),
                tuple(
                    (
                        e.created,
                        e.tag,
                        e.action,
                        e.version,
                        e.stage,
                        e.author,
                        (e.provenance or {}).get("reason"),
                    )
                    for e in events
                ),
            )
        )
        tables.append(_reproductions_table(artifacts, reproductions))
    notes = (*notes, *(f"warning: tag {p.tag!r}: {p.problem}" for p in state.problems))
    shown = f"model {model}" if model else f"{len(artifacts)} model(s)"
    return Report(
        command="registry",
        title="Registry",
        status=WARN if state.problems or notes else OK,
        summary=f"{shown} in git tags"
        + (f"; {len(state.problems)} tag(s) need attention" if state.problems else ""),
        tables=tuple(tables),
        notes=notes,
        data={
            "schema_version": 1,
            "kind": "registry",
            "models": {
                name: _model_json(art, model is not None or history, history, reproductions)
                for name, art in artifacts.items()
            },
            "warnings": [{"tag": p.tag, "problem": p.problem} for p in state.problems],
        },
    )


def _reproductions_table(
    artifacts: dict[str, ArtifactState], reproductions: Reproductions
) -> Table:
    rows, status = [], []
    for name, art in artifacts.items():
        for v in art.versions:
            found = reproductions.get((name, v.version))
            if found is None:
                continue
            ok = bool(found.get("reproduced"))
            differing = ", ".join(found.get("differing") or []) or found.get("error") or ""
            verdict = "reproduced" if ok else "not reproduced"
            rows.append((name, v.version, found.get("checked_at"), verdict, differing))
            status.append(OK if ok else FAIL)
    return Table(
        "Reproductions (mlgit reproduce)",
        ("model", "version", "checked", "verdict", "differing"),
        tuple(rows),
        tuple(status),
    )


# ---------------------------------------------------------------- one change
def change_report(change: RegistryChange) -> Report:
    from mlgit.models.gates import gate_json  # `mlgit registry` lays out no gates: start fast

    what = change.action
    target = f"{change.artifact} {change.version or ''}".strip()
    if change.refused:
        summary = f"refused to {what} {target}" + (f" to {change.stage}" if change.stage else "")
        summary += "; no tag was created"
    else:
        where = f" -> {change.stage}" if change.stage else ""
        was = f" (was {change.previous})" if change.previous else ""
        summary = f"{what} {target}{where}{was}: {len(change.tags)} tag(s) created"
        if change.forced:
            summary += f" (forced: {change.reason})"
    tables = []
    if change.gates is not None:
        tables.append(gates.table(change.gates))
    if change.tags:
        tables.append(Table("Tags", ("tag",), tuple((t,) for t in change.tags)))
    notes = [f"refused: {why}" for why in change.refused]
    if change.gates is not None:
        notes += list(change.gates.notes)
    if change.action == "promote" and change.tags and not (change.gates and change.gates.results):
        notes.append(
            f"{change.artifact} has no gates: promoted without checking any metric; add "
            f"them under models.{change.artifact}.gates in mlgit.yaml"
        )
    if change.tags and change.remote is None:
        notes.append(f"local only; publish with: {change.retry_push()}")
    elif change.remote and change.push_error is None:
        notes.append(f"pushed to {change.remote}")
    return Report(
        command=what,
        title=f"{what.capitalize()}: {change.artifact}",
        status=FAIL if change.refused else OK,
        summary=summary,
        tables=tuple(tables),
        notes=tuple(notes),
        data={
            "schema_version": 1,
            "kind": "change",
            "action": what,
            "model": change.artifact,
            "version": change.version,
            "stage": change.stage,
            "commit": change.commit,
            "previous": change.previous,
            "ok": change.ok,
            "tags": list(change.tags),
            "refused": list(change.refused),
            "forced": change.forced,
            "reason": change.reason,
            "gates": [gate_json(r) for r in change.gates.results] if change.gates else None,
            "push": None
            if change.remote is None
            else {
                "remote": change.remote,
                "ok": change.push_error is None,
                "error": change.push_error,
                "retry": change.retry_push(),
            },
        },
    )
