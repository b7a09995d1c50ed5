"""Size-dependent parameters: how the best configuration moves with a table's row count,
and carrying that trend beyond the knowledge base's largest tables.

The knowledge base may hold one table at several sizes: its own task and the size anchors
``<name>@1k``, ``@10k``, ``@30k``, ``@100k`` (row samples of it, in the same group). The
meta-models see ``NumberOfInstances``, so within that range they learn where the best
configuration goes; tree models cannot extrapolate past the largest size. Here, for every
table stored at two sizes or more, each task's best configurations (the mean log value of
each parameter over its :data:`TOP_K` configurations of highest normalised score, among the
configurations evaluated at every size of the table) are compared across sizes, and a
pooled slope of log(parameter) on log(rows) is fitted per size-dependent parameter
(within-table, so each table keeps its own level), with a standard error clustered by
table. A slope less than :data:`SIGNIFICANCE` standard errors from 0 counts as 0.
:func:`scale_config` multiplies a configuration's parameters by
``(n_rows / n_reference) ** slope`` for a table larger than the largest stored one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError

#: The parameters of each family whose best value moves with the number of rows.
SIZE_PARAMS: dict[str, tuple[str, ...]] = {
    "lightgbm": ("n_estimators", "min_child_samples", "num_leaves", "learning_rate"),
    "hist_gradient_boosting": ("max_iter", "min_samples_leaf", "max_leaf_nodes", "learning_rate"),
    "random_forest": ("min_samples_leaf", "min_samples_split"),
    "extra_trees": ("min_samples_leaf", "min_samples_split"),
}
#: Configurations of highest normalised score that stand for a task's best.
TOP_K = 5
#: Fewest configurations evaluated at every size of a table for it to count.
MIN_COMMON = 8
#: How many standard errors a slope must be from 0 to be used.
SIGNIFICANCE = 2.0
#: A size anchor's suffix: ``keel/letter@10k`` is a sample of ``keel/letter``.
_ANCHOR = re.compile(r"@[0-9.]+[kKmM]?$")


@dataclass(frozen=True)
class SizeTrend:
    """The size trend of one family's best configurations in a knowledge base."""

    family: str
    slopes: dict[str, float]  #: per parameter; 0 where not distinguishable from 0
    estimates: dict[str, float] = field(default_factory=dict)  #: the fitted slopes
    errors: dict[str, float] = field(default_factory=dict)  #: their standard errors
    tables: int = 0  #: tables stored at two sizes or more (that the slopes come from)
    n_reference: int = 0  #: rows of the family's largest stored task

    def factors(self, n_rows: int) -> dict[str, float]:
        """The multiplier of each sloped parameter at ``n_rows`` (none at or below
        :attr:`n_reference`)."""
        if self.n_reference <= 0 or n_rows <= self.n_reference:
            return {}
        ratio = n_rows / self.n_reference
        return {p: ratio**s for p, s in self.slopes.items() if s != 0.0}


def table_of(name: str) -> str:
    """The stored table a task samples: its name without a size anchor's ``@...``."""
    return _ANCHOR.sub("", str(name))


def has_size_series(tasks: pd.DataFrame) -> bool:
    """Whether any stored table has tasks at two sizes or more (cheap: tasks only)."""
    if tasks.empty:
        return False
    keys = tasks["group_key"].fillna(tasks["name"]).astype(str)
    tables = keys + "\x00" + tasks["name"].map(table_of)
    return bool((tasks.groupby(tables.to_numpy())["n_rows"].nunique() >= 2).any())


def size_slopes(kb: Any, family: str = "lightgbm") -> dict[str, float]:
    """Per size-dependent parameter of ``family``, the pooled slope of log(parameter) on
    log(rows) of the best configurations across the sizes a table is stored at (0 where
    it is not distinguishable from 0); :func:`size_trend` has the errors."""
    return size_trend(kb, family).slopes


def size_trend(kb: Any, family: str = "lightgbm") -> SizeTrend:
    """:class:`SizeTrend` of ``family`` from a knowledge base's evaluations (each task
    kind's default metric, both kinds pooled)."""
    from autometa.meta import build_metadata

    metadata = per_kind(lambda kind, metric: build_metadata(kb, family, kind, metric))
    return trend_of(metadata, kb.configurations, family)


def per_kind(get: Callable[[str, str], Any]) -> list[Any]:
    """``get(kind, metric)`` for each task kind and its default metric, leaving out the
    kinds it raises MetaModelError for (no evaluations, too few tasks)."""
    from autometa.metrics import DEFAULT_METRICS

    out = []
    for kind, metric in DEFAULT_METRICS.items():
        try:
            out.append(get(kind, metric))
        except MetaModelError:
            continue
    return out


def trend_of(metadata: Iterable[Any], configurations: pd.DataFrame, family: str) -> SizeTrend:
    """:class:`SizeTrend` from the MetaData of ``family`` (one per task kind) and the
    knowledge base's configurations (their ``params``)."""
    params = SIZE_PARAMS.get(family, ())
    points: list[tuple[str, float, np.ndarray]] = []  # (table, log rows, mean log params)
    n_reference = 0
    for data in metadata:
        sizes = _sizes(data)
        n_reference = max(n_reference, largest(data))
        points += _best_by_size(data, sizes, configurations, params)
    estimates, errors = _pooled_slopes(points, len(params))
    slopes = {
        p: (float(b) if np.isfinite(se) and abs(b) >= SIGNIFICANCE * se else 0.0)
        for p, b, se in zip(params, estimates, errors, strict=True)
    }
    return SizeTrend(
        family=family,
        slopes=slopes,
        estimates=dict(zip(params, map(float, estimates), strict=True)),
        errors=dict(zip(params, map(float, errors), strict=True)),
        tables=len({t for t, _, _ in points}),
        n_reference=n_reference,
    )


def largest(data: Any) -> int:
    """Rows of the largest task of a MetaData (0 when it has none)."""
    return int(np.nanmax(_sizes(data), initial=0))


def _sizes(data: Any) -> np.ndarray:
    """Rows of each MetaData task: NumberOfInstances, else the stored n_rows."""
    stored = data.tasks["n_rows"].to_numpy(dtype=float)
    if "NumberOfInstances" not in data.metafeatures.columns:
        return stored
    counted = data.metafeatures["NumberOfInstances"].to_numpy(dtype=float)
    return np.where(np.isfinite(counted), counted, stored)


def _best_by_size(
    data: Any, sizes: np.ndarray, configurations: pd.DataFrame, params: tuple[str, ...]
) -> list[tuple[str, float, np.ndarray]]:
    """(table, log rows, mean log value of each parameter over the top configurations) of
    every task of a table stored at two sizes or more."""
    if not params:
        return []
    stored = [configurations.at[int(c), "params"] for c in data.config_ids]
    logs = np.array([[_log(config.get(p)) for p in params] for config in stored])
    keys = data.tasks["group_key"].astype(str) + "\x00" + data.tasks["name"].map(table_of)
    out = []
    for table, rows in pd.Series(np.arange(len(keys)), index=keys.to_numpy()).groupby(level=0):
        rows = rows.to_numpy()
        if len(np.unique(sizes[rows])) < 2:
            continue
        scores = data.normalised[rows]
        common = np.isfinite(scores).all(axis=0) & np.isfinite(logs).all(axis=1)
        if common.sum() < MIN_COMMON:
            continue
        for row, score in zip(rows, scores[:, common], strict=True):
            top = np.argsort(-score, kind="stable")[:TOP_K]
            out.append((str(table), math.log(sizes[row]), logs[common][top].mean(axis=0)))
    return out


def _log(value: Any) -> float:
    """log of a positive parameter value, else NaN."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return math.log(v) if v > 0 else float("nan")


def _pooled_slopes(
    points: list[tuple[str, float, np.ndarray]], n_params: int
) -> tuple[np.ndarray, np.ndarray]:
    """Within-table slopes of each column of the points' values on their log rows, and
    their standard errors clustered by table (infinite where they cannot be estimated)."""
    nan, inf = np.full(n_params, np.nan), np.full(n_params, np.inf)
    tables = sorted({t for t, _, _ in points})
    if len(tables) < 2:
        return nan, inf
    x_parts, y_parts = [], []
    for table in tables:
        x = np.array([lx for t, lx, _ in points if t == table])
        y = np.vstack([v for t, _, v in points if t == table])
        x_parts.append(x - x.mean())
        y_parts.append(y - y.mean(axis=0))
    sxx = sum(float(x @ x) for x in x_parts)
    if sxx <= 0:
        return nan, inf
    slope = sum(x @ y for x, y in zip(x_parts, y_parts, strict=True)) / sxx
    scores = np.vstack(
        [x @ (y - np.outer(x, slope)) for x, y in zip(x_parts, y_parts, strict=True)]
    )  # each table's share of the estimating equation
    g = len(tables)
    error = np.sqrt(g / (g - 1) * (scores**2).sum(axis=0)) / sxx
    return slope, np.where(error > 0, error, np.inf)


def scale_config(
    config: Mapping[str, Any],
    family: str,
    n_rows: int,
    n_reference: int,
    slopes: Mapping[str, float],
    space: Mapping[str, Any],
) -> dict[str, Any]:
    """``config`` for a table of ``n_rows`` rows: each of the family's size-dependent
    parameters with a slope is multiplied by ``(n_rows / n_reference) ** slope`` when
    ``n_rows > n_reference``, then kept within its distribution in ``space`` (the
    family's ``distributions(task_type)``): clipped to its bounds, integers rounded."""
    out = dict(config)
    if n_reference <= 0 or n_rows <= n_reference:
        return out
    for name in SIZE_PARAMS.get(family, ()):
        slope = float(slopes.get(name, 0.0))
        if slope == 0.0 or name not in out or name not in space:
            continue
        out[name] = _within(float(out[name]) * (n_rows / n_reference) ** slope, space[name])
    return out


def _within(value: float, dist: Any) -> Any:
    """``value`` clipped to a numeric distribution's bounds (an int one's on its steps)."""
    from optuna.distributions import IntDistribution

    value = min(max(value, dist.low), dist.high)
    if isinstance(dist, IntDistribution):
        step = dist.step or 1
        steps = round((value - dist.low) / step)
        return int(min(dist.low + steps * step, dist.high))
    return float(value)


def scale_recommendations(
    recs: list[Any], trend: SizeTrend | None, n_rows: int, task_type: str
) -> tuple[list[Any], str | None]:
    """The recommendations with their size-dependent parameters scaled for a table of
    ``n_rows`` rows beyond ``trend.n_reference``, and the note that says so (None when
    there is no trend, the table is within the stored sizes or no stored table has two
    sizes)."""
    from autometa.recommendation import notes
    from autometa.spaces import get_space

    if trend is None or trend.tables == 0 or n_rows <= trend.n_reference or not recs:
        return recs, None
    factors = trend.factors(n_rows)
    if not factors:
        return recs, notes.no_size_trend(n_rows, trend.n_reference)
    space = get_space(trend.family)
    dists = space.distributions(task_type)
    out = []
    for rec in recs:
        config = scale_config(
            rec.config, trend.family, n_rows, trend.n_reference, trend.slopes, dists
        )
        params = space.hyperparameters(config, task_type, random_state=0)
        out.append(replace(rec, config=config, params=params))
    return out, notes.size_scaled(n_rows, trend.n_reference, factors)
