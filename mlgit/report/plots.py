"""PNG plots for drift reports (matplotlib, Agg backend, imported only when plots are asked for).

One reference-vs-current histogram per drifted or warned column, and a summary bar chart of
each column's PSI with the warn/fail thresholds. Files are written atomically.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    from mlgit.data.drift import ColumnDrift, DriftResult

MAX_BARS = 20  # categorical plots show the most frequent reference categories, then the rest
_VERDICT_COLOR = {"ok": "#4c9a2a", "warn": "#e0a100", "drift": "#c62828"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def drift_plots(result: DriftResult, directory: Path) -> list[tuple[str, Path]]:
    """Write the PNGs; returns (caption, file) pairs, summary first."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MlgitError(
            f"{directory}: cannot create the plots directory ({exc.strerror})"
        ) from None
    written = [("PSI per column", _save(_summary_figure(result), directory / "drift-summary.png"))]
    for column in result.columns:
        if column.verdict in ("warn", "drift") and column.reference_counts:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", column.column)
            file = directory / f"drift-{name}.png"
            written.append(
                (f"{column.column}: reference vs current", _save(_histogram(column), file))
            )
    return written


def _save(figure: Any, file: Path) -> Path:
    plt = _pyplot()
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".png")
    os.close(fd)
    try:
        figure.savefig(tmp, dpi=110, bbox_inches="tight")
        os.replace(tmp, file)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise MlgitError(f"{file}: cannot write the plot ({exc.strerror})") from None
    finally:
        plt.close(figure)
    return file


def _summary_figure(result: DriftResult) -> Any:
    plt = _pyplot()
    from matplotlib.patches import Patch

    columns = [c for c in result.columns if c.value("psi") is not None]
    figure, axes = plt.subplots(figsize=(max(6.0, 0.6 * len(columns) + 2), 4.2))
    values = [c.value("psi") for c in columns]
    colors = [_VERDICT_COLOR.get(c.verdict, "#777777") for c in columns]
    bars = axes.bar([c.column for c in columns], values, color=colors)
    axes.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize="small", padding=2)
    handles = [
        Patch(color=color, label=f"column {verdict}") for verdict, color in _VERDICT_COLOR.items()
    ]
    limits = next((m for c in columns for m in c.metrics if m.metric == "psi"), None)
    if limits is not None:
        for value, label, style in ((limits.warn, "warn", "--"), (limits.fail, "fail", "-")):
            if value is not None:
                handles.append(
                    axes.axhline(
                        value,
                        color="#555555",
                        linestyle=style,
                        linewidth=1,
                        label=f"{label} threshold ({value:g})",
                    )
                )
    axes.margins(y=0.12)
    axes.set_title(f"Drift of {result.dataset}: PSI per column")
    axes.set_xlabel("column")
    axes.set_ylabel("PSI (population stability index)")
    axes.tick_params(axis="x", rotation=30)
    axes.legend(handles=handles, loc="upper left", fontsize="small")
    return figure


def _bin_labels(column: ColumnDrift) -> list[str]:
    if column.labels:
        return list(column.labels)
    edges = column.edges
    labels = [f"≤ {edges[0]:.3g}"]
    labels += [f"{low:.3g} – {high:.3g}" for low, high in itertools.pairwise(edges)]
    return [*labels, f"> {edges[-1]:.3g}"]


def _histogram(column: ColumnDrift) -> Any:
    plt = _pyplot()
    labels = _bin_labels(column)
    reference, current = list(column.reference_counts), list(column.current_counts)
    if len(labels) > MAX_BARS:  # keep the chart readable: fold the tail into one bar
        labels = [*labels[: MAX_BARS - 1], "(rest)"]
        reference = [*reference[: MAX_BARS - 1], sum(reference[MAX_BARS - 1 :])]
        current = [*current[: MAX_BARS - 1], sum(current[MAX_BARS - 1 :])]
    ref_total, cur_total = sum(reference) or 1, sum(current) or 1
    positions = range(len(labels))
    figure, axes = plt.subplots(figsize=(max(6.0, 0.55 * len(labels) + 2), 4.4))
    width = 0.4
    axes.bar(
        [p - width / 2 for p in positions],
        [100 * r / ref_total for r in reference],
        width,
        label="reference",
        color="#5b8cc6",
    )
    axes.bar(
        [p + width / 2 for p in positions],
        [100 * c / cur_total for c in current],
        width,
        label="current",
        color="#e07b39",
    )
    axes.set_xticks(list(positions), labels, rotation=35, ha="right", fontsize="small")
    psi = column.value("psi")
    score = f", PSI {psi:.3f}" if psi is not None else ""
    axes.set_title(f"{column.column}: {column.verdict}{score}")
    axes.set_xlabel("bin (reference quantiles)" if column.edges else "category")
    axes.set_ylabel("share of rows (%)")
    axes.legend()
    return figure
