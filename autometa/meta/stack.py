"""Stacked meta-learner: base meta-models combined by a level-2 model.

``fit`` predicts every training task with base models that never saw it or its group
(GroupKFold on ``group_key``), trains the level-2 model on those out-of-fold predictions
to predict the normalised score, chooses the default-safety margin on cross-fitted level-2
predictions, then refits the base models on all training tasks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError
from autometa.meta._base import Candidates, MetaFeatures, MetaModel, best_of_top, top1_regret
from autometa.meta._fallback import fit_fallback_rule
from autometa.meta._level2 import (
    LEVEL2_KINDS,
    Level2,
    bagged_margin,
    choose_margin,
    group_folds,
    margin_curve,
    similarity_positions,
    train_level2,
    unique_keys,
)
from autometa.meta._safety import (
    SATURATED_AUC,
    SATURATION_FEATURE,
    SafetySignals,
    TaskDiagnostics,
    moved_first,
)
from autometa.meta._stack_features import Level2Features, default_base_models, usable_models
from autometa.meta.data import MetaData, training_target
from autometa.meta.knn import NearestTasks
from autometa.meta.portfolio import greedy_portfolio

#: Candidate ``caution`` values for ``caution="auto"`` (units of base-model disagreement).
CAUTIONS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
#: Candidate ``diversify`` values for ``diversify="auto"``: priority order, or five positions
#: chosen for the set.
DIVERSIFY_CHOICES: tuple[int, ...] = (1, 5)


class StackedMetaLearner(Level2Features, SafetySignals):
    """Level-2 combination of base meta-models, with a default-safety margin.

    Args:
        base_models: unfitted base models (default: :func:`default_base_models`).
        n_splits: GroupKFold splits for the out-of-fold base predictions.
        level2: "blend" (default: the weighted mean of the calibrated base scores, the
            weights by top-1 regret on the rows it is trained on, see ``blend_rule``),
            "mean" (their plain mean), "linear" (non-negative blend), "lgbm" (monotone
            LightGBM), or "auto": the one with the lowest cross-fitted top-1
            regret on the training tasks.
        blend_rule: how "blend" picks its weights (:func:`fit_blend`): "bagged" (default:
            the mean of the lowest-regret weights over bootstrap resamples of the training
            tasks), "best" (the lowest top-1 regret) or "one_se" (the weights closest to
            equal within one standard error of it).
        default_margin: a candidate must beat the library default's predicted score by this
            much to rank above it; "auto" picks it on cross-fitted predictions, "bagged"
            averages that pick over bootstrap resamples of the training tasks.
        max_worse_than_default, max_regret_increase: "auto" considers the margins costing
            at most ``max_regret_increase`` cross-fitted top-1 regret over the best one and
            takes the smallest whose rate of top picks worse than the default is at most
            ``max_worse_than_default``, else the one with the lowest rate.
        diversify: after the top pick, positions of the ranking filled for the best
            expected score of the set (over the training tasks, weighted by similarity)
            rather than one by one; 1 = off. "auto" picks it from ``DIVERSIFY_CHOICES`` by
            cross-fitted best-of-top-5 regret on the training tasks (each fold's positions
            drawn from that fold's nearest tasks and pool only).
        pool_size: those positions are drawn from a greedy portfolio of this many
            configurations built on the training tasks (complementary by construction);
            0 = from every candidate.
        diversify_neighbours: the expected score of the set is taken over this many
            nearest training tasks (0 = all of them, weighted by similarity).
        caution: the top pick maximises the priority less this many units of the base
            models' disagreement (``uncertainty``): a lower confidence bound, preferring a
            configuration the models agree on for the one configuration a user trains;
            the ranking without it follows (positions 2-5 are for exploration). "auto" picks it
            from ``CAUTIONS`` by cross-fitted top-1 regret on the training tasks.
        saturation: classification only: a task whose LightGBM landmarker ROC AUC
            (``autometa.GBMHighAUC``) is at least this gets the library default first, the
            rest of its ranking unchanged (on such tasks a pick beats the default by fold
            noise as often as it loses to it); None = off. Applied when ranking, not in fit.
        n_estimators, learning_rate, num_leaves: level-2 LightGBM's.
        seed: fold shuffling and LightGBM seed.
        target: what the base and level-2 models learn per task (:func:`training_target`):
            "rank" (default; each task's ranks scaled to [0, 1]) or "minmax" (the
            normalised score the benchmark's regret is measured in).
    """

    def __init__(
        self,
        base_models: Sequence[MetaModel] | None = None,
        n_splits: int = 5,
        level2: str = "blend",
        blend_rule: str = "bagged",
        default_margin: float | str = "auto",
        max_worse_than_default: float = 0.05,
        max_regret_increase: float = 0.0,
        diversify: int | str = 5,
        pool_size: int = 8,
        diversify_neighbours: int = 0,
        caution: float | str = 0.0,
        saturation: float | None = SATURATED_AUC,
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        seed: int = 0,
        target: str = "rank",
    ) -> None:
        self.base_models = base_models
        self.n_splits = n_splits
        self.level2 = level2
        self.blend_rule = blend_rule
        self.default_margin = default_margin
        self.max_worse_than_default = max_worse_than_default
        self.max_regret_increase = max_regret_increase
        self.diversify = diversify
        self.pool_size = pool_size
        self.diversify_neighbours = diversify_neighbours
        self.caution = caution
        self.saturation = saturation
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.seed = seed
        self.target = target

    # ------------------------------------------------------------------ fit
    def fit(self, data: MetaData, train_task_ids: Sequence[int] | np.ndarray | None = None) -> Self:
        """Fit base models out-of-fold, the level-2 model, the margin, then refit bases."""
        regret_scale = data.normalised  # what "best of the set" is measured in
        data = dataclasses.replace(data, normalised=training_target(data.normalised, self.target))
        ids = data.task_ids if train_task_ids is None else np.asarray(train_task_ids, dtype=int)
        rows = data.rows(ids)
        protos = default_base_models() if self.base_models is None else list(self.base_models)
        protos = usable_models(protos)
        if not protos:
            raise MetaModelError("a stack needs at least one base model")
        self.model_keys_ = unique_keys([m.name for m in protos])
        self.folds_ = group_folds(ids, data.groups(ids), self.n_splits, self.seed)
        self.config_ids_ = data.config_ids.copy()
        self.default_config_id_ = data.default_config_id
        feats, fold_knn = self._out_of_fold(protos, data, ids)
        self.base_models_ = [m.clone().fit(data, ids) for m in protos]
        Y = data.normalised[rows]
        self.oof_features_ = feats  # level-2 training inputs (not persisted)
        self.pool_ = (
            greedy_portfolio(regret_scale[rows], self.pool_size)[0] if self.pool_size > 0 else None
        )
        # level-2 kind, margin and disagreement threshold from cross-fitted predictions
        cross = self._cross_level2(feats, Y, pd.Index(ids))
        self.level2_regret_ = {k: top1_regret(p, Y) for k, p in cross.items()}
        self.level2_kind_ = min(cross, key=lambda k: self.level2_regret_[k])
        self.level2_ = self._train(self.level2_kind_, feats, Y)
        self.oof_level2_ = cross[self.level2_kind_]  # cross-fitted scores (not persisted)
        disagreement = self._disagreement(feats)
        spread = np.nan_to_num(disagreement, nan=0.0)
        self.caution_ = self._choose_caution(cross[self.level2_kind_], spread, Y)
        pred = cross[self.level2_kind_] - self.caution_ * spread
        d = data.default_position
        self.margin_curve_ = margin_curve(pred, Y, d) if d is not None else pd.DataFrame()
        self.default_margin_ = self._choose_margin(pred, Y, d)
        priority = cross[self.level2_kind_] + self.default_margin_ * feats[:, :, -1]
        self.diversify_ = self._choose_diversify(
            data, ids, fold_knn, priority, spread, regret_scale[rows]
        )
        top = np.argmax(np.where(np.isnan(Y), -np.inf, pred), axis=1)
        spread = disagreement[np.arange(len(top)), top]
        finite = spread[np.isfinite(spread)]
        self.disagreement_threshold_ = float(np.quantile(finite, 0.95)) if finite.size else np.inf
        self.novelty_model_ = next(
            (m for m in self.base_models_ if isinstance(m, NearestTasks)), None
        ) or NearestTasks().fit(data, ids)
        safe = self.fallback_order()
        self.fallback_rule_ = (
            fit_fallback_rule(data, ids, safe[0], self.default_config_id_) if safe else None
        )
        self.train_task_ids_ = ids
        self.meta_ = {"family": data.family, "task_kind": data.task_kind, "metric": data.metric}
        return self

    def _out_of_fold(
        self, protos: Sequence[MetaModel], data: MetaData, ids: np.ndarray
    ) -> tuple[np.ndarray, list[NearestTasks | None]]:
        """Level-2 features of every training task from base models fitted on the other
        folds, and each fold's nearest-tasks model (its positions 2-5 for "auto")."""
        mf = data.metafeatures.iloc[data.rows(ids)]
        position = pd.Index(ids)
        feats: np.ndarray | None = None
        fold_knn = []
        for train, test in self.folds_:
            models = [m.clone().fit(data, train) for m in protos]
            fold_knn.append(next((m for m in models if isinstance(m, NearestTasks)), None))
            part = self._features(models, mf.loc[test], None)
            if feats is None:
                feats = np.full((len(ids), len(data.config_ids), part.shape[2]), np.nan)
            feats[position.get_indexer(test)] = part
        assert feats is not None
        return feats, fold_knn

    def _cross_level2(
        self, feats: np.ndarray, Y: np.ndarray, position: pd.Index
    ) -> dict[str, np.ndarray]:
        """Cross-fitted level-2 scores of each candidate kind (every kind for "auto")."""
        kinds = LEVEL2_KINDS if self.level2 == "auto" else (self.level2,)
        if any(k not in LEVEL2_KINDS for k in kinds):
            raise MetaModelError(
                f"unknown level2 {self.level2!r}; valid: auto, {', '.join(LEVEL2_KINDS)}"
            )
        cross = {}
        for kind in kinds:
            pred = np.full(Y.shape, np.nan)
            for train, test in self.folds_:
                tr, te = position.get_indexer(train), position.get_indexer(test)
                pred[te] = self._train(kind, feats[tr], Y[tr]).predict(feats[te])
            cross[kind] = pred
        return cross

    def _train(self, kind: str, feats: np.ndarray, Y: np.ndarray) -> Level2:
        params = {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "seed": self.seed,
        }
        monotone, calibrated = self._score_columns()
        return train_level2(kind, feats, Y, params, monotone, calibrated, self.blend_rule)

    def _choose_caution(self, pred: np.ndarray, spread: np.ndarray, Y: np.ndarray) -> float:
        if not isinstance(self.caution, str):
            return float(self.caution)
        if self.caution != "auto":
            raise MetaModelError(f"caution must be a number or 'auto', got {self.caution!r}")
        self.caution_regret_ = {z: top1_regret(pred - z * spread, Y) for z in CAUTIONS}
        return min(CAUTIONS, key=lambda z: self.caution_regret_[z])

    def _choose_margin(self, pred: np.ndarray, Y: np.ndarray, default_pos: int | None) -> float:
        if not isinstance(self.default_margin, str):
            return float(self.default_margin)
        if self.default_margin not in ("auto", "bagged"):
            raise MetaModelError(
                f"default_margin must be a number, 'auto' or 'bagged', got {self.default_margin!r}"
            )
        if self.default_margin == "bagged" and default_pos is not None:
            return bagged_margin(
                pred,
                Y,
                default_pos,
                self.max_worse_than_default,
                self.max_regret_increase,
                self.seed,
            )
        return choose_margin(
            self.margin_curve_, self.max_worse_than_default, self.max_regret_increase
        )

    def _choose_diversify(
        self,
        data: MetaData,
        ids: np.ndarray,
        fold_knn: list[NearestTasks | None],
        priority: np.ndarray,
        spread: np.ndarray,
        Y: np.ndarray,
    ) -> int:
        """``diversify``, or for "auto" the choice with the lowest cross-fitted
        best-of-top-5 regret (``Y``: the regret scale); ties go to the larger value."""
        if not isinstance(self.diversify, str):
            return int(self.diversify)
        if self.diversify != "auto":
            raise MetaModelError(f"diversify must be an int or 'auto', got {self.diversify!r}")
        position = pd.Index(ids)
        orders = {k: np.zeros(Y.shape, dtype=int) for k in DIVERSIFY_CHOICES}
        for (train, test), knn in zip(self.folds_, fold_knn, strict=True):
            knn = knn if knn is not None else NearestTasks().fit(data, train)
            te = position.get_indexer(test)
            tr = position.get_indexer(train)
            pool = greedy_portfolio(Y[tr], self.pool_size)[0] if self.pool_size > 0 else None
            X = knn.transform_.transform(data.metafeatures.loc[test])
            for k in DIVERSIFY_CHOICES:
                orders[k][te] = self._positions(knn, X, priority[te], None, pool, k, spread[te])
        self.diversify_regret_ = {k: best_of_top(o, Y) for k, o in orders.items()}
        return min(sorted(DIVERSIFY_CHOICES, reverse=True), key=self.diversify_regret_.get)

    # ------------------------------------------------------------------ predict
    def predict_batch(
        self,
        metafeatures: MetaFeatures,
        candidates: Candidates = None,
        default_margin: float | None = None,
        features: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Per task × candidate: score (level-2), priority (score + default margin),
        uncertainty (base-model disagreement), order (ranking positions, 0 = first) and
        the level-2 features. ``default_margin`` overrides the learned margin;
        ``features``: the level-2 features of an earlier call on the same tasks and
        candidates, to re-rank (e.g. with another margin) without the base models."""
        self._check_fitted()
        margin = self.default_margin_ if default_margin is None else float(default_margin)
        feats = self.level2_features(metafeatures, candidates) if features is None else features
        score = self.level2_.predict(feats)
        uncertainty = self._disagreement(feats)
        priority = score + margin * feats[:, :, -1]
        knn = self.novelty_model_
        X = knn.transform_.transform(metafeatures)
        order = self._positions(
            knn, X, priority, candidates, self.pool_, self.diversify_, uncertainty
        )
        order = self._default_first(order, feats, self.saturated(metafeatures))
        return {
            "score": score,
            "priority": priority,
            "uncertainty": uncertainty,
            "order": order,
            "features": feats,
        }

    def _positions(
        self,
        knn: NearestTasks,
        X: np.ndarray,
        priority: np.ndarray,
        candidates: Candidates,
        pool_ids: np.ndarray | None,
        diversify: int,
        uncertainty: np.ndarray,
    ) -> np.ndarray:
        """Ranking positions (0 = first) per task: the diversified order over ``knn``'s
        training tasks, then the caution's pick moved first."""
        idx, _ = knn.resolve(candidates)
        pool = None if pool_ids is None else np.isin(idx, pool_ids)
        order = similarity_positions(
            knn, X, priority, idx, diversify, pool, self.diversify_neighbours
        )
        if self.caution_:  # the lower confidence bound's pick first, then the usual ranking
            lcb = priority - self.caution_ * np.nan_to_num(uncertainty, nan=0.0)
            first = np.argmax(np.nan_to_num(lcb, nan=-np.inf), axis=1)
            order = moved_first(order, first, np.arange(len(order)))
        return order

    def rank(
        self,
        metafeatures: MetaFeatures,
        candidates: Candidates = None,
        default_margin: float | None = None,
        features: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """One task's candidates, best first: config_id (-1: unknown encoding), score,
        priority, uncertainty, one column per base prediction, rank (1 = first).
        ``default_margin`` and ``features`` (from :meth:`level2_features`) as in
        :meth:`predict_batch`."""
        if isinstance(metafeatures, pd.DataFrame) and len(metafeatures) != 1:
            raise MetaModelError(f"rank() takes one task, got {len(metafeatures)} rows")
        out = self.predict_batch(metafeatures, candidates, default_margin, features)
        idx, _ = self.base_models_[0].resolve(candidates)
        frame = pd.DataFrame(
            {
                "config_id": np.where(idx >= 0, self.config_ids_[np.clip(idx, 0, None)], -1),
                "score": out["score"][0],
                "priority": out["priority"][0],
                "uncertainty": out["uncertainty"][0],
            }
        )
        base = pd.DataFrame(out["features"][0], columns=self.feature_names_)
        frame = pd.concat([frame, base.drop(columns="is_default")], axis=1)
        frame["rank"] = out["order"][0] + 1
        return frame.sort_values("rank").reset_index(drop=True)

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments except ``base_models``."""
        names = ("n_splits", "level2", "default_margin", "max_worse_than_default")
        names += ("max_regret_increase", "diversify", "pool_size", "n_estimators", "learning_rate")
        names += ("num_leaves", "seed", "target", "diversify_neighbours", "blend_rule")
        names += ("saturation",)
        return {n: getattr(self, n) for n in names}

    def _check_fitted(self) -> None:
        if not hasattr(self, "level2_"):
            raise MetaModelError("StackedMetaLearner is not fitted; call fit() first")


__all__ = [
    "CAUTIONS",
    "DIVERSIFY_CHOICES",
    "SATURATED_AUC",
    "SATURATION_FEATURE",
    "StackedMetaLearner",
    "TaskDiagnostics",
    "default_base_models",
]
