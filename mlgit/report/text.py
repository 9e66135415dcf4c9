"""Text for a terminal (rich): a headline, one table per section, notes."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable

from mlgit.escape import printable
from mlgit.report.tables import Report
from mlgit.status import FAIL, OK, SKIP, WARN

_STYLE = {OK: "green", WARN: "yellow", FAIL: "bold red", SKIP: "dim"}
_MARK = {OK: "✓", WARN: "!", FAIL: "✗", SKIP: "-"}
_PROSE_FLOOR = 10  # a column of sentences is not folded narrower than this to keep a tag


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
        headers = [printable(column) for column in table.columns]
        texts = [[_cell(v) for v in row] for row in table.rows]
        if table.status:
            headers.insert(0, "")
            texts = [[_MARK.get(s, ""), *r] for s, r in zip(table.status, texts, strict=True)]
        # the table's frame: one space each side of every cell, a rule between two columns
        frame = 3 * len(headers) - 1
        widths = _widths(headers, texts, console.width - frame)
        for index, header in enumerate(headers):
            width = widths[index] if widths else None
            rich_table.add_column(Text(header), overflow="fold", width=width)
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


def _widths(headers: list[str], rows: list[list[str]], room: int) -> list[int] | None:
    """The text width of every column so that the table fits in `room` cells and no word is
    cut: None when every cell fits on one line (rich lays the table out as it is). Otherwise
    each column gets its longest word, then the space left raises the narrowest columns
    first up to their longest line, so short columns stay on one line and long texts wrap
    between words. When even the longest words cannot all fit, the longest words of prose
    columns (cells of several words) are folded first, down to _PROSE_FLOOR, then the longest
    words of any column: tags, versions and times are the last to be cut. (rich alone
    shrinks the widest columns first and cuts tags such as `name@v1.0.0` in two.)"""
    from rich.cells import cell_len

    columns = [[header, *(row[i] for row in rows)] for i, header in enumerate(headers)]
    most = [
        max(1, max((cell_len(line) for c in col for line in c.splitlines()), default=0))
        for col in columns
    ]
    if sum(most) <= room:
        return None
    words = [max((cell_len(w) for c in col for w in c.split()), default=0) for col in columns]
    least = [max(1, min(n, m)) for n, m in zip(words, most, strict=True)]
    if sum(least) > room:  # words too long for the room: fold some, prose first
        prose = [any(len(c.split()) > 1 for c in col[1:]) for col in columns]
        floor = [min(n, _PROSE_FLOOR) if p else n for n, p in zip(least, prose, strict=True)]
        if sum(floor) <= room:
            cap = _highest(
                lambda c: sum(max(f, min(n, c)) for n, f in zip(least, floor, strict=True)) <= room,
                max(least),
            )
            capped = [max(f, min(n, cap)) for n, f in zip(least, floor, strict=True)]
        else:
            cap = _highest(lambda c: sum(min(n, c) for n in floor) <= room, max(floor))
            capped = [min(n, cap) for n in floor]
        # a column cut at the cap may take one more cell from what the cap leaves over
        most, least = [n + (n < m) for n, m in zip(capped, least, strict=True)], capped
    # raise the narrow columns to a common level (each within its range) while the table fits
    level = _highest(
        lambda c: sum(min(m, max(n, c)) for n, m in zip(least, most, strict=True)) <= room,
        max(most),
    )
    widths = [min(m, max(n, level)) for n, m in zip(least, most, strict=True)]
    for i in sorted(range(len(widths)), key=lambda i: widths[i]):  # what rounding left over
        if sum(widths) < room and widths[i] < most[i]:
            widths[i] += 1
    return widths


def _highest(fits: Callable[[int], bool], top: int) -> int:
    """The highest n in 1..top with fits(n) (fits is monotone), or 1 when none fits."""
    low, high = 1, top
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return low


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return printable(str(value))
