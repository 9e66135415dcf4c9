"""Metrics files: read DVC metrics (JSON/YAML) in the work tree or at a git revision; `evaluate`
predictions with scikit-learn, overall and per slice.

The file `evaluate` writes (documented in mlgit/schemas/metrics.schema.json):

    {"task": "classification", "rows": 1000,
     "accuracy": 0.91, "precision": ..., "recall": ..., "f1": ..., "roc_auc": ...,
     "slices": {"sex": {"accuracy": {"F": 0.90, "M": 0.93}, ..., "rows": {"F": 480, "M": 520}}},
     "gaps":   {"sex": {"accuracy": 0.03, ...}}}

so a gate addresses a metric by its dotted key: `accuracy`, `slices.sex.accuracy` (a mapping of
slice -> value; `max_gap` takes max − min over it) or `gaps.sex.accuracy` (the gap as a number).
`dvc metrics show/diff` read the same file, nested keys flattened the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import git
    import pandas as pd

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
REGRESSION_METRICS = ("mae", "rmse", "r2")
MAX_CLASSES = 20  # an integer label with more distinct values than this is a regression target
MAX_SLICES = 50  # more slices than this: a continuous --by column, said in a note


# ---------------------------------------------------------------- reading metrics files
def parse(text: bytes | str, label: str) -> dict:
    """A metrics file's content as a mapping (JSON, YAML or TOML, as DVC reads them); `label`
    names it in errors, which are one line."""
    from mlgit.documents import load_yaml_text

    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if label.endswith(".toml"):
            import tomllib

            data: Any = tomllib.loads(text)
        elif label.endswith(".json"):
            data = json.loads(text)
        else:
            data = load_yaml_text(text, label)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise MlgitError(f"{label}: not valid JSON/YAML ({reason}); fix the metrics file") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError
        reason = str(exc).splitlines()[0]
        raise MlgitError(f"{label}: not valid TOML ({reason}); fix the metrics file") from None
    if not isinstance(data, dict):
        raise MlgitError(f"{label}: expected a mapping of metric names to values")
    return data


MAX_METRICS_BYTES = 16 << 20


def read(
    repo: git.Repo | None, path: str, rev: str | None = None, root: Path | None = None
) -> dict:
    """The metrics file `path` (relative to the repository root) in the work tree, or as
    committed at `rev` (read from git, never from the work tree)."""
    if rev is None:
        from mlgit.repo.git import work_tree

        base = root if root is not None else work_tree(repo)  # type: ignore[arg-type]
        from mlgit.fs import read_limited

        file = base / path
        try:
            exists = file.exists()
        except OSError:  # a name too long for the file system
            exists = False
        if not exists:
            raise MlgitError(
                f"{path}: metrics file not found; run your pipeline (`dvc repro`) to write it"
            )
        return parse(read_limited(file, MAX_METRICS_BYTES, "a metrics file")[0], path)
    from mlgit.repo.git import read_file_at

    assert repo is not None  # callers reading a revision pass the repository
    data = read_file_at(repo, rev, path)
    if data is None:
        raise MlgitError(
            f"{path}@{rev}: metrics file not in git at that revision; commit it "
            "(a DVC metrics output needs `cache: false` in dvc.yaml)"
        )
    return parse(data, f"{path}@{rev}")


def read_or_none(repo: git.Repo, path: str, rev: str) -> dict | None:
    """Like `read` at `rev`, but None when the file did not exist there."""
    from mlgit.repo.git import read_file_at

    data = read_file_at(repo, rev, path)
    return None if data is None else parse(data, f"{path}@{rev}")


_MISSING = object()


def lookup(metrics: dict, key: str) -> Any:
    """The value at dotted `key` (`slices.sex.accuracy`); keys may themselves contain dots,
    so the longest matching key wins at each level. None when absent."""
    found = _lookup(metrics, key)
    return None if found is _MISSING else found


def _lookup(node: Any, key: str) -> Any:
    if not isinstance(node, dict):
        return _MISSING
    if key in node:
        return node[key]
    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in node:
            found = _lookup(node[head], ".".join(parts[cut:]))
            if found is not _MISSING:
                return found
    return _MISSING


def flatten(metrics: dict, prefix: str = "") -> dict[str, Any]:
    """Nested metrics as {"a.b.c": value} (as `dvc metrics show` prints them)."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


# ---------------------------------------------------------------- evaluate
@dataclass(frozen=True)
class Evaluation:
    task: str  # "classification" | "regression"
    rows: int
    overall: dict[str, float | None]
    slices: dict[str, dict[str, dict[str, float | None]]]  # column -> metric -> slice -> value
    slice_rows: dict[str, dict[str, int]]  # column -> slice -> rows
    gaps: dict[str, dict[str, float | None]]  # column -> metric -> max − min
    positive: str | None = None  # the class precision/recall/f1/roc_auc are of (binary only)
    dropped: int = 0  # rows left out: label, prediction or score missing
    notes: tuple[str, ...] = ()  # how the numbers were made, where it is not the obvious way
    baseline: dict[str, Any] | None = None  # the dummy model's metrics (`evaluate --baseline`)

    def as_metrics(self) -> dict:
        """The DVC metrics file layout (see the module docstring)."""
        data: dict[str, Any] = {"task": self.task, "rows": self.rows}
        if self.positive is not None:
            data["positive"] = self.positive
        data.update(self.overall)
        if self.slices:
            data["slices"] = {
                column: {**metrics, "rows": self.slice_rows[column]}
                for column, metrics in self.slices.items()
            }
            data["gaps"] = self.gaps
        if self.baseline is not None:
            data["baseline"] = self.baseline
        return data


def read_predictions(path: Path) -> pd.DataFrame:
    """A predictions table (CSV, Parquet or JSON Lines) as a DataFrame."""
    import pandas as pd

    readers = {
        ".csv": pd.read_csv,
        ".parquet": pd.read_parquet,
        ".pq": pd.read_parquet,
        ".jsonl": lambda p: pd.read_json(p, lines=True),
        ".ndjson": lambda p: pd.read_json(p, lines=True),
    }
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise MlgitError(f"{path}: unknown predictions format; use .csv, .parquet or .jsonl")
    if not path.exists():
        raise MlgitError(f"{path}: no such file; write your model's predictions there first")
    try:
        return reader(path)
    except Exception as exc:  # pandas/pyarrow raise many types for one meaning: unreadable
        raise MlgitError(f"{path}: cannot read predictions ({exc})") from None


def evaluate(
    frame: pd.DataFrame,
    label: str,
    prediction: str,
    score: str | None = None,
    by: tuple[str, ...] = (),
    task: str | None = None,
    source: str = "predictions",
    positive: str | None = None,
    train_labels: pd.Series | None = None,
) -> Evaluation:
    """Metrics over the whole table and per slice of every `by` column.

    Whether precision/recall/f1 are binary (of the positive class) or macro-averaged is decided
    once, on the whole table, so every slice is scored the same way and gaps compare like with
    like. A metric with nothing to measure (precision with no predicted positive, r2 of a
    constant target, roc_auc of one class) is null, not 0."""
    for role, column in (("--label", label), ("--prediction", prediction), ("--score", score)):
        if column is not None and column not in frame.columns:
            raise MlgitError(
                f"{source}: {role} column {column!r} not found "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )
    for column in by:
        if column not in frame.columns:
            raise MlgitError(f"{source}: --by column {column!r} not found")
    needed = [label, prediction] + ([score] if score else [])
    rows = len(frame)
    frame = frame.dropna(subset=needed)
    if frame.empty:
        raise MlgitError(f"{source}: no rows with {', '.join(map(repr, needed))} all set")
    task = task or infer_task(frame[label])
    if task not in TASKS:
        raise MlgitError(f"--task {task!r}: choose classification or regression")
    if task == "regression" and score is not None:
        raise MlgitError("--score is for classification (roc_auc); drop it for regression")
    _check_columns(frame, task, label, prediction, score, source)
    positive_value = None
    if task == "classification":
        positive_value = _positive_label(frame[label], positive, label, source)
    if score is not None and positive_value is None:
        raise MlgitError(f"{source}: --score (roc_auc) needs a binary label; {label!r} has more")
    labelled, predicted = set(frame[label].unique()), set(frame[prediction].unique())
    classes = sorted(labelled | predicted, key=str)
    binary = positive_value is not None and predicted <= labelled | {positive_value}

    def compute(part: pd.DataFrame) -> dict[str, float | None]:
        if task == "regression":
            return _regression(part, label, prediction)
        return _classification(part, label, prediction, score, positive_value, binary, classes)

    overall = compute(frame)
    dummy = None
    if train_labels is not None:
        _check_train_labels(frame[label], train_labels, task)
        dummy = _dummy_scores(frame, train_labels, task, prediction, score, positive_value, compute)
    notes = []
    if positive_value is not None and not binary:
        extra = sorted(predicted - labelled, key=str)
        notes.append(
            f"precision, recall and f1 are macro-averaged: the predictions hold classes the "
            f"labels do not ({', '.join(map(str, extra[:5]))})"
        )
    slices: dict[str, dict[str, dict[str, float | None]]] = {}
    slice_rows: dict[str, dict[str, int]] = {}
    gaps: dict[str, dict[str, float | None]] = {}
    for column in by:
        groups = [
            (_slice_name(value), part)
            for value, part in frame.groupby(column, dropna=False, sort=True)
        ]
        if len(groups) > MAX_SLICES:
            notes.append(
                f"--by {column}: {len(groups)} slices, one per value; slice a continuous "
                "column by bins (a column of ranges) instead"
            )
        per_slice = {value: compute(part) for value, part in groups}
        slice_rows[column] = {value: len(part) for value, part in groups}
        slices[column] = {
            metric: {name: values[metric] for name, values in per_slice.items()}
            for metric in overall
        }
        gaps[column] = {metric: _gap(values) for metric, values in slices[column].items()}
    return Evaluation(
        task,
        len(frame),
        overall,
        slices,
        slice_rows,
        gaps,
        positive=None if positive_value is None or not binary else str(positive_value),
        dropped=rows - len(frame),
        notes=tuple(notes),
        baseline=dummy,
    )


def read_train_labels(path: Path, label: str) -> pd.Series:
    """The label column of the training table `path` (for the dummy baseline)."""
    frame = read_predictions(path)
    if label not in frame.columns:
        raise MlgitError(
            f"{path}: --train-labels has no label column {label!r} "
            f"(columns: {', '.join(map(str, frame.columns))}); give the training table"
        )
    labels = frame[label].dropna()
    if labels.empty:
        raise MlgitError(f"{path}: the label column {label!r} has no values to fit a baseline on")
    labels.attrs["source"] = str(path)
    return labels


def _check_train_labels(labels: pd.Series, train_labels: pd.Series, task: str) -> None:
    """Training labels of another kind than the labels scored (strings for a regression,
    numbers for string classes, continuous values for classes): a one-line error naming the
    file, not a scikit-learn trace."""
    import pandas as pd

    def numeric(values: pd.Series) -> bool:
        return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)

    where = f"{train_labels.attrs.get('source', '--train-labels')}: label column {labels.name!r}"

    def first(values: pd.Series) -> str:
        value = values.iloc[0]
        return repr(value.item() if hasattr(value, "item") else value)

    example = first(train_labels)
    fix = "give the table this model was trained on (--train-labels) or the right --task"
    if task == "regression" and not numeric(train_labels):
        raise MlgitError(f"{where} is not numeric (e.g. {example}), the task is regression; {fix}")
    if task != "classification":
        return
    is_number = pd.api.types.is_numeric_dtype  # booleans too: True == 1
    if is_number(labels) != is_number(train_labels):
        kind = "numbers" if is_number(train_labels) else "text"
        raise MlgitError(
            f"{where} holds {kind} (e.g. {example}) unlike the labels scored "
            f"(e.g. {first(labels)}); {fix}"
        )
    if numeric(train_labels) and not bool((train_labels == train_labels.round()).all()):
        raise MlgitError(f"{where} is continuous (e.g. {example}), not classes; {fix}")


def _dummy_scores(
    frame, train_labels, task: str, prediction: str, score, positive, compute
) -> dict[str, Any]:
    """scikit-learn's dummy model fitted on the training labels, scored like the model:
    DummyClassifier (most_frequent; `prior` probabilities for roc_auc) or DummyRegressor
    (mean). The bar a real model has to clear."""
    import numpy as np
    from sklearn.dummy import DummyClassifier, DummyRegressor

    fit_x = np.zeros((len(train_labels), 1))
    x = np.zeros((len(frame), 1))
    dummy = frame.copy()
    if task == "regression":
        regressor = DummyRegressor(strategy="mean").fit(fit_x, train_labels.astype(float))
        dummy[prediction] = regressor.predict(x)
        return {"strategy": "mean", **compute(dummy)}
    classifier = DummyClassifier(strategy="most_frequent").fit(fit_x, train_labels)
    dummy[prediction] = classifier.predict(x)
    strategy = "most_frequent"
    if score is not None:
        prior = DummyClassifier(strategy="prior").fit(fit_x, train_labels)
        classes = list(prior.classes_)
        proba = prior.predict_proba(x)
        dummy[score] = proba[:, classes.index(positive)] if positive in classes else 0.0
        strategy += " (roc_auc: prior)"
    return {"strategy": strategy, **compute(dummy)}


def _slice_name(value: Any) -> str:
    """A slice's name in the metrics file: its value, or "(missing)" for rows without one."""
    import pandas as pd

    return "(missing)" if not isinstance(value, str) and pd.isna(value) else str(value)


def _check_columns(frame, task: str, label: str, prediction: str, score, source: str) -> None:
    """Columns of the wrong kind for the task: a one-line error, not a scikit-learn trace."""
    import pandas as pd

    def first_non_number(column: str) -> Any:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            return None
        bad = values[pd.to_numeric(values, errors="coerce").isna()]
        return bad.iloc[0] if len(bad) else None

    numeric = [c for c in (score,) if c] + ([label, prediction] if task == "regression" else [])
    for column in numeric:
        bad = first_non_number(column)
        if bad is not None:
            what = "--score" if column == score else "regression"
            raise MlgitError(
                f"{source}: column {column!r} holds {bad!r}, not a number; {what} needs numbers"
                + (" (or use --task classification)" if what == "regression" else "")
            )
    y = frame[label]
    if task == "classification" and pd.api.types.is_float_dtype(y) and (y != y.round()).any():
        raise MlgitError(
            f"{source}: label {label!r} holds fractions such as {y[y != y.round()].iloc[0]!r}; "
            "classification needs classes (use --task regression)"
        )


def infer_task(labels: pd.Series) -> str:
    """Classification for booleans, strings and few distinct integers; regression otherwise."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(labels) or not pd.api.types.is_numeric_dtype(labels):
        return "classification"
    is_integral = bool((labels == labels.round()).all())
    return "classification" if is_integral and labels.nunique() <= MAX_CLASSES else "regression"


_POSITIVE = (True, 1, "1", "yes", "true", "True", "Yes", "positive")


def _positive_label(labels: pd.Series, given: str | None, label: str, source: str) -> Any:
    """The positive class of a binary label (`given`, else 1/True/yes), None for multiclass."""
    values = sorted(labels.unique().tolist(), key=str)
    if given is not None:
        found = [v for v in values if str(v) == given]
        if not found:
            raise MlgitError(
                f"{source}: --positive {given!r} is not a class of {label!r} "
                f"(classes: {', '.join(map(str, values[:10]))})"
            )
        if len(values) > 2:
            raise MlgitError(
                f"--positive is for a binary label; {label!r} has {len(values)} classes"
            )
        return found[0]
    if len(values) > 2:
        return None
    for candidate in _POSITIVE:
        for value in values:
            if value == candidate:
                return value  # the label's own value: 1, not True
    if len(values) == 1:
        return values[0]
    raise MlgitError(
        f"{source}: which class of {label!r} is the positive one ({values[0]} or {values[1]})? "
        f"pass --positive {values[0]} or --positive {values[1]}"
    )


def _value(number: float) -> float | None:
    return None if number is None or math.isnan(number) else float(number)


def _classification(
    frame, label, prediction, score, positive, binary: bool, classes: list
) -> dict[str, float | None]:
    import numpy as np
    from sklearn import metrics as skm

    y, p = frame[label], frame[prediction]
    if binary:
        kwargs: dict[str, Any] = {"average": "binary", "pos_label": positive}
    else:
        kwargs = {"average": "macro", "labels": classes}
    result = {
        "accuracy": float(skm.accuracy_score(y, p)),
        "precision": _value(skm.precision_score(y, p, zero_division=np.nan, **kwargs)),
        "recall": _value(skm.recall_score(y, p, zero_division=np.nan, **kwargs)),
        "f1": _value(skm.f1_score(y, p, zero_division=np.nan, **kwargs)),
    }
    if score is not None:
        # roc_auc is undefined on a slice holding one class only: null, not a crash
        result["roc_auc"] = (
            float(skm.roc_auc_score(y == positive, frame[score].astype(float)))
            if positive is not None and y.nunique() == 2
            else None
        )
    return result


def _regression(frame, label, prediction) -> dict[str, float | None]:
    import numpy as np
    from sklearn import metrics as skm

    y, p = frame[label].astype(float), frame[prediction].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a constant target has no variance to explain: null, not sklearn's stand-in 0.0
        r2 = _value(skm.r2_score(y, p, force_finite=False)) if len(y) > 1 else None
    return {
        "mae": float(skm.mean_absolute_error(y, p)),
        "rmse": float(math.sqrt(skm.mean_squared_error(y, p))),
        "r2": r2,
    }


TASKS = ("classification", "regression")


def _gap(values: dict[str, float | None]) -> float | None:
    """max − min over the slices with a value; None under two (a gap gate then fails)."""
    present = [v for v in values.values() if v is not None and math.isfinite(v)]
    return max(present) - min(present) if len(present) >= 2 else None
