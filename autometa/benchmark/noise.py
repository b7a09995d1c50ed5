"""Evaluation noise: how much of a leave-group-out result fold luck can explain.

:func:`in_task_reference` is the floor (choosing each task's configuration by its own
folds); :func:`paired_check` asks, for a method's top picks, whether each is worse (or
better) than the library default by more than the noise of the task's paired folds.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from autometa.meta._base import pick_regrets
from autometa.meta.data import MetaData, minmax_rows
from autometa.store.base import KnowledgeBase


def _fold_cube(kb: KnowledgeBase, data: MetaData) -> pd.Series:
    """Raw per-fold scores, direction-aware (higher = better), indexed (task, config, fold)."""
    ev = kb.evaluations_frame(family=data.family, metric=data.metric)
    ev = ev[ev["task_id"].isin(data.task_ids) & ev["config_id"].isin(data.config_ids)]
    values = data.direction * ev["value"].to_numpy(dtype=float)
    index = pd.MultiIndex.from_frame(ev[["task_id", "config_id", "fold"]])
    return pd.Series(values, index=index).groupby(level=[0, 1, 2]).mean()  # sorted, unique


def fold_matrices(kb: KnowledgeBase, data: MetaData, task_ids: Any) -> dict[int, np.ndarray]:
    """Per stored fold, the direction-aware scores (higher = better) of ``task_ids`` x
    ``data.config_ids`` (NaN where not evaluated)."""
    wide = _fold_cube(kb, data).unstack("config_id")
    folds = sorted(set(wide.index.get_level_values("fold")))
    return {
        int(f): wide.xs(f, level="fold").reindex(task_ids)[data.config_ids].to_numpy(float)
        for f in folds
    }


def paired_check(
    kb: KnowledgeBase,
    data: MetaData,
    results: pd.DataFrame,
    method: str = "stack",
    n_se: float = 2.0,
    tolerance: float = 0.001,
) -> dict[str, float]:
    """For ``method``'s top pick on each held-out task: the paired per-fold difference to
    the default (same folds). Returns the % of tasks where the pick is worse than the
    default at all, worse by more than ``n_se`` standard errors of that difference, worse
    by more than ``tolerance`` of the default's score (relative: 0.001 = 0.1 %), and better
    by more than ``n_se`` standard errors, plus the median relative deficit of the worse
    ones."""
    rows = results[results["method"] == method]
    if rows.empty or data.default_config_id is None:
        return {}
    cube = _fold_cube(kb, data)
    default = int(data.default_config_id)
    diffs, rel = [], []
    for task, pick in zip(rows["task_id"], rows["top1_config_id"], strict=True):
        try:
            a, b = cube.loc[(task, int(pick))], cube.loc[(task, default)]
        except KeyError:
            continue
        a, b = a.align(b, join="inner")
        if len(a) < 2:
            continue
        d = a.to_numpy() - b.to_numpy()
        diffs.append((d.mean(), d.std(ddof=1) / np.sqrt(len(d))))
        rel.append(d.mean() / max(abs(b.mean()), 1e-12))
    if not diffs:
        return {}
    mean, se = np.array(diffs).T
    rel_arr = np.array(rel)
    worse = mean < -1e-12
    deficit = float(np.median(rel_arr[worse])) if worse.any() else 0.0
    return {
        "tasks": float(len(mean)),
        "pct_worse": 100.0 * float(worse.mean()),
        "pct_worse_beyond_noise": 100.0 * float((mean < -n_se * se).mean()),
        "pct_worse_beyond_tolerance": 100.0 * float((rel_arr < -tolerance).mean()),
        "pct_better_beyond_noise": 100.0 * float((mean > n_se * se).mean()),
        "median_relative_deficit_of_worse": deficit,
    }


def in_task_reference(
    kb: KnowledgeBase, data: MetaData, task_ids: np.ndarray | None = None
) -> dict[str, float]:
    """Noise floor: regret of choosing each task's configuration by its own evaluations.

    For each task and fold k, the configuration with the best mean over the other folds is
    scored on fold k alone (normalised by fold k's best and worst), and so is the best of
    the five best over the other folds (``in_task_selection_top5``). Meta-learning cannot
    be expected to beat this in-task selection; the default is scored the same way, and
    ``pct_worse_than_default`` is how often the in-task pick scores below it on fold k;
    ``folds`` is the number of stored folds (every repeat's).
    ``task_ids`` restricts it to those tasks (default: all of ``data``'s).
    """
    cube = data.direction * _fold_cube(kb, data).unstack("fold")  # back to raw values
    if task_ids is not None:
        cube = cube[cube.index.get_level_values("task_id").isin(task_ids)]
    folds = list(cube.columns)
    wide = cube.unstack("config_id")
    regrets: dict[str, list[float]] = {
        "in_task_selection": [],
        "in_task_selection_top5": [],
        "default": [],
        "worse": [],
    }
    for k in folds:
        test = data.direction * wide[k].reindex(columns=data.config_ids).to_numpy(dtype=float)
        rest = [data.direction * wide[f].reindex(columns=data.config_ids) for f in folds if f != k]
        if not rest:
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a config missing on every fold
            chooser = np.nanmean(np.stack([r.to_numpy(dtype=float) for r in rest]), axis=0)
        norm, ok = minmax_rows(test)
        usable = np.where(np.isnan(chooser), np.nan, norm)[ok]  # chosen among both-scored
        default = data.default_position
        r = pick_regrets(chooser[ok], usable, default)
        regrets["in_task_selection"] += list(r["top1"])
        regrets["in_task_selection_top5"] += list(r["topk"])
        if default is not None:
            regrets["default"] += list(1 - norm[ok, default])
            regrets["worse"] += list(r["worse"])
    out = {k: float(np.nanmean(v)) for k, v in regrets.items() if v and k != "worse"}
    out["folds"] = float(len(folds))
    if regrets["worse"]:
        out["pct_worse_than_default"] = 100.0 * float(np.nanmean(regrets["worse"]))
    return out
