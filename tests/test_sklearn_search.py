"""autometa.sklearn.MetaSearchCV: scikit-learn's search CV whose candidates come from a
MetaSampler warm-started for the data: the recommendations first, then the adaptation."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.neighbors import KNeighborsClassifier

from autometa.sklearn import MetaSearchCV
from autometa.sklearn.estimators import recommender_for
from autometa.spaces import get_space


def test_candidates_start_with_the_recommendations_and_refit_the_best() -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    base = lightgbm.LGBMClassifier(verbosity=-1, random_state=3)
    search = MetaSearchCV(base, n_trials=5, warm_start=3, scoring="roc_auc", cv=3).fit(X, y)
    results = search.cv_results_
    assert len(results["params"]) == 5
    answer = recommender_for(None).recommend(X, y, metric="roc_auc", k=3)
    space = get_space("lightgbm")
    for params, rec in zip(results["params"][:3], answer.recommendations, strict=True):
        expected = space.estimator_params(rec.config, "binary", random_state=3)
        assert params == {k: v for k, v in expected.items() if k != "n_jobs"} | {
            "n_jobs": base.n_jobs, "verbosity": -1}  # fmt: skip
    best = int(np.argmax(results["mean_test_score"]))
    assert search.best_params_ == results["params"][best]
    assert search.best_score_ == pytest.approx(results["mean_test_score"][best])
    assert search.best_estimator_.get_params()["random_state"] == 3  # the user's kept
    assert search.predict(X.iloc[:2]).shape == (2,)
    assert clone(search).get_params()["n_trials"] == 5


def test_other_families_default_scoring_and_refusals() -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    search = MetaSearchCV(RandomForestRegressor(random_state=0), n_trials=3, cv=2).fit(X, y)
    assert search.scorer_ is not None and len(search.cv_results_["params"]) == 3
    assert search.best_estimator_.random_state == 0 and search.best_score_ > 0.3  # r2
    with pytest.raises(ValueError, match="not KNeighborsClassifier"):
        MetaSearchCV(KNeighborsClassifier(), n_trials=2).fit(X, y.round(-2))
    with pytest.raises(ValueError, match="needs classes, got a continuous target"):
        MetaSearchCV(lightgbm.LGBMClassifier(), n_trials=2).fit(X, y + 0.5)
    with pytest.raises(ValueError, match="n_trials must be at least 1"):
        MetaSearchCV(lightgbm.LGBMRegressor(), n_trials=0).fit(X, y)
