"""Markdown for a pull-request comment: a headline, compact tables, linked images."""

from __future__ import annotations

from mlgit.escape import no_mentions, printable
from mlgit.report.tables import Report
from mlgit.status import FAIL, OK, SKIP, WARN

_MARK = {OK: "✅", WARN: "⚠️", FAIL: "❌", SKIP: "➖"}


def render(report: Report, color: bool = False) -> str:
    title, summary = _text(report.title), _text(report.summary)
    lines = [f"### {_MARK.get(report.status, '')} {title}", "", summary, ""]
    for table in report.tables:
        if table.title:
            lines += [f"**{_text(table.title)}**", ""]
        if not table.rows:  # the title says it all (e.g. "35 of 35 checks passed")
            continue
        columns = ([""] if table.status else []) + [_cell(c) for c in table.columns]
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "---|" * len(columns))
        for index, row in enumerate(table.rows):
            cells = [_cell(v) for v in row]
            if table.status:
                cells.insert(0, _MARK.get(table.status[index], ""))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    for caption, path in report.images:
        lines += [f"![{_cell(caption)}]({_cell(path)})", ""]
    for note in report.notes:
        lines.append(f"> {_text(note)}")
    return "\n".join(lines).rstrip("\n") + "\n"


_MARKUP = str.maketrans(
    {"|": "\\|", "\n": " ", "<": "&lt;", ">": "&gt;", "&": "&amp;", "*": "\\*", "`": "\\`"}
)


def _cell(value: object) -> str:
    """A value as text in a table cell: data never turns into HTML, bold or code on GitHub."""
    if value is None:
        return "—"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return no_mentions(printable(text, newlines=False).translate(_MARKUP))


_PROSE = str.maketrans({"<": "&lt;", ">": "&gt;", "&": "&amp;"})


def _text(value: str) -> str:
    """Headline, summary, titles and notes: prose that may quote repository content; it keeps
    its backticks (code spans name commands) but no HTML, control characters or mentions."""
    return no_mentions(printable(value, newlines=False).translate(_PROSE))
