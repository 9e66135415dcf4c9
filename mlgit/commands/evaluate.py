"""`mlgit evaluate`: score predictions with scikit-learn, overall and per slice, and write the
DVC metrics file that `dvc metrics show` and `mlgit gate` read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgit.report import Report


def evaluate(
    predictions: Path,
    label: str,
    prediction: str,
    *,
    score: str | None = None,
    positive: str | None = None,
    by: tuple[str, ...] = (),
    task: str | None = None,
    output: Path | None = None,
    baseline: bool = False,
    train_labels: Path | None = None,
) -> Report:
    import json

    from mlgit.errors import MlgitError
    from mlgit.fs import write_atomic
    from mlgit.models import metrics
    from mlgit.report.evaluate import as_report

    if baseline != (train_labels is not None):
        raise MlgitError(
            "--baseline and --train-labels go together: the dummy baseline is fitted on the "
            "training labels (--baseline --train-labels data/train.csv)"
        )
    frame = metrics.read_predictions(predictions)
    labels = metrics.read_train_labels(train_labels, label) if train_labels else None
    result = metrics.evaluate(
        frame, label, prediction, score, by, task, str(predictions), positive, labels
    )
    if output is not None:
        write_atomic(output, json.dumps(result.as_metrics(), indent=2) + "\n")
    return as_report(result, str(predictions), str(output) if output else None)
