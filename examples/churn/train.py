"""Train the example churn model and write predictions for `mlgit evaluate`.

A stand-in for a real training script: mlgit never loads the model, it only reads the
metrics that `mlgit evaluate` derives from these predictions.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

FEATURES = ["age", "tenure_months", "monthly_charges", "is_basic"]


def main() -> None:
    data = pd.read_parquet("data/train.parquet")
    data["monthly_charges"] = data["monthly_charges"].fillna(data["monthly_charges"].median())
    data["is_basic"] = (data["plan"] == "basic").astype(int)
    train, test = train_test_split(data, test_size=0.25, random_state=0)
    model = LogisticRegression(max_iter=1000).fit(train[FEATURES], train["churned"])
    Path("models").mkdir(exist_ok=True)
    with open("models/churn.pkl", "wb") as f:
        pickle.dump(model, f)
    scores = model.predict_proba(test[FEATURES])[:, 1]
    predictions = pd.DataFrame(
        {
            "churned": test["churned"],
            "predicted": (scores >= 0.5).astype(int),
            "score": scores.round(6),
            "sex": test["sex"],
        }
    )
    predictions.to_csv("predictions.csv", index=False)


if __name__ == "__main__":
    main()
