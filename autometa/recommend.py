"""Recommendations: a dataset in, a short ranked and diverse list of configurations out."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError

#: Minimum-leaf-size parameter of each family: a candidate whose leaves cannot be filled on
#: this dataset is infeasible (FLAML's zero-shot picks min_child_samples=53 for 75 rows).
LEAF_PARAMS = {
    "lightgbm": "min_child_samples",
    "hist_gradient_boosting": "min_samples_leaf",
    "random_forest": "min_samples_leaf",
    "extra_trees": "min_samples_leaf",
}
DEFAULT_METRIC = {"classification": "roc_auc", "regression": "rmse"}


@dataclass(frozen=True)
class Neighbor:
    """A stored task that supports a recommendation."""

    name: str
    distance: float


@dataclass(frozen=True)
class Recommendation:
    """One recommended configuration; ``params`` are the estimator's keyword arguments."""

    rank: int
    model: str
    params: dict[str, Any]
    predicted_score: float | None
    uncertainty: float | None
    neighbors: list[Neighbor] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    source: str = "stack"

    def estimator(self, task_type: str) -> Any:
        """A fresh, unfitted estimator with these parameters."""
        from autometa.spaces import get_space

        return get_space(self.model).estimator_class(task_type)(**self.params)


@dataclass(frozen=True)
class RecommendationResult:
    """The answer for one dataset: what the CLI prints as JSON."""

    task: dict[str, Any]
    model: str
    metric: str
    direction: str
    recommendations: list[Recommendation]
    fallback: bool
    warnings: list[str]

    @property
    def best(self) -> Recommendation:
        return self.recommendations[0]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for rec in out["recommendations"]:
            rec.pop("config", None)
        return out


def task_kind(task_type: str) -> str:
    return "regression" if task_type == "regression" else "classification"


def feasible(family: str, config: Mapping[str, Any], n_rows: int) -> bool:
    """Whether a configuration can grow a useful model on ``n_rows`` rows."""
    name = LEAF_PARAMS.get(family)
    if name is None or name not in config:
        return True
    return int(config[name]) <= max(2, n_rows // 10)


def diverse_top(
    scores: np.ndarray, encodings: np.ndarray, k: int, penalty: float = 0.5
) -> list[int]:
    """Greedy maximal-marginal-relevance selection: high score, unlike the ones chosen.

    Encodings are scaled to [0, 1] per dimension; similarity is exp(-3 * mean |difference|).
    """
    order = np.argsort(-scores, kind="stable")
    if len(order) == 0:
        return []
    span = np.ptp(encodings, axis=0)
    scaled = (encodings - encodings.min(axis=0)) / np.where(span > 0, span, 1.0)
    spread = float(np.ptp(scores)) or 1.0
    chosen = [int(order[0])]
    pool = [int(i) for i in order[1 : 20 * k]]
    while len(chosen) < k and pool:
        similarity = np.exp(
            -3.0 * np.abs(scaled[pool][:, None, :] - scaled[chosen][None, :, :]).mean(axis=2)
        ).max(axis=1)
        gain = scores[pool] / spread - penalty * similarity
        best = pool.pop(int(np.argmax(gain)))
        chosen.append(best)
    return chosen


def _quiet_metafeatures(dataset: Any) -> dict[str, float | None]:
    from autometa.metafeatures import compute_metafeatures

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compute_metafeatures(dataset.X, dataset.y, dataset.task_type)


def as_frame(values: Mapping[str, float | None]) -> pd.Series:
    return pd.Series({k: (np.nan if v is None else float(v)) for k, v in values.items()})


def check_model(model: str) -> str:
    from autometa.spaces import get_space

    if model == "auto":
        return model
    try:
        return get_space(model).family
    except Exception as exc:
        raise MetaModelError(str(exc)) from exc
