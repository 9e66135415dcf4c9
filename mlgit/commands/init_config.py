"""The mlgit.yaml `mlgit init` writes: mlgit's defaults, or what an existing DVC/GTO repository
declares (`commands/adopt.py`), with comments wherever the choice is the user's."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from mlgit.escape import printable

if TYPE_CHECKING:
    from mlgit.commands.adopt import AdoptedDataset, AdoptedModel, Adoption

_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")

DATASETS_HELP = """\
# Datasets: DVC-tracked files or directories, each checked against its schema by
# `mlgit validate`. Add one with `mlgit track data/train.parquet`.
"""
MODELS_HELP = """\
# Models: where each model and its metrics are, and the gates a version must pass before
# `mlgit promote` tags it. mlgit never loads the model file.
"""
MODELS_EXAMPLE = """\
#   churn:
#     path: models/churn.pkl
#     metrics: metrics.json            # DVC metrics file written by your pipeline
#     dataset: train                   # the dataset it is trained on (for drift)
#     gates:
#       - {metric: roc_auc, min: 0.80}
#       - {metric: roc_auc, max_drop: 0.01, baseline: prod}
#       - {metric: slices.sex.accuracy, max_gap: 0.05}   # fairness gap between slices
"""
STAGES_HELP = """\
# Stages a model version moves through, as GTO-compatible git tags (MODEL#STAGE#N).
"""
DEFAULT_STAGES = """\
stages: [staging, prod]
promotion:
  requires:
    prod: [staging]                    # a version must have been in staging before prod
"""


def config_text(providers: tuple[str, ...], adoption: Adoption | None = None) -> str:
    """mlgit.yaml: the default sections, or those adopted from the repository."""
    datasets, models, stages = "datasets: {}\n", MODELS_EXAMPLE + "models: {}\n", DEFAULT_STAGES
    if adoption is not None and adoption.datasets:
        datasets = _datasets(adoption.datasets)
    if adoption is not None and adoption.models:
        models = _models(adoption.models)
    if adoption is not None and adoption.stages:
        stages = _stages(adoption)
    return f"""\
# mlgit configuration. Check it with `mlgit check-config`.
version: 1

{DATASETS_HELP}{datasets}
{MODELS_HELP}{models}
{STAGES_HELP}{stages}
# Drift thresholds for `mlgit drift` and `mlgit monitor`.
drift:
  psi: {{warn: 0.1, fail: 0.2}}
  js: {{fail: 0.1}}
  wasserstein: {{fail: 0.1}}
  share: 0.5                           # the dataset drifts when this share of columns does

# CI (pull requests), CT (retraining) and CD (deploy on promotion) pipelines.
ci:
  providers: [{", ".join(providers)}]
  python: "3.11"
  schedule: "0 3 * * 1"                # retraining check, cron in UTC
  train: dvc repro
  # deploy: ./deploy.sh {{model}} {{version}} {{stage}}
"""


def scalar(text: str) -> str:
    """`text` as a YAML scalar that reads back as this string (quoted when it must be)."""
    import yaml

    if _PLAIN.match(text) and yaml.safe_load(text) == text:
        return text
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _comment(text: str, width: int = 100) -> str:
    text = printable(" ".join(text.split()), newlines=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def _line(text: str, note: str = "") -> str:
    return f"{text:<38} # {_comment(note)}\n" if note else f"{text}\n"


def _described(entry: AdoptedModel | AdoptedDataset, indent: str) -> str:
    out = f"{indent}# {_comment(entry.desc)}\n" if entry.desc else ""
    if entry.labels:
        out += f"{indent}# labels: {_comment(', '.join(entry.labels))}\n"
    return out


def _datasets(datasets: tuple[AdoptedDataset, ...]) -> str:
    out = "datasets:\n"
    for ds in datasets:
        out += _line(f"  {scalar(ds.name)}:", f"from {ds.source}")
        out += _described(ds, "    ")
        out += f"    path: {scalar(ds.path)}\n"
        schema = f"schemas/{ds.name}.schema.yaml"
        how = "after `mlgit schema infer`"
        if not ds.in_workspace:
            how = "after `dvc pull`, `mlgit schema infer`"
        out += _line(f"    # schema: {scalar(schema)}", how)
    return out


def _models(models: tuple[AdoptedModel, ...]) -> str:
    out = MODELS_EXAMPLE + "models:\n"
    for model in models:
        out += _line(f"  {scalar(model.name)}:", f"from {model.source}")
        out += _described(model, "    ")
        if model.path:
            out += f"    path: {scalar(model.path)}\n"
        else:
            out += "    # path: the model file (not declared in dvc.yaml)\n"
        if model.metrics:
            others = ", ".join(model.metrics[1:])
            out += _line(f"    metrics: {scalar(model.metrics[0])}", others and f"also: {others}")
        else:
            out += "    # metrics: the DVC metrics file your pipeline writes\n"
        if model.dataset:
            out += _line(f"    # dataset: {scalar(model.dataset)}", "its training stage reads it")
        out += (
            "    gates: []                          # none yet: mlgit gate refuses it (exit 2)\n"
            "    #  - {metric: roc_auc, min: 0.80}\n"
            "    #  - {metric: roc_auc, max_drop: 0.01, baseline: prod}\n"
        )
    return out


def _stages(adoption: Adoption) -> str:
    names = ", ".join(adoption.stages)
    note = f"from {adoption.stages_source}"
    if adoption.stages_guessed:
        note += "; order guessed: check it (first to last)"
    out = _line(f"stages: [{names}]", note)
    if len(adoption.stages) > 1:
        *before, last = adoption.stages
        out += "# promotion:\n#   requires:\n" + _line(
            f"#     {last}: [{before[-1]}]", f"a version must be in {before[-1]} before {last}"
        )
    return out
