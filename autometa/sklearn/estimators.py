"""Estimators that choose their own hyperparameters in ``fit``.

``MetaClassifier(family=...)`` / ``MetaRegressor(family=...)``, and their LightGBM forms
``MetaLGBMClassifier`` / ``MetaLGBMRegressor``: ``fit`` types the raw table as autometa does
(a fitted :class:`~autometa.data.TableTyper`), asks the recommender for the family's best
configuration (with ``n_trials > 0``, runs :func:`~autometa.optuna.tune.tune` from it with
``cv``-fold CV instead), then fits that estimator. ``predict`` takes raw rows, one included.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

_RECOMMENDERS: dict[str | None, Any] = {}  # one knowledge base per store, shared by fits


def recommender_for(store: str | None) -> Any:
    """The process's :class:`~autometa.recommendation.recommender.Recommender` for
    ``store`` (None: the shipped knowledge base), loaded once."""
    from autometa.recommendation.recommender import Recommender

    if store not in _RECOMMENDERS:
        _RECOMMENDERS[store] = Recommender(store)
    return _RECOMMENDERS[store]


def _keep(estimator: Any, arguments: dict[str, Any]) -> None:
    """Store an ``__init__``'s arguments as they are (scikit-learn's convention)."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def _target(X: Any, y: Any, name: str) -> np.ndarray:
    """``y`` as a 1-D array with one value per row of ``X``."""
    from sklearn.utils.validation import column_or_1d

    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None")
    values = column_or_1d(y, warn=True)
    if len(values) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(values)}")
    if len(values) < 2:
        raise ValueError(f"n_samples={len(values)}: at least 2 rows are needed to fit")
    return values


def _rows(X: Any) -> Any:
    """``X`` as given when a DataFrame (its cells typed later), else checked by
    scikit-learn's ``check_array`` (2-D, dense, no infinity; any dtype, NaN allowed)."""
    from sklearn.utils.validation import check_array

    if isinstance(X, pd.DataFrame):
        if X.shape[1] == 0:
            raise ValueError(f"0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        return X
    return check_array(X, dtype=None, ensure_all_finite="allow-nan")


class _MetaBase(BaseEstimator):
    """What the classifier and the regressor share: typing, choosing, fitting."""

    family: str
    metric: str | None
    n_trials: int
    cv: int
    params: Mapping[str, Any] | None
    store: str | None
    random_state: int
    n_jobs: int
    early_stopping: str

    def __init__(
        self,
        family: str = "lightgbm",
        *,
        metric: str | None = None,
        n_trials: int = 0,
        cv: int = 5,
        params: Mapping[str, Any] | None = None,
        store: str | None = None,
        random_state: int = 0,
        n_jobs: int = 1,
        early_stopping: str = "off",
    ) -> None:
        _keep(self, locals())

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values: LightGBM's or the imputers'
        tags.input_tags.string = True  # text columns are typed as categories
        return tags

    def _fit(self, X: Any, y: np.ndarray, target: pd.Series, task_type: str) -> None:
        from autometa.data import Dataset, DataWarning, TableTyper
        from autometa.spaces import get_space

        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # typing notes: see typer_.dropped_
            self.typer_ = TableTyper()
            typed = self.typer_.fit_transform(X)
        self.n_features_in_ = self.typer_.n_features_in_
        dataset = Dataset(X=typed, y=target, task_type=task_type,  # type: ignore[arg-type]
                          target="target", feature_types=self.typer_.feature_types_)  # fmt: skip
        space = get_space(self.family)
        rounds = self._rounds()
        pinned = space.validate(self.params or {}, task_type) if self.params else {}
        pinned = {k: pinned[k] for k in self.params or {}}
        config = self._choose(dataset, pinned)
        self.best_params_ = space.hyperparameters(config, task_type, random_state=self.random_state)
        self.estimator_ = space.make_estimator(
            config, task_type, categorical_columns=dataset.categorical_columns,
            random_state=self.random_state, n_jobs=self.n_jobs,
        )  # fmt: skip
        if rounds is None:
            self.estimator_.fit(typed, y)
            return
        from autometa.optuna.rounds import early_stopped_fit

        fit, grown = early_stopped_fit(
            task_type, self.random_state, refit=self.early_stopping == "refit"
        )
        fit(self.estimator_, typed, y)  # as the search's trials were fitted
        self.best_params_[rounds] = grown[0]

    def _rounds(self) -> str | None:
        """The parameter early stopping sets (None: ``early_stopping="off"``)."""
        from autometa.optuna.rounds import MODES, ROUNDS_PARAM, stopped_param

        if self.early_stopping not in MODES:
            raise ValueError(f"early_stopping must be one of {', '.join(MODES)}")
        if self.early_stopping != "off" and self.family not in ROUNDS_PARAM:
            raise ValueError(f"early_stopping applies to {', '.join(ROUNDS_PARAM)} only")
        return stopped_param(self.family, self.early_stopping)

    def _choose(self, dataset: Any, pinned: dict[str, Any]) -> dict[str, Any]:
        """The configuration to fit: the recommender's first (``n_trials == 0``) or the best
        of a warm-started search; pinned parameters kept as given."""
        rec = recommender_for(self.store)
        self.search_ = None
        if self.n_trials > 0:
            from autometa.optuna.tune import tune

            self.search_ = tune(
                dataset, model=self.family, metric=self.metric, n_trials=self.n_trials,
                cv=self.cv, seed=self.random_state, recommender=rec, fixed=pinned,
                early_stopping=self.early_stopping,
            )  # fmt: skip
            self.recommendation_ = None
            return dict(self.search_.best_config)
        self.recommendation_ = rec.recommend(dataset, model=self.family, metric=self.metric, k=1)
        return {**self.recommendation_.recommendations[0].config, **pinned}

    def _typed(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "estimator_")
        rows = _rows(X)
        if not isinstance(rows, pd.DataFrame) and rows.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {rows.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return self.typer_.transform(rows)


class MetaClassifier(ClassifierMixin, _MetaBase):
    """A classifier of ``family`` whose hyperparameters autometa chooses in ``fit``.

    Args:
        family: the model family (``autometa.spaces``: lightgbm, random_forest, ...).
        metric: what the choice optimises (default: roc_auc).
        n_trials: 0 fits the recommender's first configuration; more runs a warm-started
            search of that many trials with ``cv``-fold CV on the training rows.
        cv: folds of that search.
        params: hyperparameters of the family's space pinned by hand (kept as given;
            the search does not vary them).
        store: a knowledge-base URL (default: the shipped one).
        random_state, n_jobs: passed to the estimator (and the search's seed).
        early_stopping: LightGBM only. ``off`` (default) fits the chosen number of trees;
            ``holdout`` grows up to 4,096 trees on 90 % of the rows, stopping when the other
            10 % have not improved for 50 rounds (the search's trials too); ``refit`` then
            refits on all rows with that many trees. ``best_params_`` has the trees grown.

    Fitted: ``estimator_``, ``best_params_``, ``recommendation_`` (the recommender's
    answer; None after a search), ``search_`` (a ``TuneResult``, or None), ``typer_``,
    ``classes_``, ``n_features_in_``, ``feature_names_in_`` (DataFrames).
    """

    def fit(self, X: Any, y: Any) -> MetaClassifier:
        """Type ``X``, choose the configuration, fit it."""
        X = _rows(X)
        labels = _target(X, y, type(self).__name__)
        if type_of_target(labels) not in ("binary", "multiclass"):
            raise ValueError(f"Unknown label type: {type_of_target(labels)!r} (need classes)")
        self.classes_, codes = np.unique(labels, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("y has 1 class; a classifier needs at least two")
        names = [str(c) for c in self.classes_]
        if len(set(names)) < len(names):
            names = [str(i) for i in range(len(names))]
        target = pd.Series(pd.Categorical.from_codes(codes, categories=names))
        task_type = "binary" if len(names) == 2 else "multiclass"
        self._fit(X, codes, target, task_type)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of raw rows, columns in the order of ``classes_``."""
        typed = self._typed(X)  # the estimator saw every class: codes of np.unique(y)
        return np.asarray(self.estimator_.predict_proba(typed), dtype=float)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each raw row."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


class MetaRegressor(RegressorMixin, _MetaBase):
    """A regressor of ``family`` whose hyperparameters autometa chooses in ``fit`` (the
    arguments and fitted attributes of :class:`MetaClassifier`; metric default: rmse)."""

    def fit(self, X: Any, y: Any) -> MetaRegressor:
        """Type ``X``, choose the configuration, fit it."""
        X = _rows(X)
        values = _target(X, y, type(self).__name__).astype(float)
        if not np.isfinite(values).all():
            raise ValueError("y has missing or infinite values")
        self._fit(X, values, pd.Series(values), "regression")
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions for raw rows."""
        typed = self._typed(X)
        return np.asarray(self.estimator_.predict(typed), dtype=float)


class _LightGBM:
    """The LightGBM estimators' arguments: those of the generic ones but ``family``."""

    family = "lightgbm"

    def __init__(
        self,
        *,
        metric: str | None = None,
        n_trials: int = 0,
        cv: int = 5,
        params: Mapping[str, Any] | None = None,
        store: str | None = None,
        random_state: int = 0,
        n_jobs: int = 1,
        early_stopping: str = "off",
    ) -> None:
        _keep(self, locals())


class MetaLGBMClassifier(_LightGBM, MetaClassifier):
    """:class:`MetaClassifier` for LightGBM (``lightgbm.LGBMClassifier``)."""


class MetaLGBMRegressor(_LightGBM, MetaRegressor):
    """:class:`MetaRegressor` for LightGBM (``lightgbm.LGBMRegressor``)."""
