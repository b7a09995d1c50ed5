"""The cross-validation every live-check method shares: folds, fold scores, fitted params."""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from autometa.benchmark.live.tasks import Task
from autometa.metrics import DEFAULT_METRICS

#: (train positions, test positions) of one fold.
Fold = tuple[np.ndarray, np.ndarray]
#: ``make(X_train, y_train)`` -> an unfitted estimator (it may look at the training fold).
Factory = Callable[[pd.DataFrame, pd.Series], Any]

#: The LightGBM hyperparameters recorded per fitted fold.
RECORDED = (
    "learning_rate",
    "n_estimators",
    "num_leaves",
    "max_depth",
    "min_child_samples",
    "subsample",
    "subsample_freq",
    "colsample_bytree",
    "reg_alpha",
    "reg_lambda",
    "max_bin",
    "min_child_weight",
)


def make_folds(task: Task, n_folds: int = 5, seed: int = 0) -> list[Fold]:
    """The (train, test) positions shared by every method: StratifiedKFold or KFold."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if task.kind == "regression":
        return list(KFold(n_folds, shuffle=True, random_state=seed).split(task.X))
    splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(task.X, task.target))


def folds_id(folds: Sequence[Fold]) -> str:
    """Short hash of the test positions of every fold (equal ids = identical folds)."""
    digest = hashlib.sha256()
    for _, test in folds:
        digest.update(np.asarray(test, dtype="<i8").tobytes() + b"|")
    return digest.hexdigest()[:16]


def fold_score(task: Task, y_true: np.ndarray, prediction: np.ndarray) -> float:
    """ROC AUC (one-vs-rest macro for multiclass) or RMSE of one fold, as the harvest
    computes it; NaN where undefined."""
    from autometa.harvest.evaluate import score_fold

    scores = score_fold(task.task_type, y_true, prediction, task.n_classes)
    value = scores[DEFAULT_METRICS[task.kind]]
    return float("nan") if value is None else float(value)


def predict(estimator: Any, X: pd.DataFrame, task: Task) -> np.ndarray:
    """Regression values, or probabilities of all the task's classes (a class absent from
    the training fold gets 0)."""
    if task.kind == "regression":
        return np.asarray(estimator.predict(X), dtype=float)
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    seen = np.asarray(estimator.classes_, dtype=int)
    if len(seen) == task.n_classes:
        return proba
    full = np.zeros((len(X), task.n_classes))
    full[:, seen] = proba
    return full


def cross_validate(
    make: Factory, task: Task, folds: Sequence[Fold], *, fit_timeout: float | None = None
) -> dict[str, Any]:
    """Fit ``make(X_train, y_train)`` on every fold: mean score, fold scores, seconds, the
    fitted hyperparameters per fold and the folds' id. A fit that runs past ``fit_timeout``
    seconds is interrupted with an error."""
    from autometa.harvest.evaluate import time_limit

    target = task.target
    scores, params = [], []
    start = time.perf_counter()
    for train, test in folds:
        X_train, y_train = task.X.iloc[train], task.y.iloc[train]
        estimator = make(X_train, y_train)
        with warnings.catch_warnings(), time_limit(fit_timeout):
            warnings.simplefilter("ignore")
            estimator.fit(X_train, target[train])
            prediction = predict(estimator, task.X.iloc[test], task)
        scores.append(fold_score(task, target[test], prediction))
        params.append(fitted_params(estimator))
    return {
        "score": float(np.mean(scores)),
        "fold_scores": scores,
        "seconds": time.perf_counter() - start,
        "fold_params": params,
        "folds_id": folds_id(folds),
    }


def fitted_params(estimator: Any) -> dict[str, Any]:
    """The hyperparameters a fitted LightGBM model used (FLAML sets them inside ``fit``)."""
    params = estimator.get_params()
    return {k: _plain(params[k]) for k in RECORDED if params.get(k) is not None}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
