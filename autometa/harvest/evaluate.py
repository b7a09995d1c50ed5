"""Evaluate one configuration on one dataset with fixed k-fold cross-validation."""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)
from sklearn.model_selection import KFold, StratifiedKFold

from autometa.metrics import metrics_for


@dataclass(frozen=True)
class FoldResult:
    """Scores of one configuration on one fold; ``status`` is ok, error or timeout."""

    fold: int
    scores: dict[str, float | None]
    fit_seconds: float | None
    status: str = "ok"
    message: str | None = None


class EvaluationTimeout(Exception):
    """Raised inside a fit that ran past its time budget."""


def fold_indices(
    y: pd.Series, task_type: str, n_folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The fixed (train, test) index pairs used for every configuration of a task."""
    if task_type == "regression":
        splitter: KFold | StratifiedKFold = KFold(n_folds, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y))))
    codes = np.asarray(y.cat.codes if hasattr(y, "cat") else pd.factorize(y)[0])
    smallest = np.bincount(codes[codes >= 0]).min()
    if smallest >= n_folds:
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    else:  # a class rarer than the fold count cannot be stratified
        splitter = KFold(n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(codes)), codes))


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (SIGALRM; only in a process's main thread)."""
    usable = (
        seconds is not None
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise EvaluationTimeout(f"fit exceeded {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))  # type: ignore[arg-type]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def score_fold(
    task_type: str, y_true: np.ndarray, prediction: np.ndarray, n_classes: int
) -> dict[str, float | None]:
    """All metrics of a fold; ``prediction`` is class probabilities or regression values."""
    if task_type == "regression":
        return {
            "rmse": float(math.sqrt(mean_squared_error(y_true, prediction))),
            "mae": float(mean_absolute_error(y_true, prediction)),
            "r2": float(r2_score(y_true, prediction)) if len(y_true) > 1 else None,
        }
    proba = np.clip(prediction, 1e-15, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    labels = np.arange(n_classes)
    predicted = prediction.argmax(axis=1)
    return {
        "roc_auc": _auc(y_true, prediction, n_classes),
        "log_loss": float(log_loss(y_true, proba, labels=labels)),
        "accuracy": float(accuracy_score(y_true, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, predicted)),
    }


def _auc(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> float | None:
    """Binary AUC, or one-vs-rest macro AUC over the classes present in the fold."""
    if n_classes == 2:
        if len(np.unique(y_true)) < 2:
            return None
        return float(roc_auc_score(y_true, proba[:, 1]))
    aucs = [
        roc_auc_score(y_true == k, proba[:, k])
        for k in range(n_classes)
        if 0 < (y_true == k).sum() < len(y_true)
    ]
    return float(np.mean(aucs)) if aucs else None


def evaluate_config(
    X: pd.DataFrame,
    y: pd.Series,
    task_type: str,
    family: str,
    params: Mapping[str, Any],
    *,
    n_folds: int = 3,
    seed: int = 0,
    timeout: float | None = None,
    folds: list[tuple[np.ndarray, np.ndarray]] | None = None,
    fit: Callable[[Any, pd.DataFrame, np.ndarray], Any] | None = None,
) -> list[FoldResult]:
    """Cross-validate one configuration; failures become error/timeout results, never raise.

    ``fit(estimator, X_train, y_train)`` fits on a training fold (default:
    ``estimator.fit``), e.g. with early stopping (:mod:`autometa.optuna.rounds`).
    """
    from autometa.spaces import get_space

    space = get_space(family)
    splits = folds if folds is not None else fold_indices(y, task_type, n_folds, seed)
    categorical = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    if task_type == "regression":
        target = np.asarray(y, dtype=float)
        n_classes = 0
    else:
        target = np.asarray(y.cat.codes, dtype=int)
        n_classes = len(y.cat.categories)
    results: list[FoldResult] = []
    for fold, (train, test) in enumerate(splits):
        start = time.perf_counter()
        try:
            estimator = space.make_estimator(
                params, task_type, categorical_columns=categorical, random_state=seed, n_jobs=1
            )
            with time_limit(timeout):
                if fit is None:
                    estimator.fit(X.iloc[train], target[train])
                else:
                    fit(estimator, X.iloc[train], target[train])
                prediction = _predict(estimator, X.iloc[test], task_type, n_classes)
            elapsed = time.perf_counter() - start
            if timeout is not None and elapsed > timeout:
                raise EvaluationTimeout(f"fit took {elapsed:.1f} s > {timeout:g} s")
            scores = score_fold(task_type, target[test], prediction, n_classes)
            results.append(FoldResult(fold, scores, elapsed))
        except EvaluationTimeout as exc:
            results.append(_failed(fold, task_type, start, "timeout", str(exc)))
        except Exception as exc:  # a bad configuration must not stop the harvest
            results.append(_failed(fold, task_type, start, "error", f"{type(exc).__name__}: {exc}"))
    return results


def _failed(fold: int, task_type: str, start: float, status: str, message: str) -> FoldResult:
    scores: dict[str, float | None] = dict.fromkeys(metrics_for(task_type))
    return FoldResult(fold, scores, time.perf_counter() - start, status, message[:2000])


def _predict(estimator: Any, X: pd.DataFrame, task_type: str, n_classes: int) -> np.ndarray:
    if task_type == "regression":
        return np.asarray(estimator.predict(X), dtype=float)
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    seen = np.asarray(estimator.classes_, dtype=int)
    if len(seen) == n_classes:
        return proba
    full = np.zeros((len(X), n_classes))  # classes absent from the training fold get 0
    full[:, seen] = proba
    return full
