"""JSON: the report's documented payload (schemas under mlgit/schemas/), nothing else."""

from __future__ import annotations

import json
import math
import re

from mlgit.report.tables import Report

# json.dumps escapes C0 controls but writes DEL, C1 controls and bidi overrides as they are
_UNESCAPED = re.compile("[\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def render(report: Report, color: bool = False) -> str:
    text = json.dumps(_finite(report.data), indent=2, sort_keys=False, ensure_ascii=False)
    return _UNESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def _finite(value: object) -> object:
    """NaN and infinities are not JSON; they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
