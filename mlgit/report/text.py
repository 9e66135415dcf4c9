"""Text for a terminal (rich): a headline, one table per section, notes."""

from __future__ import annotations

import io
import shutil

from mlgit.escape import printable
from mlgit.report.tables import Report
from mlgit.status import FAIL, OK, SKIP, WARN

_STYLE = {OK: "green", WARN: "yellow", FAIL: "bold red", SKIP: "dim"}
_MARK = {OK: "✓", WARN: "!", FAIL: "✗", SKIP: "-"}


def render(report: Report, color: bool) -> str:
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=shutil.get_terminal_size((120, 24)).columns if color else 120,  # 120 in logs
        highlight=False,
        soft_wrap=False,
    )
    headline = f"{_MARK.get(report.status, '')} {printable(report.title)}"
    summary = f": {printable(report.summary)}"
    console.print(Text.assemble((headline, _STYLE.get(report.status, "")), summary))
    for table in report.tables:
        title = Text(printable(table.title)) if table.title else None
        rich_table = RichTable(title=title, title_justify="left", show_edge=False)
        if table.status:
            rich_table.add_column("")
        for column in table.columns:
            rich_table.add_column(Text(printable(column)), overflow="fold")
        for index, row in enumerate(table.rows):
            cells = [Text(_cell(v)) for v in row]  # as written: "[ms]" is not markup
            if table.status:
                status = table.status[index]
                rich_table.add_row(_MARK.get(status, ""), *cells, style=_STYLE.get(status))
            else:
                rich_table.add_row(*cells)
        console.print()
        console.print(rich_table)
    for note in report.notes:
        console.print(f"note: {printable(note)}", markup=False)
    return buffer.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return printable(str(value))
