"""The knowledge base's single best configuration per task kind (the live check's
``single_best`` method): one fixed configuration for every table of a kind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from autometa.benchmark.live.factories import FAMILY
from autometa.metrics import DEFAULT_METRICS, METRIC_DIRECTION, task_kind

if TYPE_CHECKING:
    from autometa.store.snapshot import Snapshot


@dataclass(frozen=True)
class SingleBest:
    """The configuration with the best mean normalised score over the stored tasks."""

    params: dict[str, Any]
    mean_normalised: float
    n_tasks: int
    n_configs: int
    config_id: int | None = None


def single_best_configs(
    kb: Snapshot,
    *,
    family: str = FAMILY,
    exclude_groups: Sequence[str] = (),
    min_coverage: float = 0.8,
) -> dict[str, SingleBest | None]:
    """Per task kind, the knowledge base's best configuration on average (None: no data).

    ``kb``: a knowledge base (its ``tasks``, ``configurations`` and ``evaluations`` are read).
    Per task, the mean-over-folds metric (roc_auc / rmse) of each configuration is scaled to
    1 = the task's best, 0 = its worst configuration (tasks where all tie are skipped; a
    configuration that failed on a task gets 0). The configuration with the highest mean over
    the tasks it was evaluated on wins; only configurations evaluated on at least
    ``min_coverage`` of the tasks compete (the store may be half-harvested). Tasks of the
    ``exclude_groups`` (the tables being checked) are left out.
    """
    tasks = kb.tasks[~kb.tasks["group_key"].isin(list(exclude_groups))]
    ev = kb.evaluations[kb.evaluations["family"] == family]
    ev = ev[ev["task_id"].isin(tasks.index)]
    out: dict[str, SingleBest | None] = {}
    for kind, metric in DEFAULT_METRICS.items():
        ids = tasks.index[[task_kind(t) == kind for t in tasks["task_type"]]]
        norm = normalised_scores(ev[ev["task_id"].isin(ids) & (ev["metric"] == metric)], metric)
        out[kind] = _best(norm, kb.configurations, min_coverage)
    return out


def normalised_scores(ev: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Task x configuration table of mean-over-folds scores scaled per task to 0 (worst) ..
    1 (best); a failed configuration gets 0, tasks where every configuration ties are left
    out."""
    if ev.empty:
        return pd.DataFrame()
    failed = ev[ev["status"] != "ok"].groupby(["task_id", "config_id"]).size().index
    ok = ev[(ev["status"] == "ok") & ev["value"].notna()]
    table = ok.groupby(["task_id", "config_id"])["value"].mean().unstack("config_id")
    oriented = float(METRIC_DIRECTION[metric]) * table
    low, high = oriented.min(axis=1), oriented.max(axis=1)
    span = high - low
    keep = span > 0
    norm = oriented[keep].sub(low[keep], axis=0).div(span[keep], axis=0)
    for task_id, config_id in failed:
        if task_id in norm.index:
            norm.loc[task_id, config_id] = 0.0
    return norm


def _best(
    norm: pd.DataFrame, configurations: pd.DataFrame, min_coverage: float
) -> SingleBest | None:
    """The highest mean among the configurations covering ``min_coverage`` of the tasks."""
    if norm.empty:
        return None
    coverage = norm.notna().mean(axis=0)
    candidates = norm.loc[:, coverage >= min_coverage]
    if candidates.shape[1] == 0:
        return None
    means = candidates.mean(axis=0)
    best = means.idxmax()
    return SingleBest(
        params=dict(configurations.loc[best, "params"]),
        mean_normalised=float(means[best]),
        n_tasks=len(norm),
        n_configs=int(candidates.shape[1]),
        config_id=int(best),
    )
