"""The monitor decision laid out: the action, its reasons, one row per signal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlgit.report import FAIL, OK, Report, Table

if TYPE_CHECKING:
    from mlgit.commands.monitor import MonitorResult



def as_json(result: MonitorResult) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "command": "monitor",
        "model": result.model,
        "dataset": result.dataset,
        "data": result.data,
        "metrics": result.metrics,
        "action": result.action,
        "reasons": list(result.reasons),
        "signals": {
            s.name: {"status": s.status, "action": s.action, "detail": s.detail, **s.data}
            for s in result.signals
        },
    }


def as_report(result: MonitorResult) -> Report:
    rows = tuple((s.name, s.status, s.action, s.detail) for s in result.signals)
    table = Table(
        "Signals",
        ("signal", "status", "action if failing", "detail"),
        rows,
        tuple(s.status for s in result.signals)  # signals speak the report vocabulary,
    )
    because = f" because {'; '.join(result.reasons)}" if result.reasons else ""
    return Report(
        command="monitor",
        title=f"Monitor {result.model}",
        status=OK if result.action == "none" else FAIL,
        summary=f"action: {result.action}{because}",
        tables=(table,),
        data=as_json(result),
    )
