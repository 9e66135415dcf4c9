"""Field constraints of a Table Schema, each compiled to a row rule over Arrow batches.

`CONSTRAINTS` maps the constraint's name in the schema file to a factory taking a `Spec`;
adding a constraint is adding one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mlgit.data.checks.base import Check, Spec
from mlgit.data.checks.conform import per_value, present
from mlgit.data.checks.scalars import holds, integer_compare, is_text, null_bool, scalar, value_set
from mlgit.data.checks.unique import UniqueCheck
from mlgit.errors import MlgitError

if TYPE_CHECKING:
    import pyarrow as pa


def _kernel_error(spec: Spec, column_type: pa.DataType, needs: str) -> MlgitError:
    return MlgitError(
        f"{spec.where or spec.name}: column {spec.column!r} holds {holds(column_type)}; "
        f"{spec.name} needs {needs}"
    )


def _compare(kernel: str) -> Callable[[Spec], Check]:
    def factory(spec: Spec) -> Check:
        import pyarrow as pa
        import pyarrow.compute as pc

        def rule(values: pa.Array) -> pa.Array:
            exact = integer_compare(kernel, values, spec.value)
            if exact is not None:
                return exact
            try:
                return getattr(pc, kernel)(values, scalar(spec.value, values.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                raise _kernel_error(spec, values.type, "numbers or dates") from None

        def passes(batch: pa.RecordBatch) -> pa.Array:
            return per_value(batch.column(spec.column), rule)

        symbol = {"greater_equal": "<", "greater": "<=", "less_equal": ">", "less": ">="}[kernel]
        return spec.row_check(passes, f"are {symbol} {spec.value}", proof="bounds")

    return factory


def _length(kernel: str) -> Callable[[Spec], Check]:
    def factory(spec: Spec) -> Check:
        import pyarrow.compute as pc

        def rule(values: pa.Array) -> pa.Array:
            return getattr(pc, kernel)(pc.utf8_length(_text(values)), scalar(spec.value))

        def passes(batch: pa.RecordBatch) -> pa.Array:
            return per_value(batch.column(spec.column), rule)

        bound = "shorter than" if kernel == "greater_equal" else "longer than"
        what = f"are {bound} {spec.value} characters"
        return spec.row_check(passes, what)

    return factory


def _text(values: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.types as t

    return values if is_text(values.type, t) else values.cast(pa.string())


def _pattern(spec: Spec) -> Check:
    import pyarrow.compute as pc

    regex = f"^(?:{spec.value})$"

    def rule(values: pa.Array) -> pa.Array:
        return pc.match_substring_regex(_text(values), regex)

    def passes(batch: pa.RecordBatch) -> pa.Array:
        return per_value(batch.column(spec.column), rule)

    what = f"do not match {spec.value}"
    return spec.row_check(passes, what)


def in_set(spec: Spec) -> Check:
    import pyarrow as pa
    import pyarrow.compute as pc

    allowed = list(spec.value)

    def rule(column: pa.Array) -> pa.Array:
        try:
            members = value_set(allowed, column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            members = value_set([str(v) for v in allowed], pa.string())
            column = _text(column)
        return pc.if_else(column.is_valid(), pc.is_in(column, members), null_bool())

    def passes(batch: pa.RecordBatch) -> pa.Array:
        return per_value(batch.column(spec.column), rule)

    shown = ", ".join(map(str, allowed[:10])) + (", ..." if len(allowed) > 10 else "")
    return spec.row_check(passes, f"are not in {{{shown}}}", proof="one value")


def _required(spec: Spec) -> Check:
    def passes(batch: pa.RecordBatch) -> pa.Array:
        return present(batch, spec.named_column)

    return spec.row_check(passes, "are null", proof="no nulls")


def _unique(spec: Spec) -> Check:
    return UniqueCheck(spec.name, (spec.named_column,), severity=spec.severity, sample=spec.sample)


CONSTRAINTS: dict[str, Callable[[Spec], Check]] = {
    "required": _required,
    "unique": _unique,
    "minimum": _compare("greater_equal"),
    "exclusiveMinimum": _compare("greater"),
    "maximum": _compare("less_equal"),
    "exclusiveMaximum": _compare("less"),
    "minLength": _length("greater_equal"),
    "maxLength": _length("less_equal"),
    "pattern": _pattern,
    "enum": in_set,
}
