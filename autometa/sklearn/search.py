"""``MetaSearchCV``: scikit-learn's search CV with candidates from :class:`MetaSampler`.

Like ``RandomizedSearchCV``, but the ``n_trials`` candidates come one at a time from a
MetaSampler warm-started for the data being fitted: the recommendations first, then the
stored configurations the observed scores point to. Every candidate is cross-validated by
scikit-learn itself (``cv``, ``scoring``, ``n_jobs``, ``refit``, ``cv_results_``,
``best_params_`` and ``best_estimator_`` as in ``GridSearchCV``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils.multiclass import type_of_target

#: scikit-learn scorer names and the autometa metric the knowledge base holds for them.
SCORERS = {
    "roc_auc": "roc_auc", "roc_auc_ovr": "roc_auc", "neg_log_loss": "log_loss",
    "accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy",
    "neg_root_mean_squared_error": "rmse", "neg_mean_absolute_error": "mae", "r2": "r2",
}  # fmt: skip


def family_of(estimator: Any) -> tuple[str, str]:
    """The family of the knowledge base whose estimator ``estimator`` is, and its kind
    (classification or regression); ValueError for any other estimator."""
    from autometa.spaces import FAMILIES, get_space

    for family in FAMILIES:
        space = get_space(family)
        for task_type in ("binary", "regression"):
            if type(estimator) is space.estimator_class(task_type):
                kind = "regression" if task_type == "regression" else "classification"
                return family, kind
    names = ", ".join(f"{get_space(f).estimator_class('binary').__name__}" for f in FAMILIES)
    raise ValueError(
        f"MetaSearchCV searches the estimators the knowledge base holds evaluations of "
        f"({names} and their regressors), not {type(estimator).__name__}"
    )


class MetaSearchCV(BaseSearchCV):
    """Search ``estimator``'s hyperparameters with ``n_trials`` MetaSampler candidates.

    Args:
        estimator: a LightGBM or scikit-learn estimator of a family the knowledge base
            knows (LGBMClassifier, RandomForestClassifier, ExtraTreesClassifier,
            HistGradientBoostingClassifier, LogisticRegression, and the regressors);
            its other parameters (e.g. ``random_state``) are kept.
        n_trials: candidates to cross-validate (the first ``warm_start`` are the
            recommendations).
        scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score,
        return_train_score: as in ``GridSearchCV``.
        warm_start: recommendations tried first.
        random_state: seed of MetaSampler's fallback.
        store: a knowledge-base URL (default: the shipped one).
    """

    def __init__(
        self,
        estimator: Any,
        *,
        n_trials: int = 20,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        error_score: Any = np.nan,
        return_train_score: bool = False,
        warm_start: int = 5,
        random_state: int | None = 0,
        store: str | None = None,
    ) -> None:
        super().__init__(
            estimator=estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv,
            verbose=verbose, pre_dispatch=pre_dispatch, error_score=error_score,
            return_train_score=return_train_score,
        )  # fmt: skip
        self.n_trials = n_trials
        self.warm_start = warm_start
        self.random_state = random_state
        self.store = store

    def fit(self, X: Any, y: Any = None, **params: Any) -> MetaSearchCV:
        """Run the search on ``X``, ``y`` (MetaSampler is warm-started for them)."""
        if self.n_trials < 1:
            raise ValueError(f"n_trials must be at least 1, got {self.n_trials}")
        self._data = (X, y)
        try:
            return super().fit(X, y, **params)
        finally:
            del self._data

    def _run_search(self, evaluate_candidates: Any) -> None:
        import optuna

        from autometa.data import DataWarning
        from autometa.optuna import meta_sampler
        from autometa.recommendation.recommender import dataset_of
        from autometa.sklearn.estimators import recommender_for
        from autometa.spaces import get_space

        family, kind = family_of(self.estimator)
        X, y = self._data
        if kind == "classification" and type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(f"{type(self.estimator).__name__} needs classes, got a "
                             f"{type_of_target(y)} target")  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            data = dataset_of(X, y, task=kind)  # the estimator says which task it is
        if self.scoring is None:  # the estimator's own score
            metric: str | None = "accuracy" if kind == "classification" else "r2"
        else:
            metric = SCORERS.get(self.scoring) if isinstance(self.scoring, str) else None
        sampler, result = meta_sampler(
            data, model=family, metric=metric, k=max(self.warm_start, 1),
            recommender=recommender_for(self.store), seed=self.random_state,
        )  # fmt: skip
        space, task_type = get_space(family), result.task["task_type"]
        keep = self.estimator.get_params()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="maximize", sampler=sampler)  # scorers: larger
        for _ in range(self.n_trials):
            trial = study.ask(result.distributions())
            candidate = space.estimator_params(trial.params, task_type)
            candidate = {k: v for k, v in candidate.items() if k in keep}
            candidate.update({k: keep[k] for k in ("random_state", "n_jobs", "verbose",
                                                   "verbosity") if k in keep})  # fmt: skip
            scores = evaluate_candidates([candidate])["mean_test_score"]
            value = float(np.asarray(scores)[-1])
            if np.isfinite(value):
                study.tell(trial, value)
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
