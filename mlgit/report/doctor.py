"""The maturity scorecard laid out: one row per item (level, item, status, why, fix), the level
reached and what the next level needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgit.report import FAIL, OK, SKIP, WARN, Report, Table

if TYPE_CHECKING:
    from mlgit.commands.doctor import Scorecard

COLUMNS = ("level", "item", "status", "why", "fix")
ROW_STATUS = {"pass": OK, "fail": FAIL, "n/a": SKIP}
LEVELS = {
    0: "manual",
    1: "pipeline automation (continuous training)",
    2: "CI/CD of the pipeline",
}


def as_json(card: Scorecard, min_level: int | None) -> dict:
    return {
        "schema_version": 1,
        "level": card.level,
        "level_name": LEVELS[card.level],
        "min_level": min_level,
        "ok": min_level is None or card.level >= min_level,
        "history": {"commits_asked": card.history, "commits_walked": card.commits},
        "items": [
            {
                "id": i.id,
                "level": i.level,
                "title": i.title,
                "status": i.status,
                "why": i.why,
                "fix": i.fix,
            }
            for i in card.items
        ],
    }


def as_report(card: Scorecard, min_level: int | None) -> Report:
    failing = [i for i in card.items if i.status == "fail"]
    next_level = card.level + 1
    blocking = [i for i in failing if i.level <= next_level]
    summary = f"maturity level {card.level} of 2 ({LEVELS[card.level]})"
    if blocking:
        summary += f"; {len(blocking)} item(s) to fix for level {next_level}"
    if min_level is not None:
        summary += f"; required: level {min_level}"
    below = min_level is not None and card.level < min_level
    rows = tuple((i.level, i.title, i.status, i.why, i.fix or "") for i in card.items)
    return Report(
        command="doctor",
        title="mlgit doctor",
        status=FAIL if below else WARN if failing else OK,
        summary=summary,
        tables=(
            Table("Scorecard", COLUMNS, rows, tuple(ROW_STATUS[i.status] for i in card.items)),
        ),
        notes=("level 1 needs every level-1 item, level 2 every item, to pass or be n/a",),
        data=as_json(card, min_level),
    )
