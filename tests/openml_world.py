"""A small OpenML world for the harvester's tests: a suite of three tasks and five flows."""

from __future__ import annotations

import random
from typing import Any

from tests.openml_server import OpenMLData, Run

IRIS_FEATURES = [
    ("sepallength", "numeric", None),
    ("sepalwidth", "numeric", None),
    ("petallength", "numeric", None),
    ("petalwidth", "numeric", None),
    ("class", "nominal", ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]),
]
RF = "sklearn.ensemble.forest.RandomForestClassifier"
HGB_PIPE = (
    "sklearn.pipeline.Pipeline(imputation=sklearn.impute._base.SimpleImputer,"
    "estimator=sklearn.ensemble._hist_gradient_boosting.gradient_boosting."
    "HistGradientBoostingClassifier)"
)
SVC = "sklearn.svm.classes.SVC"
LOGREG = "sklearn.linear_model.logistic.LogisticRegression"


def _dataset(name: str, n_rows: int, n_features: int, classes: int, qualities: bool) -> dict:
    features = [(f"x{i}", "numeric", None) for i in range(n_features)]
    features.append(("class", "nominal", [f"c{k}" for k in range(classes)]))
    q: dict[str, Any] | None = {
        "NumberOfInstances": float(n_rows),
        "NumberOfFeatures": float(n_features + 1),
        "NumberOfClasses": float(classes),
        "NumberOfNumericFeatures": float(n_features),
        "NumberOfSymbolicFeatures": 1.0,
        "MajorityClassPercentage": 100.0 / classes + 5,
        "ClassEntropy": 1.0,
        "AutoCorrelation": None,  # OpenML lists some qualities without a value
    }
    return {"name": name, "features": features, "qualities": q if qualities else None}


def _setups() -> dict[int, dict[str, Any]]:
    setups: dict[int, dict[str, Any]] = {}
    for i, (trees, feats, leaf) in enumerate(
        [(100, '"sqrt"', 1), (500, "0.5", 3), (50, "null", 2)]
    ):
        setups[1001 + i] = {
            "flow_id": 100 if i < 2 else 101,
            "params": {
                "n_estimators": trees,
                "max_features": feats,
                "min_samples_leaf": leaf,
                "bootstrap": True,
                "random_state": 1,
                "n_jobs": -1,
            },
        }
    setups[1004] = {"flow_id": 100, "params": {"n_estimators": 100, "min_samples_leaf": 0.05}}
    setups[2001] = {
        "flow_id": 200,
        "params": {
            "learning_rate": 0.05,
            "max_iter": 200,
            "max_leaf_nodes": None,
            "l2_regularization": 0,
        },
    }
    setups[3001] = {"flow_id": 300, "params": {"C": 1.0, "kernel": '"rbf"'}}
    setups[4001] = {"flow_id": 400, "params": {"C": 0.5, "penalty": '"l1"'}}
    # OpenML keeps values as JSON text: strings quoted, numbers bare.
    for s in setups.values():
        s["params"] = {k: _json(v) for k, v in s["params"].items()}
    return setups


def _json(value: Any) -> Any:
    import json

    if isinstance(value, str):
        return json.loads(value)
    return value


def iris_arff() -> str:
    """OpenML's iris (dataset 61) as the ARFF file it serves, from scikit-learn's copy."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    labels = IRIS_FEATURES[-1][2] or []
    head = ["@RELATION iris", ""]
    head += [f"@ATTRIBUTE {name} REAL" for name, _, _ in IRIS_FEATURES[:-1]]
    head += ["@ATTRIBUTE class {" + ",".join(labels) + "}", "", "@DATA"]
    rows = [
        ",".join([*(repr(float(v)) for v in x), labels[int(c)]])
        for x, c in zip(iris.data, iris.target, strict=True)
    ]
    return "\n".join([*head, *rows]) + "\n"


def random_arff(dataset: dict[str, Any], n_rows: int, seed: int = 0) -> str:
    """An ARFF file of random rows for a :func:`world` dataset's numeric and nominal
    features (for datasets other than iris, whose real rows :func:`iris_arff` gives)."""
    rng = random.Random(seed)
    head = [f"@RELATION {dataset['name']}", ""]
    for name, kind, values in dataset["features"]:
        head.append(
            f"@ATTRIBUTE {name} " + ("REAL" if kind == "numeric" else f"{{{','.join(values)}}}")
        )
    rows = [
        ",".join(
            repr(round(rng.gauss(0, 1), 3)) if kind == "numeric" else rng.choice(values)
            for _, kind, values in dataset["features"]
        )
        for _ in range(n_rows)
    ]
    return "\n".join([*head, "", "@DATA", *rows]) + "\n"


def world(seed: int = 0) -> OpenMLData:
    """Suite 99: tasks 59 (iris, multiclass), 31 (credit-g, binary), 37 (diabetes, binary,
    no qualities on OpenML); RandomForest flows 100 and 101 (two versions of one name), an
    HGB pipeline 200, SVC 300 (no family), LogisticRegression 400 (an L1 setup)."""
    rng = random.Random(seed)
    data = OpenMLData()
    data.datasets[61] = {
        "name": "iris",
        "features": IRIS_FEATURES,
        "qualities": _dataset("iris", 150, 4, 3, True)["qualities"],
        "arff": iris_arff(),
    }
    data.datasets[31] = _dataset("credit-g", 1000, 20, 2, True)
    data.datasets[37] = _dataset("diabetes", 768, 8, 2, False)
    data.tasks = {
        59: {"data_id": 61, "target": "class", "type_id": 1},
        31: {"data_id": 31, "target": "class", "type_id": 1},
        37: {"data_id": 37, "target": "class", "type_id": 1},
    }
    data.suites[99] = [59, 31, 37]
    data.flows = {
        100: {"full_name": RF, "version": 1},
        101: {"full_name": RF, "version": 2},
        200: {
            "full_name": HGB_PIPE,
            "version": 1,
            "component": "sklearn.ensemble._hist_gradient_boosting.gradient_boosting."
            "HistGradientBoostingClassifier",
        },
        300: {"full_name": SVC, "version": 1},
        400: {"full_name": LOGREG, "version": 1},
    }
    data.setups = _setups()
    run_id = 1
    for task_id in data.tasks:
        for setup_id, setup in sorted(data.setups.items()):
            for _ in range(2):  # two runs of each setup: the second adds nothing new
                score = [[round(rng.uniform(0.6, 0.95), 4) for _ in range(10)]]
                data.runs.append(
                    Run(
                        run_id,
                        task_id,
                        setup_id,
                        setup["flow_id"],
                        {"area_under_roc_curve": score, "predictive_accuracy": score},
                    )
                )
                run_id += 1
    return data
