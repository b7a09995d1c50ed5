"""What a recommendation says about itself: its predicted score in the metric's units and
the stored datasets that support it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError


@dataclass(frozen=True)
class Neighbor:
    """A stored task that supports a recommendation."""

    name: str
    distance: float


def finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


#: Metrics the recommender can anchor on this dataset's LightGBM landmarker.
ANCHORED = ("roc_auc", "rmse", "r2", "mae")
#: Metrics compared with the default as ratios (errors in the data's units); the other
#: anchored ones are compared as differences (scores bounded by 1).
RATIO_METRICS = ("rmse", "mae")


def default_estimate(
    metric: str,
    metafeatures: pd.Series,
    target_std: float,
    mae_per_rmse: Callable[[], float | None] | None = None,
) -> float | None:
    """This dataset's expected metric for LightGBM's default, from the high-capacity
    LightGBM landmarker (the defaults' leaves and learning budget, cross-validated on a
    subsample): its AUC or R², for RMSE ``target_std`` * sqrt(1 - R²) (the population
    standard deviation of the target), and for MAE that RMSE times ``mae_per_rmse()`` (the
    default's MAE / RMSE on similar stored tasks)."""
    if metric not in ANCHORED:
        return None
    name = "autometa.GBMHighAUC" if metric == "roc_auc" else "autometa.GBMHighR2"
    value = finite(metafeatures.get(name))
    if value is None or metric in ("roc_auc", "r2"):
        return value
    rmse = target_std * float(np.sqrt(max(1.0 - value, 0.0)))
    if metric == "rmse":
        return rmse
    ratio = mae_per_rmse() if mae_per_rmse is not None else None
    return None if ratio is None else rmse * ratio


def default_ratio(
    numerator: pd.Series | None, denominator: pd.Series | None, task_ids: Any
) -> float | None:
    """Geometric mean over ``task_ids`` of one default-score series over another (see
    :func:`default_scores`), e.g. LightGBM's default's MAE / RMSE on the nearest tasks."""
    if numerator is None or denominator is None:
        return None
    a, b = numerator.reindex(task_ids), denominator.reindex(task_ids)
    ok = (a > 0) & (b > 0)
    if not ok.any():
        return None
    return float(np.exp(np.mean(np.log(a[ok] / b[ok]))))


def default_scores(meta: Any) -> pd.Series | None:
    """The library default's mean score per stored task id of a MetaData (None without
    the default)."""
    column = np.flatnonzero(meta.config_ids == meta.default_config_id)
    if not len(column):
        return None
    return pd.Series(meta.scores[:, column[0]], index=meta.tasks.index)


def reference_scores(
    family: str, meta: Any, lightgbm_meta: Callable[[], Any], anchor: float | None
) -> pd.Series | None:
    """LightGBM's default's mean score per stored task id: what the anchor estimates, so
    what every configuration (of any family) is compared with on the nearest tasks.
    ``lightgbm_meta`` loads LightGBM's MetaData when ``family`` is another one."""
    if anchor is None:
        return None
    if family != "lightgbm":
        try:
            meta = lightgbm_meta()
        except MetaModelError:
            return None
    return default_scores(meta)


def predicted_metric(
    meta: Any,
    neighbours: pd.DataFrame,
    config_id: int,
    score: Any,
    anchor: float | None,
    reference: pd.Series | None,
) -> float | None:
    """The expected metric value of a configuration on this dataset.

    With an ``anchor`` (LightGBM's default's estimate on this dataset, see
    :func:`default_estimate`) and that default's ``reference`` scores on the stored tasks:
    the anchor moved by how the configuration compared with LightGBM's default on the
    nearest stored tasks (their mean AUC or R² difference, or geometric-mean RMSE or MAE
    ratio).
    Otherwise the configuration's mean raw score on those tasks."""
    column = np.flatnonzero(meta.config_ids == config_id)
    rows = meta.tasks.index.get_indexer(neighbours["task_id"])
    rows = rows[rows >= 0]
    if not len(column) or not len(rows):
        return anchor if anchor is not None else finite(score)
    values = meta.scores[rows, column[0]]
    if anchor is not None and reference is not None:
        base = reference.reindex(meta.tasks.index[rows]).to_numpy(dtype=float)
        ok = np.isfinite(values) & np.isfinite(base)
        if meta.metric in RATIO_METRICS:
            ok &= (base > 0) & (values > 0)
            if ok.any():
                return anchor * float(np.exp(np.mean(np.log(values[ok] / base[ok]))))
        elif ok.any():
            return min(anchor + float(np.mean(values[ok] - base[ok])), 1.0)
        return anchor
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else finite(score)


def supporting(
    meta: Any, neighbours: pd.DataFrame, config_id: int, n: int = 3, near: int = 5
) -> list[Neighbor]:
    """The nearest stored tasks on which this configuration did well.

    Among the ``near`` nearest tasks that evaluated it, nearest first: those where it
    scored in the upper half of the task's range (normalised score >= 0.5); the nearest
    others fill up to ``n`` when fewer than ``n`` support it."""
    column = np.flatnonzero(meta.config_ids == config_id)
    rows = meta.tasks.index.get_indexer(neighbours["task_id"])
    frame = neighbours.assign(
        quality=[meta.normalised[r, column[0]] if r >= 0 and len(column) else np.nan for r in rows]
    )
    frame = frame.dropna(subset=["quality"]).sort_values("distance").head(near)
    frame = frame.assign(_weak=frame["quality"] < 0.5).sort_values(
        ["_weak", "distance"], kind="stable"
    )
    return [Neighbor(str(r.name), round(float(r.distance), 4)) for r in frame.head(n).itertuples()]
