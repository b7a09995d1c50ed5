"""Landmarkers: cross-validated scores of cheap learners, with OpenML's names.

scikit-learn stand-ins for OpenML's Weka landmarkers, run on a seeded, class-stratified
subsample of at most ``SAMPLE_MAX_ROWS`` rows with 10-fold stratified CV. Scores come from
the out-of-fold predictions of all folds pooled (as Weka's ``crossValidateModel``):
ErrRate = error rate, Kappa = Cohen's kappa, AUC = one-vs-rest ROC AUC averaged with class
prevalence weights (Weka's ``weightedAreaUnderROC``; plain ROC AUC for two classes).

REPTreeDepth{1,2,3} emulate Weka's REPTree: an entropy tree (at least 2 rows per leaf)
grown on 2/3 of each training fold, cut to the depth, reduced-error pruned on the other
1/3, leaf class distributions refitted on the whole training fold (backfitting).

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
CV's gain is mostly noise (``scripts/landmarker_noise.py``). Three stored LightGBM
configurations, the probes (:mod:`autometa.metafeatures.probes`), are cross-validated the
same way, each in a thread of its own, and reported as gains over ``GBMHigh``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from scipy.special import log_ndtr
from sklearn.base import BaseEstimator
from sklearn.linear_model import LinearRegression
from sklearn.metrics import cohen_kappa_score, r2_score, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from autometa.metafeatures import probes
from autometa.metafeatures._base import PreparedData, Quality

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
        reptree = pool.submit(_reptree_proba, design32, y, folds, rs)
        gbm = pool.submit(_gbm, "binary", design32, y, fold_sets, rs)
        stump = _oof_proba(
            lambda: DecisionTreeClassifier(max_depth=1, criterion="entropy", random_state=rs),
            design32, y, folds,
        )  # fmt: skip
        out |= _scores("kNN1N", np.eye(len(classes))[_knn1_predict(design, y, folds)], y)
        nb = _naive_bayes_proba(data.numeric[rows], data.codes[rows], data.n_levels, y, folds)
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


def _reptree_proba(X: np.ndarray, y: np.ndarray, folds: list, seed: int) -> dict[int, np.ndarray]:
    """Out-of-fold posteriors of the REPTree emulation for depths 1, 2 and 3."""
    k = int(y.max()) + 1
    rng = np.random.default_rng(seed)
    out = {d: np.zeros((len(y), k)) for d in (1, 2, 3)}
    for train, test in folds:
        perm = rng.permutation(train)
        cut = max(1, (2 * len(train)) // 3)
        grow, prune = perm[:cut], perm[cut:]
        tree = DecisionTreeClassifier(
            max_depth=3, criterion="entropy", min_samples_leaf=2, random_state=seed
        ).fit(X[grow], y[grow])
        t = tree.tree_
        left, right = t.children_left, t.children_right
        majority = tree.classes_[t.value[:, 0, :].argmax(axis=1)]
        depth = np.zeros(t.node_count, dtype=np.int64)
        for node in range(t.node_count):  # parents precede children in sklearn's node order
            if left[node] >= 0:
                depth[left[node]] = depth[right[node]] = depth[node] + 1

        for d in (1, 2, 3):
            is_leaf = (left < 0) | (depth >= d)
            path = _descend(X, prune, t, is_leaf, d)
            wrong = y[prune][None, :] != majority[np.stack(path)]
            # prune-set errors of each node as a leaf, then collapse bottom-up (REP)
            err_leaf = np.zeros(t.node_count)
            for level, nodes in enumerate(path):
                at = depth[nodes] == level
                err_leaf += np.bincount(nodes[at], wrong[level][at], minlength=t.node_count)
            err_tree = err_leaf.copy()
            for node in np.argsort(-depth, kind="stable"):
                if not is_leaf[node]:
                    err_tree[node] = err_tree[left[node]] + err_tree[right[node]]
                    if err_leaf[node] <= err_tree[node]:
                        is_leaf[node], err_tree[node] = True, err_leaf[node]
            fitted = np.bincount(_descend(X, train, t, is_leaf, d)[-1] * k + y[train],
                                 minlength=t.node_count * k).reshape(-1, k)  # fmt: skip
            counts = fitted[_descend(X, test, t, is_leaf, d)[-1]].astype(np.float64)
            total = counts.sum(axis=1, keepdims=True)
            out[d][test] = np.where(total > 0, counts / np.maximum(total, 1), 1.0 / k)
    return out


def _descend(X: np.ndarray, rows: np.ndarray, t: Any, is_leaf: np.ndarray, levels: int) -> list:
    """Node of each row of a fitted ``tree_`` at every level 0..levels (staying at leaves);
    compares in float32 like scikit-learn's trees."""
    node = np.zeros(len(rows), dtype=np.int64)
    path = [node]
    for _ in range(levels):
        go = ~is_leaf[node]
        f = np.where(go, t.feature[node], 0)
        child = np.where(
            X[rows, f].astype(np.float32) <= t.threshold[node],
            t.children_left[node],
            t.children_right[node],
        )
        node = np.where(go, child, node)
        path.append(node)
    return path


def _naive_bayes_proba(
    num: np.ndarray, codes: np.ndarray, n_levels: np.ndarray, y: np.ndarray, folds: list
) -> np.ndarray:
    """Out-of-fold posteriors of Weka's NaiveBayes: Laplace class prior; per numeric column
    a normal estimator on values rounded to the column's precision (range / distinct gaps),
    sd floored at precision / 6, scoring the probability mass of +-precision / 2; nominal
    columns Laplace-smoothed; missing values skipped; every factor at least 1e-75."""
    k = int(y.max()) + 1
    offsets = np.concatenate([[0], np.cumsum(n_levels)[:-1]]).astype(np.int64)
    flat = np.where(codes >= 0, codes + offsets, -1)
    n_slots, floor = int(n_levels.sum()), np.log(1e-75)
    proba = np.zeros((len(y), k))
    for train, test in folds:
        yt, onehot = y[train], np.eye(k)[y[train]]
        jll = np.tile(np.log((np.bincount(yt, minlength=k) + 1.0) / (len(yt) + k)), (len(test), 1))
        if num.shape[1]:
            x, ok = num[train], np.isfinite(num[train])
            prec = _precision(x, ok)
            xr = np.where(ok, np.rint(x / prec) * prec, 0.0)
            w, s1 = onehot.T @ ok, onehot.T @ xr
            mean = s1 / np.maximum(w, 1.0)
            sd = np.sqrt(np.abs(onehot.T @ xr**2 - mean * s1) / np.maximum(w, 1.0))
            sd = np.where((w > 0) & (sd > 1e-10), np.maximum(sd, prec / 6), prec / 6)
            xs = num[test]
            z = (np.rint(xs / prec) * prec)[:, None, :] - mean[None] - prec / 2
            log_p = np.maximum(_log_normal_mass(z / sd, (z + prec) / sd), floor)
            jll += np.where(np.isfinite(xs)[:, None, :], log_p, 0.0).sum(axis=2)
        if codes.shape[1]:
            ft = flat[train]
            table = np.zeros((k, n_slots + 1))  # last slot collects missing values
            np.add.at(table, (np.repeat(yt, ft.shape[1]), ft.ravel()), 1.0)
            table = table[:, :n_slots]
            seen = np.add.reduceat(table, offsets, axis=1)  # (k, q) non-missing per column
            log_p = np.log((table + 1.0) / (np.repeat(seen + n_levels, n_levels, axis=1)))
            fs = flat[test]
            jll += np.where(fs >= 0, np.maximum(log_p[:, fs], floor), 0.0).sum(axis=2).T
        jll -= jll.max(axis=1, keepdims=True)
        p = np.exp(jll)
        proba[test] = p / p.sum(axis=1, keepdims=True)
    return proba


def _precision(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Weka's numeric precision per column: (max - min) / number of distinct gaps, else 0.01."""
    srt = np.sort(np.where(ok, x, np.inf), axis=0)
    with np.errstate(invalid="ignore"):
        gap = np.diff(srt, axis=0)
        gaps = ((gap > 0) & np.isfinite(gap)).sum(axis=0)
    span = np.fmax.reduce(np.where(ok, x, np.nan), axis=0) - np.fmin.reduce(
        np.where(ok, x, np.nan), axis=0
    )
    return np.where(gaps > 0, span / np.maximum(gaps, 1), 0.01)


def _log_normal_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(Phi(b) - Phi(a))`` for ``a < b``, accurate in both tails."""
    flip = a > 0
    lo, hi = np.where(flip, -b, a), np.where(flip, -a, b)
    l_lo, l_hi = log_ndtr(lo), log_ndtr(hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        return l_hi + np.log1p(-np.exp(l_lo - l_hi))


def _knn1_predict(X: np.ndarray, target: np.ndarray, folds: list) -> np.ndarray:
    """Out-of-fold target of the nearest training row (Euclidean, first on ties)."""
    sq = np.einsum("ij,ij->i", X, X)
    out = np.empty_like(target)
    for train, test in folds:
        dist = sq[train][None, :] - 2.0 * X[test] @ X[train].T
        out[test] = target[train][dist.argmin(axis=1)]
    return out


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
    out: dict[str, Quality] = {"autometa.kNN1NR2": float(r2_score(y, _knn1_predict(X, y, folds)))}
    for name, make in _REGRESSORS.items():
        out[name] = float(r2_score(y, _oof_predict(lambda m=make: m(rs), X, y, folds)))
    return out
