"""Markdown for a pull-request comment: a headline, compact tables, linked images."""

from __future__ import annotations

from mlgit.report.tables import Report
from mlgit.status import FAIL, OK, SKIP, WARN

_MARK = {OK: "✅", WARN: "⚠️", FAIL: "❌", SKIP: "➖"}


def render(report: Report, color: bool = False) -> str:
    lines = [f"### {_MARK.get(report.status, '')} {report.title}", "", report.summary, ""]
    for table in report.tables:
        if table.title:
            lines += [f"**{table.title}**", ""]
        if not table.rows:  # the title says it all (e.g. "35 of 35 checks passed")
            continue
        columns = ([""] if table.status else []) + list(table.columns)
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "---|" * len(columns))
        for index, row in enumerate(table.rows):
            cells = [_cell(v) for v in row]
            if table.status:
                cells.insert(0, _MARK.get(table.status[index], ""))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    for caption, path in report.images:
        lines += [f"![{caption}]({path})", ""]
    for note in report.notes:
        lines.append(f"> {note}")
    return "\n".join(lines).rstrip("\n") + "\n"


_MARKUP = str.maketrans(
    {"|": "\\|", "\n": " ", "<": "&lt;", ">": "&gt;", "&": "&amp;", "*": "\\*", "`": "\\`"}
)


def _cell(value: object) -> str:
    """A value as text in a table cell: data never turns into HTML, bold or code on GitHub."""
    if value is None:
        return "—"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text.translate(_MARKUP)
