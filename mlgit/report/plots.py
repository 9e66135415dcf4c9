"""PNG plots for drift reports (matplotlib, Agg backend, imported only when plots are asked for).

One reference-vs-current histogram per drifted or warned column, and a summary bar chart of
each column's PSI with the warn/fail thresholds. Files are written atomically.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError
from mlgit.fs import replacing

if TYPE_CHECKING:
    from mlgit.data.drift import ColumnDrift, DriftResult

MAX_BARS = 20  # categorical plots show the most frequent reference categories, then the rest
_VERDICT_COLOR = {"ok": "#4c9a2a", "warn": "#e0a100", "drift": "#c62828", "skip": "#9e9e9e"}


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
    try:
        with replacing(file) as tmp:  # .png: matplotlib takes the format from the suffix
            figure.savefig(tmp, dpi=110, bbox_inches="tight")
    except OSError as exc:
        raise MlgitError(f"{file}: cannot write the plot ({exc.strerror})") from None
    finally:
        plt.close(figure)
    return file


def _summary_figure(result: DriftResult) -> Any:
    plt = _pyplot()
    from matplotlib.patches import Patch

    columns = [c for c in result.columns if c.value("psi") is not None or c.verdict == "skip"]
    figure, axes = plt.subplots(figsize=(max(6.0, 0.7 * len(columns) + 2), 4.4))
    values = [c.value("psi") or 0.0 for c in columns]
    colors = [_VERDICT_COLOR.get(c.verdict, "#777777") for c in columns]
    bars = axes.bar([c.column for c in columns], values, color=colors)
    axes.bar_label(bars, labels=[_bar_label(c) for c in columns], fontsize="small", padding=2)
    legend = {
        "ok": "column ok",
        "warn": "column warn (any metric)",
        "drift": "column drift (any metric)",
        "skip": "column skipped (identifier or excluded)",
    }
    handles = [
        Patch(color=color, label=legend[verdict])
        for verdict, color in _VERDICT_COLOR.items()
        if verdict != "skip" or any(c.verdict == "skip" for c in columns)
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
    axes.set_title(f"Drift of {result.dataset}: PSI per column (colour: column verdict)")
    axes.set_xlabel("column")
    axes.set_ylabel("PSI (population stability index)")
    plt.setp(axes.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
    # outside the axes: it never hides a bar (bbox_inches="tight" keeps it in the image)
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return figure


def _flagged_by(column: ColumnDrift) -> list[str]:
    """The metrics that gave the column its verdict, e.g. ['wasserstein 0.395 >= 0.1']."""
    found = []
    for m in column.metrics:
        if m.verdict == column.verdict and column.verdict in ("warn", "drift"):
            limit = m.fail if column.verdict == "drift" else m.warn
            sign = ">=" if m.metric != "chi2" else "<="
            found.append(f"{m.metric} {m.value:.3g} {sign} {limit:g}")
    return found


def _bar_label(column: ColumnDrift) -> str:
    if column.verdict == "skip":
        return "skipped"
    label = f"{column.value('psi'):.3f}"
    others = [f for f in _flagged_by(column) if not f.startswith("psi ")]
    return f"{label}\n({others[0].split()[0]})" if others and not _psi_flags(column) else label


def _psi_flags(column: ColumnDrift) -> bool:
    return any(m.metric == "psi" and m.verdict == column.verdict for m in column.metrics)


def _bin_labels(column: ColumnDrift) -> list[str]:
    if column.labels:
        return list(column.labels)
    from mlgit.report.profile import seconds_of, temporal

    edges = column.edges
    span = seconds_of(edges[-1] - edges[0], column.dtype)
    dates_only = span is not None and span[1] > 3 * 86400  # a range of days reads best as dates
    text = [temporal(edge, column.dtype, dates_only) for edge in edges]
    text = [f"{t:.3g}" if isinstance(t, float | int) else t for t in text]
    labels = [f"≤ {text[0]}"]
    labels += [f"{low} – {high}" for low, high in itertools.pairwise(text)]
    return [*labels, f"> {text[-1]}"]


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
    why = _flagged_by(column)
    score = f"PSI {psi:.3f}" if psi is not None else ""
    detail = "; ".join(why) if why else score
    if why and not _psi_flags(column) and score:
        detail = f"{detail}; {score}"
    axes.set_title(f"{column.column}: {column.verdict} ({detail})")
    axes.set_xlabel("bin (reference quantiles)" if column.edges else "category")
    axes.set_ylabel("share of rows (%)")
    axes.legend()
    return figure
