"""`mlgit reproduce` laid out: the verdict, then one row per metric the version's tag recorded
(recorded, rebuilt, difference, tolerance), and the environment the rebuild ran in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgit.report import FAIL, OK, Report, Table

if TYPE_CHECKING:
    from mlgit.models.reproduction import Verdict


def as_report(verdict: Verdict) -> Report:
    what = f"{verdict.artifact} {verdict.version} ({verdict.commit[:12]})"
    if verdict.error:
        summary = f"{what} not reproduced: {verdict.error}"
    elif verdict.reproduced:
        summary = f"{what} reproduced: {len(verdict.checks)} metric(s) within tolerance"
    else:
        names = ", ".join(c.metric for c in verdict.differing[:5])
        summary = f"{what} not reproduced: {len(verdict.differing)} metric(s) differ ({names})"
    rows = tuple(
        (c.metric, c.recorded, c.rebuilt, c.difference, c.tolerance, "ok" if c.ok else "differs")
        for c in verdict.checks
    )
    tables = (
        Table(
            f"Metrics ({verdict.metrics_file} vs tag {verdict.tag})",
            ("metric", "recorded", "rebuilt", "difference", "tolerance", "verdict"),
            rows,
            tuple(OK if c.ok else FAIL for c in verdict.checks),
        ),
        Table("Environment", ("package", "version"), tuple(verdict.environment.items())),
    )
    return Report(
        command="reproduce",
        title=f"Reproduce: {verdict.artifact} {verdict.version}",
        status=OK if verdict.reproduced else FAIL,
        summary=summary,
        tables=tables,
        notes=(
            f"verdict stored as a git note on {verdict.commit[:12]} (refs/notes/mlgit); "
            "share it with `git push origin refs/notes/mlgit`",
        ),
        data={"schema_version": 1, "kind": "reproduce", **verdict.as_json()},
    )
