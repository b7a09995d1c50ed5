"""Weka's landmarkers as OpenML runs them, emulated on out-of-fold predictions.

REPTreeDepth{1,2,3} emulate Weka's REPTree: an entropy tree (at least 2 rows per leaf)
grown on 2/3 of each training fold, cut to the depth, reduced-error pruned on the other
1/3, leaf class distributions refitted on the whole training fold (backfitting).
NaiveBayes follows Weka's estimators; kNN1N is the nearest training row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import log_ndtr
from sklearn.tree import DecisionTreeClassifier


def reptree_proba(X: np.ndarray, y: np.ndarray, folds: list, seed: int) -> dict[int, np.ndarray]:
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


def naive_bayes_proba(
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


def knn1_predict(X: np.ndarray, target: np.ndarray, folds: list) -> np.ndarray:
    """Out-of-fold target of the nearest training row (Euclidean, first on ties)."""
    sq = np.einsum("ij,ij->i", X, X)
    out = np.empty_like(target)
    for train, test in folds:
        dist = sq[train][None, :] - 2.0 * X[test] @ X[train].T
        out[test] = target[train][dist.argmin(axis=1)]
    return out
