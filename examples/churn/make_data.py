"""Write the example's data: a training set and a production sample that has drifted.

Deterministic (seeded), so every run of `mlgit demo` shows the same numbers.
Usage: python make_data.py [ROWS]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

PLANS = ["basic", "standard", "premium"]


def customers(rows: int, seed: int, charge_scale: float, plan_mix: list[float]) -> pa.Table:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, rows)
    tenure = rng.integers(0, 120, rows)
    plan = rng.choice(PLANS, rows, p=plan_mix)
    charges = np.round(rng.gamma(4.0, 15.0, rows) * charge_scale, 2)
    charges_mask = rng.random(rows) < 0.01  # 1% unknown charges
    sex = rng.choice(["F", "M"], rows)
    logit = -1.2 + 0.02 * (charges - 60) - 0.03 * tenure + 0.6 * (plan == "basic")
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    ids = np.arange(1, rows + 1) + seed * 10_000_000
    signup = np.datetime64("2020-01-01") + rng.integers(0, 1800, rows).astype("timedelta64[D]")
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.int64()),
            "age": pa.array(age, pa.int64()),
            "tenure_months": pa.array(tenure, pa.int64()),
            "plan": pa.array(plan, pa.string()),
            "monthly_charges": pa.array(charges, pa.float64(), mask=charges_mask),
            "email": pa.array([f"user{i}@example.com" for i in ids], pa.string()),
            "signup": pa.array(signup.astype("datetime64[ms]")),
            "sex": pa.array(sex, pa.string()),
            "churned": pa.array(churned, pa.int64()),
        }
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    Path("data").mkdir(exist_ok=True)
    pq.write_table(customers(rows, 1, 1.0, [0.5, 0.3, 0.2]), "data/train.parquet")
    # Production: prices went up 20% and customers moved to the premium plan.
    current = customers(rows // 4, 2, 1.2, [0.25, 0.3, 0.45])
    pq.write_table(current, "data/production.parquet")


if __name__ == "__main__":
    main()
