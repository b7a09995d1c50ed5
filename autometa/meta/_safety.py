"""What a stack serves first when its ranking is not to be trusted as it is.

The saturation gate serves the library default first on tasks a LightGBM landmarker
already scores near-perfectly; a task that is novel, or whose top pick the base models
disagree on, falls back to a robust order (:meth:`SafetySignals.fallback_order`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from autometa.meta._base import Candidates, MetaFeatures, MetaModel
from autometa.meta._fallback import FallbackRule
from autometa.meta.data import metafeature_frame
from autometa.meta.knn import NearestTasks, Novelty
from autometa.meta.portfolio import Portfolio

#: Classification tasks whose LightGBM landmarker scores at least this ROC AUC are saturated:
#: their configurations score alike, and the library default is served first (docs/meta.md,
#: "A saturation gate").
SATURATED_AUC = 0.98
SATURATION_FEATURE = "autometa.GBMHighAUC"


def moved_first(order: np.ndarray, first: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``order`` (tasks x candidates, positions) with candidate ``first[t]`` at position 0
    in each task ``t`` of ``rows``, the candidates before it shifted back by one."""
    order = order.copy()
    sub, pick = order[rows], first[rows]
    at = np.arange(len(rows))
    sub = sub + (sub < sub[at, pick][:, None])
    sub[at, pick] = 0
    order[rows] = sub
    return order


@dataclass(frozen=True)
class TaskDiagnostics:
    """Safety signals for one task: is the recommendation to be trusted?

    ``disagreement``: spread of the calibrated base models' scores for the top pick;
    ``novelty``: distance to the nearest training task relative to the training tasks'
    own spacing; ``fallback``: either exceeds its training 95th percentile.
    """

    top_config_id: int
    disagreement: float
    disagreement_threshold: float
    novelty: Novelty
    neighbours: pd.DataFrame
    fallback: bool


class SafetySignals:
    """The saturation gate and the fallback signals of a fitted stack."""

    saturation: float | None
    meta_: dict[str, Any]
    base_models_: list[MetaModel]
    novelty_model_: NearestTasks
    default_config_id_: int | None
    disagreement_threshold_: float
    fallback_rule_: FallbackRule | None

    if TYPE_CHECKING:

        def predict_batch(self, metafeatures: MetaFeatures) -> dict[str, np.ndarray]: ...

        def rank(
            self, metafeatures: MetaFeatures, candidates: Candidates = None
        ) -> pd.DataFrame: ...

    def saturated(self, metafeatures: MetaFeatures) -> np.ndarray:
        """Per task: does the saturation gate serve the library default first?"""
        frame = metafeature_frame(metafeatures)
        if self.saturation is None or self.meta_["task_kind"] != "classification":
            return np.zeros(len(frame), dtype=bool)
        if SATURATION_FEATURE not in frame:
            return np.zeros(len(frame), dtype=bool)
        auc = pd.to_numeric(frame[SATURATION_FEATURE], errors="coerce").to_numpy(float)
        return np.nan_to_num(auc, nan=-np.inf) >= float(self.saturation)

    @staticmethod
    def _default_first(order: np.ndarray, feats: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``order`` with the library default (level-2 feature ``is_default``) moved to
        position 0 in ``rows``, the others kept in their order."""
        is_default = feats[:, :, -1] > 0.5
        gated = np.flatnonzero(rows & is_default.any(axis=1))
        return moved_first(order, np.argmax(is_default, axis=1), gated)

    def fallback_order(self, metafeatures: MetaFeatures | None = None) -> list[int]:
        """Configuration ids ranked first when a task falls back: the robust portfolio's
        first member (the lowest mean regret over the training tasks), the library
        default, then the rest of the portfolio. Given one task's ``metafeatures``, the
        learned :class:`FallbackRule` may put the default before the portfolio member."""
        portfolio = next((m for m in self.base_models_ if isinstance(m, Portfolio)), None)
        members = [int(c) for c in portfolio.member_ids_] if portfolio is not None else []
        default = [] if self.default_config_id_ is None else [int(self.default_config_id_)]
        order = [*members[:1], *default, *members[1:]]
        rule = None if metafeatures is None else self.fallback_rule_  # set after fit's call
        if rule is not None and rule.default_first(metafeatures)[0]:
            order = [*default, *members]
        return list(dict.fromkeys(order))

    def fallback_mask(
        self, metafeatures: MetaFeatures, out: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Per task: is it novel (nearest-task distance above the training 95th
        percentile) or do the base models disagree on its top pick?"""
        out = self.predict_batch(metafeatures) if out is None else out
        top = np.argmin(out["order"], axis=1)
        spread = out["uncertainty"][np.arange(len(top)), top]
        novelty = np.array([n.percentile for n in self.novelty_model_.novelty(metafeatures)])
        return (novelty > 0.95) | (np.nan_to_num(spread) > self.disagreement_threshold_)

    def diagnose(
        self,
        metafeatures: MetaFeatures,
        n_neighbours: int = 5,
        ranking: pd.DataFrame | None = None,
    ) -> TaskDiagnostics:
        """Safety signals of one task (see :class:`TaskDiagnostics`); ``ranking``: this
        task's :meth:`rank` over every candidate, when already computed."""
        ranking = self.rank(metafeatures) if ranking is None else ranking
        novelty = self.novelty_model_.novelty(metafeatures)[0]
        disagreement = float(ranking["uncertainty"].iloc[0])
        fallback = novelty.percentile > 0.95 or disagreement > self.disagreement_threshold_
        return TaskDiagnostics(
            top_config_id=int(ranking["config_id"].iloc[0]),
            disagreement=disagreement,
            disagreement_threshold=self.disagreement_threshold_,
            novelty=novelty,
            neighbours=self.novelty_model_.neighbours(metafeatures, n_neighbours),
            fallback=bool(fallback),
        )
