"""Landmarkers: cross-validated scores of cheap learners, with OpenML's names.

scikit-learn stand-ins for OpenML's Weka landmarkers, run on a seeded, class-stratified
subsample of at most ``SAMPLE_MAX_ROWS`` rows with 10-fold stratified CV. Scores come from
the out-of-fold predictions of all folds pooled (as Weka's ``crossValidateModel``):
ErrRate = error rate, Kappa = Cohen's kappa, AUC = one-vs-rest ROC AUC averaged with class
prevalence weights (Weka's ``weightedAreaUnderROC``; plain ROC AUC for two classes).

REPTreeDepth{1,2,3}, NaiveBayes and kNN1N follow Weka's learners
(:mod:`autometa.metafeatures._weka`).

OpenML has no landmarkers for a numeric target: those names are None for regression,
which instead gets autometa's own ``autometa.*R2`` landmarkers (pooled out-of-fold R²).

Every task type also gets two landmarkers of the model family autometa tunes most
(learner-specific landmarking), 3-fold CV on the same subsample with 63 bins per feature:
LightGBM at low capacity (50 trees of 4 leaves, learning rate 0.1) and at high capacity
(trees of 31 leaves as in its defaults, 30 of them at learning rate 0.3: the defaults'
100 x 0.1 in a third of the time), scored as AUC (classification) or R² (regression):
``autometa.GBMLow*``, ``autometa.GBMHigh*`` and their difference ``autometa.GBMGain*``
(> 0: capacity pays on this task). Their splits are seeded ``random_state + 7919 + r``, never
the seeds the harvest cross-validates configurations with, so a stored task's landmarkers
do not share split luck with its stored scores; a small sample repeats the CV (about
3,000 rows in all, at most 5 repeats) and the scores are averaged: on a few hundred rows one
CV's gain is mostly noise (docs/research.md, landmarker_noise.py). Three stored LightGBM
configurations, the probes (:mod:`autometa.metafeatures.probes`), are cross-validated the
same way, each in a thread of its own, and reported as gains over ``GBMHigh``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LinearRegression
from sklearn.metrics import cohen_kappa_score, r2_score, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from autometa.metafeatures import probes
from autometa.metafeatures._base import PreparedData, Quality
from autometa.metafeatures._weka import knn1_predict, naive_bayes_proba, reptree_proba

N_FOLDS = 10
_MEASURES = ("AUC", "ErrRate", "Kappa")
_LANDMARKERS = ("kNN1N", "NaiveBayes", "DecisionStump", "REPTreeDepth1", "REPTreeDepth2",
                "REPTreeDepth3")  # fmt: skip
_REGRESSION = ("autometa.kNN1NR2", "autometa.LinearR2", "autometa.DecisionStumpR2",
               "autometa.TreeDepth3R2")  # fmt: skip
_REGRESSORS: dict[str, Callable[[int], BaseEstimator]] = {
    "autometa.LinearR2": lambda rs: LinearRegression(),
    "autometa.DecisionStumpR2": lambda rs: DecisionTreeRegressor(max_depth=1, random_state=rs),
    "autometa.TreeDepth3R2": lambda rs: DecisionTreeRegressor(max_depth=3, random_state=rs),
}
NAMES = tuple(f"{lm}{m}" for lm in _LANDMARKERS for m in _MEASURES)
GBM_FOLDS = 3
GBM_SEED_OFFSET = 7919  # landmarker folds never coincide with an evaluation's CV (seeds 0, 1, ...)
GBM_ROW_BUDGET = 3000  # rows x repeats of the LightGBM landmarkers' 3-fold CV (at most)
GBM_MAX_REPEATS = 5
_GBM = {
    "Low": {"n_estimators": 50, "learning_rate": 0.1, "num_leaves": 4, "min_child_samples": 10},
    "High": {"n_estimators": 30, "learning_rate": 0.3, "num_leaves": 31, "min_child_samples": 20},
}
PROBES = [probes.lgb_params(c) for c in probes.PROBES.values()]  # LightGBM keyword arguments


def gbm_names(task_type: str) -> list[str]:
    """autometa's LightGBM landmarkers: AUC for classification, R² for regression."""
    measure = "R2" if task_type == "regression" else "AUC"
    return [f"autometa.GBM{s}{measure}" for s in (*_GBM, "Gain")]


def names(task_type: str) -> list[str]:
    """OpenML landmarker names; for regression, followed by autometa's R² landmarkers; then
    autometa's LightGBM landmarkers and probes."""
    extra = list(_REGRESSION) if task_type == "regression" else []
    return [*NAMES, *extra, *gbm_names(task_type), *probes.names()]


def compute(data: PreparedData) -> dict[str, Quality]:
    """Cross-validate every landmarker on the subsample and score it."""
    out: dict[str, Quality] = dict.fromkeys(names(data.task_type))
    rows = data.sample_rows
    if len(rows) < 2 or data.sample_design.shape[1] == 0:
        return out
    if not data.is_classification:
        return out | _regression(data, rows)
    classes, y = np.unique(data.y_codes[rows], return_inverse=True)
    if len(classes) < 2:
        return out
    design = data.sample_design
    design32 = design.astype(np.float32)  # what the trees fit on anyway: convert once
    folds = _folds(y, data.random_state)
    rs = data.random_state
    fold_sets = _gbm_fold_sets(y, rs, False)
    with ThreadPoolExecutor(2 + len(PROBES)) as pool:  # trees and LightGBM release the GIL
        probe = _submit_probes(pool, "binary", design32, y, fold_sets, rs)
        reptree = pool.submit(reptree_proba, design32, y, folds, rs)
        gbm = pool.submit(_gbm, "binary", design32, y, fold_sets, rs)
        stump = _oof_proba(
            lambda: DecisionTreeClassifier(max_depth=1, criterion="entropy", random_state=rs),
            design32, y, folds,
        )  # fmt: skip
        out |= _scores("kNN1N", np.eye(len(classes))[knn1_predict(design, y, folds)], y)
        nb = naive_bayes_proba(data.numeric[rows], data.codes[rows], data.n_levels, y, folds)
        out |= _scores("NaiveBayes", nb, y)
        out |= _scores("DecisionStump", stump, y)
        for depth, proba in reptree.result().items():
            out |= _scores(f"REPTreeDepth{depth}", proba, y)
        out |= _with_probes(gbm.result(), _joined(probe), "binary")
    return out


def gbm_repeats(n_rows: int) -> int:
    """Repeats of the LightGBM landmarkers' CV: about ``GBM_ROW_BUDGET`` rows in all, so a
    full subsample is cross-validated once and a small table up to ``GBM_MAX_REPEATS``
    times (its AUC from a few dozen minority rows is the noisiest)."""
    return int(np.clip(GBM_ROW_BUDGET // max(n_rows, 1), 1, GBM_MAX_REPEATS))


def gbm_folds(y: np.ndarray, seed: int, *, regression: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """One 3-fold split of the landmarking sample (stratified for classes)."""
    if regression:
        cv = KFold(n_splits=min(GBM_FOLDS, len(y)), shuffle=True, random_state=seed)
        return list(cv.split(y))
    return _folds(y, seed, GBM_FOLDS)


def _gbm_fold_sets(y: np.ndarray, seed: int, regression: bool) -> list[list]:
    """The repeated splits, seeded apart from the evaluations' CV seeds."""
    first = seed + GBM_SEED_OFFSET
    return [gbm_folds(y, first + r, regression=regression) for r in range(gbm_repeats(len(y)))]


def _gbm(
    task_type: str, X: np.ndarray, y: np.ndarray, fold_sets: list[list], seed: int
) -> dict[str, Quality]:
    """Pooled out-of-fold AUC (classification) or R² (regression) of LightGBM at low and
    high capacity, averaged over the repeated splits, and the gain; None for all three when
    a fold cannot be fitted."""
    scores = _gbm_scores(task_type, X, y, fold_sets, seed, list(_GBM.values()))
    low, high, gain = gbm_names(task_type)
    if scores is None:
        return dict.fromkeys([low, high, gain])
    return {low: scores[0], high: scores[1], gain: scores[1] - scores[0]}


def _gbm_scores(
    task_type: str,
    X: np.ndarray,
    y: np.ndarray,
    fold_sets: list[list],
    seed: int,
    configs: list[dict[str, Any]],
) -> list[float] | None:
    """Each LightGBM configuration's pooled out-of-fold AUC or R², averaged over the
    repeated splits (63 bins); None when a fold cannot be fitted."""
    import lightgbm as lgb

    regression = task_type == "regression"
    cls = lgb.LGBMRegressor if regression else lgb.LGBMClassifier
    common = {"max_bin": 63, "random_state": seed, "n_jobs": 1, "verbosity": -1}
    scores = []
    for kw in configs:
        make = lambda kw=kw: cls(**kw, **common)  # noqa: E731
        try:
            if regression:
                per = [r2_score(y, _oof_predict(make, X, y, folds)) for folds in fold_sets]
            else:
                per = [_auc(_oof_proba(make, X, y, folds), y) for folds in fold_sets]
        except (ValueError, lgb.basic.LightGBMError):  # a one-class fold; too few rows
            return None
        scores.append(float(np.mean(per)))
    return scores


def _submit_probes(
    pool: ThreadPoolExecutor,
    task_type: str,
    X: np.ndarray,
    y: np.ndarray,
    fold_sets: list[list],
    seed: int,
) -> list[Future]:
    """One job per probe (the longest landmarkers: spread over the pool's threads)."""
    return [pool.submit(_gbm_scores, task_type, X, y, fold_sets, seed, [p]) for p in PROBES]


def _joined(parts: list[Future]) -> list[float] | None:
    """The probes' scores from one job per probe (None if any failed)."""
    scores = [f.result() for f in parts]
    return None if any(s is None for s in scores) else [s[0] for s in scores]


def _with_probes(
    gbm: dict[str, Quality], probe_scores: list[float] | None, task_type: str
) -> dict[str, Quality]:
    """The LightGBM landmarkers plus the probes' gains over ``GBMHigh``."""
    high = gbm[gbm_names(task_type)[1]]
    if probe_scores is None or high is None:
        return gbm | dict.fromkeys(probes.names())
    return gbm | probes.gains(probe_scores, float(high))


def _folds(y: np.ndarray, seed: int, n_folds: int = N_FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds (plain shuffled folds when every class has a single row)."""
    n_splits = min(n_folds, int(np.bincount(y).max()))
    if n_splits < 2:
        cv = KFold(n_splits=min(n_folds, len(y)), shuffle=True, random_state=seed)
        return list(cv.split(y))
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # classes rarer than the fold count
        return list(cv.split(np.zeros(len(y)), y))


def _oof_proba(
    make: Callable[[], BaseEstimator], X: np.ndarray, y: np.ndarray, folds: list
) -> np.ndarray:
    """Out-of-fold class probabilities, columns = all classes of ``y`` (0..k-1)."""
    proba = np.zeros((len(y), int(y.max()) + 1))
    for train, test in folds:
        model = make().fit(X[train], y[train])
        proba[np.ix_(test, model.classes_)] = model.predict_proba(X[test])
    return proba


def _oof_predict(
    make: Callable[[], BaseEstimator], X: np.ndarray, y: np.ndarray, folds: list
) -> np.ndarray:
    """Out-of-fold predictions of a regressor."""
    pred = np.empty_like(y)
    for train, test in folds:
        pred[test] = make().fit(X[train], y[train]).predict(X[test])
    return pred


def _scores(name: str, proba: np.ndarray, y: np.ndarray) -> dict[str, Quality]:
    """ErrRate, Kappa and prevalence-weighted one-vs-rest AUC of pooled predictions."""
    pred = proba.argmax(axis=1)
    auc = _auc(proba, y)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        kappa = float(cohen_kappa_score(y, pred))
    return {
        f"{name}AUC": auc,
        f"{name}ErrRate": float(np.mean(pred != y)),
        f"{name}Kappa": kappa if np.isfinite(kappa) else None,
    }


def _auc(proba: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC (two classes) or prevalence-weighted one-vs-rest AUC of pooled predictions."""
    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    counts = np.bincount(y, minlength=proba.shape[1])
    present = np.flatnonzero(counts)
    aucs = [roc_auc_score(y == c, proba[:, c]) for c in present]
    return float(np.average(aucs, weights=counts[present]))


def _regression(data: PreparedData, rows: np.ndarray) -> dict[str, Quality]:
    """autometa's regression landmarkers: pooled out-of-fold R² of each regressor."""
    X, y = data.sample_design, data.y_values[rows]
    if np.ptp(y) == 0:
        return dict.fromkeys([*_REGRESSION, *gbm_names("regression"), *probes.names()])
    rs = data.random_state
    with ThreadPoolExecutor(1 + len(PROBES)) as pool:  # LightGBM releases the GIL
        fold_sets = _gbm_fold_sets(y, rs, True)
        X32 = X.astype(np.float32)
        probe = _submit_probes(pool, "regression", X32, y, fold_sets, rs)
        gbm = pool.submit(_gbm, "regression", X32, y, fold_sets, rs)
        out = _cheap_regressors(X, y, rs)
        return out | _with_probes(gbm.result(), _joined(probe), "regression")


def _cheap_regressors(X: np.ndarray, y: np.ndarray, rs: int) -> dict[str, Quality]:
    """Pooled out-of-fold R² of 1-NN, linear regression, a stump and a depth-3 tree."""
    cv = KFold(n_splits=min(N_FOLDS, len(y)), shuffle=True, random_state=rs)
    folds = list(cv.split(X))
    out: dict[str, Quality] = {"autometa.kNN1NR2": float(r2_score(y, knn1_predict(X, y, folds)))}
    for name, make in _REGRESSORS.items():
        out[name] = float(r2_score(y, _oof_predict(lambda m=make: m(rs), X, y, folds)))
    return out
