"""The level-2 feature layout of a stack, and the base models' disagreement.

Per task and candidate: each base model's score followed by its ``stack_extras``, then
``is_default`` (1 for the library default). The calibrated scores' spread is the
disagreement that the caution, the fallback and the diagnostics read.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from autometa.exceptions import MissingDependencyWarning
from autometa.meta._base import Candidates, MetaFeatures, MetaModel
from autometa.meta.classifier import PortfolioClassifier
from autometa.meta.knn import NearestTasks
from autometa.meta.portfolio import Portfolio
from autometa.meta.surrogate import Surrogate


def default_base_models() -> list[MetaModel]:
    """The base models of a default stack (append more, e.g. a neural meta-learner)."""
    return [NearestTasks(), Surrogate(), Portfolio(), PortfolioClassifier()]


#: Models already said to be left out (said once per process).
_LEFT_OUT: set[str] = set()


def usable_models(models: Sequence[MetaModel]) -> list[MetaModel]:
    """``models`` without those that cannot be fitted here (e.g. the neural model without
    PyTorch), with one warning per left-out model and process."""
    kept = []
    for model in models:
        reason = model.unavailable()
        if reason is None:
            kept.append(model)
        elif model.name not in _LEFT_OUT:
            _LEFT_OUT.add(model.name)
            warnings.warn(
                f"the stack leaves out the {model.name} meta-model: {reason}",
                MissingDependencyWarning,
                stacklevel=3,
            )
    return kept


class Level2Features:
    """What :class:`~autometa.meta.stack.StackedMetaLearner` computes its level-2 model on."""

    base_models: Sequence[MetaModel] | None
    base_models_: list[MetaModel]
    model_keys_: list[str]
    config_ids_: np.ndarray
    default_config_id_: int | None

    if TYPE_CHECKING:

        def _check_fitted(self) -> None: ...

    def _score_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Feature masks: base-model scores (level-2 may only increase with them), and the
        calibrated ones among them."""
        score, calibrated = [], []
        for model in self._models():
            score += [True] + [False] * len(model.stack_extras)
            calibrated += [model.calibrated] + [False] * len(model.stack_extras)
        return np.asarray([*score, False]), np.asarray([*calibrated, False])

    def _models(self) -> list[MetaModel]:
        """The fitted base models, else those a fit would use."""
        fitted = getattr(self, "base_models_", None)
        if fitted is not None:
            return fitted
        return default_base_models() if self.base_models is None else list(self.base_models)

    def _features(
        self, models: Sequence[MetaModel], metafeatures: MetaFeatures, candidates: Candidates
    ) -> np.ndarray:
        """Level-2 features (tasks × candidates × features) from fitted base models."""
        cols = []
        for model in models:
            pred = model.predict_batch(metafeatures, candidates)
            cols.append(pred.score)
            cols += [np.broadcast_to(pred.extras[e], pred.score.shape) for e in model.stack_extras]
        idx, _ = models[0].resolve(candidates)
        ids = np.where(idx >= 0, self.config_ids_[np.clip(idx, 0, None)], -1)
        is_default = (ids == self.default_config_id_).astype(float)
        cols.append(np.broadcast_to(is_default, cols[0].shape))
        return np.stack(cols, axis=2)

    def level2_features(
        self, metafeatures: MetaFeatures, candidates: Candidates = None
    ) -> np.ndarray:
        """The fitted base models' predictions as level-2 features (tasks × candidates ×
        :attr:`feature_names_`): computed once, they re-rank with any margin."""
        self._check_fitted()
        return self._features(self.base_models_, metafeatures, candidates)

    @property
    def feature_names_(self) -> list[str]:
        """The level-2 features' names: each model's key and its extras, then is_default."""
        names = []
        for key, model in zip(self.model_keys_, self._models(), strict=True):
            names += [key, *(f"{key}.{e}" for e in model.stack_extras)]
        return [*names, "is_default"]

    def _disagreement(self, feats: np.ndarray) -> np.ndarray:
        """Std of the calibrated base models' scores (NaN with fewer than two)."""
        sub = feats[:, :, self._score_columns()[1]]
        count = np.isfinite(sub).sum(axis=2)
        mean = np.nansum(sub, axis=2) / np.maximum(count, 1)
        var = np.nansum((sub - mean[..., None]) ** 2, axis=2) / np.maximum(count, 1)
        return np.where(count >= 2, np.sqrt(var), np.nan)
