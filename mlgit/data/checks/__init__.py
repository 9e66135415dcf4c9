"""Constraints and expectations compiled to vectorized kernels over Arrow record batches.

Every check is an `Accumulator` (see mlgit/data/io.py): `update(batch, first_row)` folds one
batch into a small state, `merge(other)` folds in the state of another part of the data, and
`result()` turns the state into a frozen `CheckResult`. No Python loop ever runs over rows.

The modules, from the bottom up:
- `results`: CheckResult, DatasetResult, severities (plain data for the reporters);
- `base`: Check, RowCheck (a mask per batch), the examples kept, `Spec` (a factory's input);
- `scalars`: Arrow constants built from the schema's Python values without importing pandas;
- `conform`: conversion of each batch to the field types, and the hidden columns it adds;
- `unique`, `aggregates`, `columns`: the checks that keep more than counts;
- `constraints` (`CONSTRAINTS`), `expectations` (`EXPECTATIONS`), `custom`: the registries from
  the names in a schema file to factories;
- `validator`: the plan for one schema and `validate`, the entry point.
"""

from mlgit.data.checks.constraints import CONSTRAINTS
from mlgit.data.checks.expectations import EXPECTATIONS
from mlgit.data.checks.results import ERROR, WARN, CheckResult, DatasetResult
from mlgit.data.checks.validator import Validator, needed_columns, validate

__all__ = [
    "CONSTRAINTS",
    "ERROR",
    "EXPECTATIONS",
    "WARN",
    "CheckResult",
    "DatasetResult",
    "Validator",
    "needed_columns",
    "validate",
]
