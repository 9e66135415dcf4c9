"""The profile file format: JSON checked against the bundled schema on load, written by `dumps`."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from mlgit.data.profile.sketches import DISTINCT_K, HASH_BITS
from mlgit.errors import MlgitError

SCHEMA_VERSION = 1


def load(file: Path) -> dict[str, Any]:
    """A profile file, checked against the bundled schema; MlgitError if it is not one."""
    from jsonschema import Draft202012Validator

    from mlgit.documents import bundled_schema

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MlgitError(
            f"{file}: reference profile not found; create it with `mlgit profile NAME`"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f":{exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise MlgitError(
            f"{file}{where}: not a valid profile (corrupt JSON: {exc}); "
            "re-create it with `mlgit profile NAME`"
        ) from None
    except OSError as exc:
        raise MlgitError(f"{file}: cannot read ({exc.strerror})") from None

    def invalid(place: str, message: str) -> MlgitError:
        return MlgitError(
            f"{file}: {place}: not a valid profile ({message}); re-create it with "
            "`mlgit profile NAME`"
        )

    # The schema check walks long arrays slowly, so it sees their first elements only; the
    # arrays themselves are checked below with numpy.
    validator = Draft202012Validator(bundled_schema("profile.schema.json"))
    error = next(
        iter(sorted(validator.iter_errors(_heads(data)), key=lambda e: list(e.path))), None
    )
    if error is not None:
        raise invalid(".".join(str(p) for p in error.absolute_path) or "(top level)", error.message)
    for name, column in data["columns"].items():
        for place, problem in _array_problems(column):
            raise invalid(f"columns.{name}.{place}", problem)
    return data


def _heads(value: Any, keep: int = 8) -> Any:
    if isinstance(value, dict):
        return {k: _heads(v, keep) for k, v in value.items()}
    if isinstance(value, list):
        return [_heads(v, keep) for v in value[:keep]]
    return value


def _array_problems(column: dict[str, Any]) -> list[tuple[str, str]]:
    import numpy as np

    problems = []
    histogram = column.get("histogram")
    if histogram is not None:
        edges, counts = histogram["edges"], histogram["counts"]
        if len(counts) != len(edges) + 1:
            problems.append(("histogram", "needs one more count than edges"))
        elif not all(isinstance(e, int | float) for e in edges) or np.any(np.diff(edges) <= 0):
            problems.append(("histogram.edges", "edges must be increasing numbers"))
    hashes = column.get("distinct_sketch")
    if hashes is not None and not (
        len(hashes) <= DISTINCT_K
        and all(type(h) is int and 0 <= h < 2**HASH_BITS for h in hashes)
        and all(a < b for a, b in itertools.pairwise(hashes))
    ):
        problems.append(
            ("distinct_sketch", f"at most {DISTINCT_K} increasing integers below 2**{HASH_BITS}")
        )
    for side in ("positive", "negative"):
        store = (column.get("sketch") or {}).get(side)
        if store is None:
            continue
        keys, counts = store["keys"], store["counts"]
        if len(keys) != len(counts):
            problems.append((f"sketch.{side}", "keys and counts differ in length"))
        elif not all(type(k) is int for k in keys) or not all(
            type(c) is int and c >= 0 for c in counts
        ):
            problems.append((f"sketch.{side}", "keys and counts must be integers"))
    return problems


def dumps(profile: dict[str, Any]) -> str:
    return json.dumps(profile, indent=1, allow_nan=False) + "\n"
