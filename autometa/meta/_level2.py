"""Stack internals: level-2 models, the default-safety margin, top-k diversification,
leave-group-out folds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import nnls
from sklearn.model_selection import GroupKFold

from autometa.exceptions import MetaModelError
from autometa.meta._base import lgb_params, nan_mean, top1_regrets
from autometa.meta.knn import NearestTasks

LEVEL2_KINDS = ("mean", "blend", "linear", "lgbm")
BLEND_STEP = 0.1  # grid step of the blend weights
BLEND_RULES = ("best", "one_se", "bagged")
BAGS = 200  # bootstrap resamples of the tasks for blend_rule="bagged"
MARGINS = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 1.0)


@dataclass
class Level2:
    """A fitted level-2 model: the mean of the calibrated base scores, their weighted mean
    (``blend``), a non-negative linear blend, or a (monotone) LightGBM booster."""

    kind: str
    booster: lgb.Booster | None = None
    coef: np.ndarray | None = None  # linear: intercept, then one weight per feature
    fill: np.ndarray | None = None  # linear: value standing for a missing feature
    columns: np.ndarray | None = None  # mean, blend: positions of the calibrated base scores
    weights: np.ndarray | None = None  # blend: one weight per column, summing to 1

    def predict(self, feats: np.ndarray) -> np.ndarray:
        """Predicted normalised score, tasks × candidates, from tasks × candidates × features."""
        flat = feats.reshape(-1, feats.shape[2])
        if self.kind in ("mean", "blend"):
            assert self.columns is not None
            w = np.ones(len(self.columns)) if self.weights is None else self.weights
            out = weighted_mean(flat[:, self.columns], w)
        elif self.kind == "lgbm":
            assert self.booster is not None
            out = np.asarray(self.booster.predict(flat), dtype=float)
        else:
            assert self.coef is not None and self.fill is not None
            out = self.coef[0] + np.where(np.isnan(flat), self.fill, flat) @ self.coef[1:]
        return out.reshape(feats.shape[:2])

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str]]:
        if self.kind == "mean":
            assert self.columns is not None
            return {"kind": "mean"}, {"level2.columns": self.columns}, {}
        if self.kind == "blend":
            assert self.columns is not None and self.weights is not None
            arrays = {"level2.columns": self.columns, "level2.weights": self.weights}
            return {"kind": "blend"}, arrays, {}
        if self.kind == "lgbm":
            assert self.booster is not None
            return {"kind": "lgbm"}, {}, {"level2": self.booster.model_to_string()}
        assert self.coef is not None and self.fill is not None
        return {"kind": self.kind}, {"level2.coef": self.coef, "level2.fill": self.fill}, {}

    @classmethod
    def from_state(
        cls,
        config: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        boosters: Mapping[str, str],
    ) -> Level2:
        if config["kind"] == "mean":
            return cls("mean", columns=np.asarray(arrays["level2.columns"], dtype=int))
        if config["kind"] == "blend":
            columns = np.asarray(arrays["level2.columns"], dtype=int)
            return cls("blend", columns=columns, weights=np.asarray(arrays["level2.weights"]))
        if config["kind"] == "lgbm":
            return cls("lgbm", booster=lgb.Booster(model_str=boosters["level2"]))
        return cls(config["kind"], coef=arrays["level2.coef"], fill=arrays["level2.fill"])


def train_level2(
    kind: str,
    feats: np.ndarray,
    Y: np.ndarray,
    params: Mapping[str, Any],
    monotone: np.ndarray,
    calibrated: np.ndarray,
    blend_rule: str = "best",
) -> Level2:
    """Fit level-2 on rows (task, candidate) with a known normalised score.

    ``monotone`` marks the features the prediction may only increase with (base scores);
    ``calibrated`` the base scores that estimate the normalised score (averaged by "mean");
    ``blend_rule`` how "blend" picks its weights (:func:`fit_blend`).
    """
    if kind == "mean":
        return Level2("mean", columns=np.flatnonzero(calibrated))
    if kind == "blend":
        columns = np.flatnonzero(calibrated)
        weights = fit_blend(feats[:, :, columns], Y, rule=blend_rule, seed=params.get("seed", 0))
        return Level2("blend", columns=columns, weights=weights)
    F, y = feats.reshape(-1, feats.shape[2]), Y.ravel()
    ok = np.isfinite(y)
    F, y = F[ok], y[ok]
    if kind == "lgbm":
        p = lgb_params(objective="regression", min_data_in_leaf=40, lambda_l2=1.0, **params)
        p["monotone_constraints"] = [int(m) for m in monotone]
        rounds = int(p.pop("n_estimators", 100))
        return Level2("lgbm", booster=lgb.train(p, lgb.Dataset(F, y), num_boost_round=rounds))
    if kind == "linear":
        fill = np.nan_to_num(nan_mean(F, axis=0), nan=0.0)
        Z = np.where(np.isnan(F), fill, F)
        # intercept free (split into + and - parts), other weights >= 0 where monotone
        signs = np.where(monotone, 1.0, np.nan)
        cols = [np.ones(len(Z)), -np.ones(len(Z))]
        layout = []
        for j in range(Z.shape[1]):
            cols.append(Z[:, j])
            layout.append((j, 1.0))
            if np.isnan(signs[j]):
                cols.append(-Z[:, j])
                layout.append((j, -1.0))
        w, _ = nnls(np.column_stack(cols), y)
        coef = np.zeros(Z.shape[1] + 1)
        coef[0] = w[0] - w[1]
        for (j, s), v in zip(layout, w[2:], strict=True):
            coef[j + 1] += s * v
        return Level2("linear", coef=coef, fill=fill)
    raise MetaModelError(f"unknown level-2 model {kind!r}; valid: {', '.join(LEVEL2_KINDS)}")


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted mean over the finite entries (NaN where none has weight)."""
    finite = np.isfinite(values)
    total = finite.astype(float) @ weights
    out = np.where(finite, values, 0.0) @ weights
    return np.divide(out, total, out=np.full(total.shape, np.nan), where=total > 0)


def simplex_grid(n: int, step: float = BLEND_STEP) -> np.ndarray:
    """Every weight vector of ``n`` non-negative multiples of ``step`` summing to 1."""
    units = round(1.0 / step)

    def parts(k: int, left: int) -> list[list[int]]:
        if k == 1:
            return [[left]]
        return [[i, *rest] for i in range(left + 1) for rest in parts(k - 1, left - i)]

    return np.asarray(parts(n, units), dtype=float) / units


def fit_blend(
    scores: np.ndarray,
    Y: np.ndarray,
    step: float = BLEND_STEP,
    rule: str = "best",
    seed: int = 0,
) -> np.ndarray:
    """Weights (tasks × candidates × models ``scores``) for the weighted mean, by top-1
    regret against ``Y``. ``rule="best"``: the lowest regret, ties to the weights closest
    to equal. ``"one_se"``: the weights closest to equal among those within one standard
    error (of the per-task difference to the best) of the lowest regret: a steadier
    choice where many weightings are within noise of each other. ``"bagged"``: the mean of
    the lowest-regret weights over bootstrap resamples of the tasks (seeded by ``seed``):
    steadier without pulling towards equal weights."""
    if rule not in BLEND_RULES:
        raise MetaModelError(f"unknown blend rule {rule!r}; valid: {', '.join(BLEND_RULES)}")
    n = scores.shape[2]
    flat = scores.reshape(-1, n)
    grid = simplex_grid(n, step)
    per_task = np.stack([top1_regrets(weighted_mean(flat, w).reshape(Y.shape), Y) for w in grid])
    regret = np.round(per_task.mean(axis=1), 9)
    distance = np.abs(grid - 1.0 / n).sum(axis=1)
    best = int(np.lexsort((distance, regret))[0])
    if rule == "one_se" and len(Y) > 1:
        diff = per_task - per_task[best]
        se = diff.std(axis=1, ddof=1) / np.sqrt(len(Y))
        near = regret <= regret[best] + se + 1e-9
        best = int(np.flatnonzero(near)[np.lexsort((regret[near], distance[near]))[0]])
    if rule == "bagged":
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(Y), size=(BAGS, len(Y)))
        resampled = np.round(per_task[:, draws].mean(axis=2), 9)  # grid × bags
        winners = [int(np.lexsort((distance, bag))[0]) for bag in resampled.T]
        return grid[winners].mean(axis=0)
    return grid[best]


def margin_curve(pred: np.ndarray, Y: np.ndarray, default_pos: int) -> pd.DataFrame:
    """Top-1 regret and rate of top picks worse than the default, for each margin."""
    rows = []
    has_default = np.isfinite(Y[:, default_pos])
    for margin in MARGINS:
        p = np.where(np.isnan(Y), -np.inf, pred)
        p[:, default_pos] += margin
        top = Y[np.arange(len(Y)), np.argmax(p, axis=1)]
        worse = top < Y[:, default_pos] - 1e-12
        rows.append((margin, float(np.mean(1 - top)), float(worse[has_default].mean())))
    return pd.DataFrame(rows, columns=["margin", "regret", "worse_than_default"])


def choose_margin(curve: pd.DataFrame, max_worse: float, max_regret_increase: float) -> float:
    """Among margins costing at most ``max_regret_increase`` top-1 regret over the best
    one: the smallest meeting ``max_worse``, else the one with the fewest top picks worse
    than the default."""
    if curve.empty:
        return 0.0
    budget = curve["regret"].min() + max_regret_increase + 1e-12
    ok = curve[curve["regret"] <= budget]
    meet = ok[ok["worse_than_default"] <= max_worse]
    if len(meet):
        return float(meet["margin"].iloc[0])
    return float(ok.loc[ok["worse_than_default"].idxmin(), "margin"])


def bagged_margin(
    pred: np.ndarray,
    Y: np.ndarray,
    default_pos: int,
    max_worse: float,
    max_regret_increase: float,
    seed: int = 0,
) -> float:
    """The mean over bootstrap resamples of the tasks of the margin :func:`choose_margin`
    picks on each resample's curve: steadier than one pick on near-flat curves."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(Y), size=(BAGS, len(Y)))
    curves = (margin_curve(pred[rows], Y[rows], default_pos) for rows in draws)
    picks = [choose_margin(curve, max_worse, max_regret_increase) for curve in curves]
    return float(np.mean(picks))


def diversified_order(
    priority: np.ndarray,
    samples: np.ndarray,
    weights: np.ndarray,
    k: int,
    pool: np.ndarray | None = None,
) -> np.ndarray:
    """Candidate order: the top-priority pick first, then greedily, for ``k`` positions,
    the ``pool`` candidate that most raises the weighted expected best score of the set;
    the rest by priority.

    ``samples`` (similar tasks × candidates) are those tasks' normalised scores, recentred
    so that their weighted mean equals ``priority`` (NaN: no information, use priority).
    """
    order = list(np.argsort(-np.nan_to_num(priority, nan=-np.inf), kind="stable"))
    if k <= 1 or len(order) <= 1 or samples.size == 0:
        return np.asarray(order)
    w = weights / weights.sum()
    known = np.isfinite(samples)
    total = (known * w[:, None]).sum(axis=0)
    mean = (np.nan_to_num(samples) * w[:, None]).sum(axis=0) / np.where(total > 0, total, 1.0)
    centred = np.where(known, samples, mean) - mean + priority
    centred = np.nan_to_num(centred, nan=-np.inf)
    chosen = [order[0]]
    best = centred[:, order[0]].copy()
    free = np.ones(len(priority), dtype=bool) if pool is None else pool.astype(bool).copy()
    free[order[0]] = False
    for _ in range(min(k, len(order)) - 1):
        gain = (np.maximum(best[:, None], centred) * w[:, None]).sum(axis=0)
        gain = np.where(free & np.isfinite(priority), gain + 1e-9 * priority, -np.inf)
        c = int(np.argmax(gain))
        if not np.isfinite(gain[c]):
            break
        chosen.append(c)
        free[c] = False
        best = np.maximum(best, centred[:, c])
    return np.asarray(chosen + [c for c in order if c not in set(chosen)])


def similarity_positions(
    knn: NearestTasks,
    X: np.ndarray,
    priority: np.ndarray,
    idx: np.ndarray,
    k: int,
    pool: np.ndarray | None,
    n_neighbours: int = 0,
) -> np.ndarray:
    """Ranking positions (0 = first) per task of ``X``: :func:`diversified_order` over
    ``knn``'s ``n_neighbours`` nearest training tasks (0: all), weighted by inverse
    meta-feature distance."""
    n = len(knn.X_) if n_neighbours <= 0 else min(n_neighbours, len(knn.X_))
    dist, nbrs = knn.kneighbors(X, n)
    scale = max(float(np.median(knn.reference_)), 1e-9)
    positions = np.empty(priority.shape, dtype=int)
    for t in range(len(priority)):
        samples = np.where(idx >= 0, knn.Y_[nbrs[t]][:, np.clip(idx, 0, None)], np.nan)
        order = diversified_order(priority[t], samples, 1.0 / (dist[t] / scale + 0.05), k, pool)
        positions[t, order] = np.arange(len(order))
    return positions


def group_folds(
    task_ids: np.ndarray, groups: np.ndarray, n_splits: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train ids, test ids) pairs; a group is never on both sides."""
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise MetaModelError(f"leave-group-out needs at least 2 task groups, got {n_groups}")
    splitter = GroupKFold(min(n_splits, n_groups), shuffle=True, random_state=seed)
    return [(task_ids[a], task_ids[b]) for a, b in splitter.split(task_ids, groups=groups)]


def unique_keys(names: Sequence[str]) -> list[str]:
    """Names made unique by numbering repeats (knn, knn2, ...)."""
    seen: dict[str, int] = {}
    keys = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        keys.append(n if seen[n] == 1 else f"{n}{seen[n]}")
    return keys
