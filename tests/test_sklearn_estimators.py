"""autometa.sklearn: estimators that choose their hyperparameters in fit, take raw rows and
behave as scikit-learn expects inside Pipelines, ColumnTransformers and model selection."""

from __future__ import annotations

import lightgbm
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from autometa.sklearn import MetaClassifier, MetaLGBMClassifier, MetaLGBMRegressor
from autometa.sklearn.estimators import recommender_for


@pytest.fixture(scope="module")
def raw() -> tuple[pd.DataFrame, pd.Series]:
    """A raw table as a user has it: text categories, a date, labels as words."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :8].copy()
    rng = np.random.default_rng(0)
    X["site"] = rng.choice(["north", "south", "east"], len(X))
    X["seen"] = pd.date_range("2021-01-01", periods=len(X)).strftime("%Y-%m-%d")
    return X, y.map({0: "malignant", 1: "benign"})


def test_fit_chooses_the_recommendation_and_predicts_raw_rows(raw) -> None:
    X, y = raw
    model = MetaLGBMClassifier().fit(X, y)
    answer = recommender_for(None).recommend(model.typer_.transform(X), y, k=1)
    assert model.recommendation_.recommendations[0].config == answer.recommendations[0].config
    built = lightgbm.LGBMClassifier(**model.best_params_).get_params()
    assert {k: built[k] for k in model.best_params_} == model.best_params_  # as-is kwargs
    assert list(model.classes_) == ["benign", "malignant"] and model.n_features_in_ == 10
    assert list(model.feature_names_in_) == list(X.columns)
    one = X.iloc[[3]].copy()
    one.loc[one.index[0], "site"] = "west"  # unseen: missing, as LightGBM treats it
    assert model.predict(one).shape == (1,) and model.predict(one)[0] in model.classes_
    proba = model.predict_proba(X.iloc[:5])
    assert proba.shape == (5, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.score(X, y) > 0.9
    with pytest.raises(ValueError, match=r"lack the training column.*'site'"):
        model.predict(X.drop(columns=["site"]))


def test_clone_pipeline_column_transformer_and_cross_val_score(raw) -> None:
    X, y = raw
    numeric = make_column_selector(dtype_include="number")
    pipe = Pipeline([
        ("prep", ColumnTransformer([("scale", StandardScaler(), numeric)],
                                   remainder="passthrough", verbose_feature_names_out=False)),
        ("model", MetaLGBMClassifier()),
    ]).set_output(transform="pandas")  # fmt: skip
    scores = cross_val_score(pipe, X, y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and scores.min() > 0.85
    model = clone(MetaLGBMClassifier(params={"learning_rate": 0.05}))
    assert model.get_params()["params"] == {"learning_rate": 0.05}
    assert model.fit(X, y).best_params_["learning_rate"] == 0.05  # pinned by hand


def test_grid_search_over_trials_and_the_search_path() -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    grid = GridSearchCV(MetaLGBMRegressor(cv=2), {"n_trials": [0, 2]}, cv=2).fit(X, y)
    assert set(grid.cv_results_["param_n_trials"]) == {0, 2}
    searched = MetaLGBMRegressor(n_trials=3, cv=2, params={"num_leaves": 8}).fit(X, y)
    assert searched.recommendation_ is None and len(searched.search_.trials) == 3
    assert all(t["params"].get("num_leaves", 8) == 8 for t in searched.search_.trials)
    assert searched.best_params_["num_leaves"] == 8
    assert searched.predict(X.iloc[:1]).shape == (1,)


def test_other_families_and_bad_input(raw) -> None:
    X, y = raw
    forest = MetaClassifier("random_forest", n_jobs=1).fit(X, y)
    assert forest.predict(X.iloc[:2]).shape == (2,)
    with pytest.raises(ValueError, match="1 class"):
        MetaLGBMClassifier().fit(X, np.ones(len(X)))
    with pytest.raises(ValueError, match="rows but y has"):
        MetaLGBMClassifier().fit(X, y.iloc[:10])
    with pytest.raises(ValueError, match="missing or infinite"):
        MetaLGBMRegressor().fit(X.iloc[:, :3], np.r_[np.nan, np.arange(len(X) - 1.0)])


def test_early_stopping_grows_the_trees_and_is_checked_first() -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    stopped = MetaLGBMRegressor(early_stopping="holdout").fit(X, y)
    grown = stopped.best_params_["n_estimators"]
    assert stopped.estimator_.best_iteration_ == grown  # predicts with the best iteration
    assert stopped.predict(X.iloc[:2]).shape == (2,)
    refit = MetaLGBMRegressor(early_stopping="refit").fit(X, y)
    assert refit.estimator_.n_estimators == refit.best_params_["n_estimators"] == grown
    with pytest.raises(ValueError, match="early_stopping must be one of"):
        MetaLGBMRegressor(early_stopping="yes").fit(X, y)
    with pytest.raises(ValueError, match="applies to lightgbm only"):
        MetaClassifier("random_forest", early_stopping="holdout").fit(X, y > 100)
