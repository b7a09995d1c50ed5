"""Rankers compared by the leave-group-out benchmark: baselines, base models, the stack.

A ranker has ``fit(data, train_task_ids)`` and ``scores(metafeatures) -> tasks × configs``
(higher first, over ``data.config_ids``; NaN ranks last).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, Self

import numpy as np
import pandas as pd

from autometa.meta._base import MetaModel, nan_mean
from autometa.meta._fallback import guard_margin, soft_fallback
from autometa.meta.data import MetaData
from autometa.meta.knn import NearestTasks
from autometa.meta.stack import StackedMetaLearner

#: FLAML's zero-shot meta-features (flaml/default/*.json "meta_feature_names").
FLAML_FEATURES = (
    "NumberOfInstances",
    "NumberOfFeatures",
    "NumberOfClasses",
    "PercentageOfNumericFeatures",
)


class Ranker(Protocol):
    name: str

    def fit(self, data: MetaData, train_task_ids: np.ndarray) -> Self: ...

    def scores(self, metafeatures: pd.DataFrame) -> np.ndarray | dict[str, np.ndarray]: ...


class DefaultRanker:
    """The library default first, the rest by mean training score."""

    name = "default"

    def fit(self, data: MetaData, train_task_ids: np.ndarray) -> Self:
        mean = np.nan_to_num(nan_mean(data.normalised[data.rows(train_task_ids)], axis=0), nan=-1)
        self.score_ = mean + 10.0 * (data.config_ids == data.default_config_id)
        return self

    def scores(self, metafeatures: pd.DataFrame) -> np.ndarray:
        return np.tile(self.score_, (len(metafeatures), 1))


class SingleBest(DefaultRanker):
    """The configuration with the best mean normalised score over the training tasks."""

    name = "single_best"

    def fit(self, data: MetaData, train_task_ids: np.ndarray) -> Self:
        self.score_ = nan_mean(data.normalised[data.rows(train_task_ids)], axis=0)
        return self


class NeighbourBest:
    """Best configurations of the nearest training tasks.

    ``style="flaml"``: FLAML zero-shot, 1-NN (L2) on its four meta-features scaled with a
    RobustScaler, the nearest task's configurations in its order. ``style="autosklearn"``:
    L1 on all scaled meta-features, the best configuration of each nearest task in turn.
    """

    def __init__(self, style: str) -> None:
        self.style = style
        self.name = f"{style}_knn" if style == "autosklearn" else "flaml_1nn"

    def fit(self, data: MetaData, train_task_ids: np.ndarray) -> Self:
        if self.style == "flaml":
            features = [c for c in FLAML_FEATURES if c in data.metafeatures.columns]
            self.model_ = NearestTasks(k=1, metric="l2", features=features, robust=True)
        else:
            self.model_ = NearestTasks(k=20, metric="l1", features="all")
        self.model_.fit(data, train_task_ids)
        return self

    def scores(self, metafeatures: pd.DataFrame) -> np.ndarray:
        frame = metafeatures.copy()
        if self.style == "flaml" and "NumberOfClasses" in frame:
            frame["NumberOfClasses"] = frame["NumberOfClasses"].fillna(
                0.0
            )  # FLAML: 0 for regression
        X = self.model_.transform_.transform(frame)
        return self.model_.neighbour_best_ranking(X, self.style)


class ModelRanker:
    """A base meta-model ranking by its ``score``."""

    def __init__(self, model: MetaModel) -> None:
        self.model = model
        self.name = model.name

    def fit(self, data: MetaData, train_task_ids: np.ndarray) -> Self:
        self.model_ = self.model.clone().fit(data, train_task_ids)
        return self

    def scores(self, metafeatures: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_batch(metafeatures).score


class StackRanker:
    """The stacked meta-learner's ranking (``<name>``), the same ranking without the
    default margin (``<name>_no_margin``), and what the recommender serves
    (``<name>_guarded``: tasks that trip the guard are ranked as in
    :mod:`autometa.meta._fallback`). ``margins`` adds ``<name>_margin<m>``: the ranking
    with the default margin set to each m instead of the learned one (the
    gain-versus-safety trade-off)."""

    def __init__(self, name: str = "stack", margins: Sequence[float] = (), **params: Any) -> None:
        self.name = name
        self.margins = tuple(margins)
        self.params = params

    def fit(self, data: MetaData, train_task_ids: np.ndarray) -> Self:
        self.model_ = StackedMetaLearner(**self.params).fit(data, train_task_ids)
        return self

    def scores(self, metafeatures: pd.DataFrame) -> dict[str, np.ndarray]:
        stack = self.model_
        out = stack.predict_batch(metafeatures)
        feats = out["features"]  # the base models run once; each margin re-ranks
        plain = stack.predict_batch(metafeatures, default_margin=0.0, features=feats)["order"]
        ranked = -out["order"].astype(float)
        guarded = ranked.copy()
        margin = guard_margin(stack.default_margin_)
        for t in np.flatnonzero(stack.fallback_mask(metafeatures, out)):
            row = metafeatures.iloc[[t]]
            again = stack.predict_batch(row, default_margin=margin, features=feats[[t]])
            order = np.argsort(again["order"][0])
            ids = stack.fallback_order(row)
            safe = [int(np.flatnonzero(stack.config_ids_ == c)[0]) for c in ids]
            guarded[t, soft_fallback(list(order), safe)] = -np.arange(len(order), dtype=float)
        swept = {
            f"{self.name}_margin{m:g}": -stack.predict_batch(
                metafeatures, default_margin=m, features=feats
            )["order"].astype(float)
            for m in self.margins
        }
        return {
            self.name: ranked,
            f"{self.name}_no_margin": -plain.astype(float),
            f"{self.name}_guarded": guarded,
            **swept,
        }


def default_rankers(
    margins: Sequence[float] = (),
    extra_models: Sequence[MetaModel] = (),
    **stack_params: Any,
) -> list[Callable[[], Ranker]]:
    """Factories of every method in the benchmark table, baselines first (``margins``:
    see :class:`StackRanker`; ``stack_params`` go to the stack). Each of ``extra_models``
    (candidate base models) adds its own row and a ``stack+<name>`` stack with it added
    to the default base models, to compare with the plain stack in the same run."""
    from autometa.meta.stack import default_base_models

    factories: list[Callable[[], Ranker]] = [
        DefaultRanker,
        SingleBest,
        lambda: NeighbourBest("flaml"),
        lambda: NeighbourBest("autosklearn"),
    ]
    for model in [*default_base_models(), *extra_models]:
        factories.append(lambda m=model: ModelRanker(m))
    factories.append(lambda: StackRanker(margins=margins, **stack_params))
    for model in extra_models:
        bases = [*default_base_models(), model.clone()]
        factories.append(
            lambda m=model, b=bases: StackRanker(
                f"stack+{m.name}", margins, base_models=b, **stack_params
            )
        )
    return factories
