"""The progress bar of long scans (validate, profile): on stderr, only on a terminal, only when
the data takes time."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

ProgressFactory = Callable[[str, int | None], Callable[[int], None]]

PROGRESS_AFTER = 2.0  # seconds: a scan that ends sooner never shows a bar


@contextlib.contextmanager
def progress_bar(after: float | None = None) -> Iterator[ProgressFactory | None]:
    """A rich progress bar on stderr, only when stderr is a terminal and the data takes time.

    The bar appears at the first batch read `after` seconds (default PROGRESS_AFTER) into the
    run, so validating small data prints nothing; it is transient, so the report stays clean.
    """
    if not sys.stderr.isatty():
        yield None
        return
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("validating {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    bar = Progress(*columns, console=Console(stderr=True), transient=True)
    show_at = time.monotonic() + (PROGRESS_AFTER if after is None else after)
    started = False

    def factory(name: str, total: int | None) -> Callable[[int], None]:
        task = bar.add_task(name, total=total)

        def tick(rows: int) -> None:
            nonlocal started
            bar.advance(task, rows)
            if not started and time.monotonic() >= show_at:
                bar.start()
                started = True

        return tick

    try:
        yield factory
    finally:
        if started:
            bar.stop()
