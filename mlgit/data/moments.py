"""Mergeable moments: count, mean and the sum of squared deviations (M2).

One batch, a stream of batches and partitions on a cluster all end in the same numbers because
two states combine exactly (Chan, Golub and LeVeque's parallel update); the mean check and the
profile's numeric columns both fold through `combine`.
"""

from __future__ import annotations


def combine(
    count: int, mean: float, m2: float, other_count: int, other_mean: float, other_m2: float
) -> tuple[int, float, float]:
    """(count, mean, M2) of the union of two parts, each given as its own (count, mean, M2)."""
    total = count + other_count
    if total == 0:
        return 0, 0.0, 0.0
    delta = other_mean - mean
    return (
        total,
        mean + delta * other_count / total,
        m2 + (other_m2 + delta * delta * count * other_count / total),
    )
