"""JSON: the report's documented payload (schemas under mlgit/schemas/), nothing else."""

from __future__ import annotations

import json
import math

from mlgit.report.tables import Report


def render(report: Report, color: bool = False) -> str:
    return json.dumps(_finite(report.data), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def _finite(value: object) -> object:
    """NaN and infinities are not JSON; they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
