"""Tests of autometa.spaces: every family x task type builds, fits and round-trips."""

from __future__ import annotations

import inspect
import math
import pickle
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from threadpoolctl import threadpool_limits

from autometa.exceptions import SpaceError
from autometa.spaces import ALIASES, FAMILIES, TASK_TYPES, SearchSpace, get_space

COMBOS = [(family, task) for family in FAMILIES for task in TASK_TYPES]
# documented departures of default() from the estimator's own defaults (docs/spaces.md)
DEFAULT_EXCEPTIONS = {
    ("random_forest", "binary"): {"max_features"},
    ("random_forest", "multiclass"): {"max_features"},
    ("extra_trees", "binary"): {"max_features"},
    ("extra_trees", "multiclass"): {"max_features"},
    ("hist_gradient_boosting", "binary"): {"early_stopping"},
    ("hist_gradient_boosting", "multiclass"): {"early_stopping"},
    ("hist_gradient_boosting", "regression"): {"early_stopping"},
    ("linear", "binary"): {"max_iter"},
    ("linear", "multiclass"): {"max_iter"},
}
RUN_TIME_PARAMS = {"random_state", "n_jobs", "verbosity"}
ENSEMBLE_SIZES = {"n_estimators", "max_iter"}
ENSEMBLE_CAP = 32


def _with_categorical(X: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Add a category-dtype column tied to the first feature, and NaNs in two columns."""
    rng = np.random.default_rng(seed)
    X = X.astype("float64").copy()
    bins = pd.qcut(X.iloc[:, 0], 4, labels=["low", "mid", "high", "top"]).astype(str)
    cat = bins.where(rng.random(len(X)) > 0.05)  # ~5 % missing
    X["cat"] = pd.Categorical(cat, categories=["low", "mid", "high", "top"])
    for col in X.columns[1:3]:
        X.loc[rng.random(len(X)) < 0.05, col] = np.nan
    return X


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    """HistGradientBoosting's OpenMP threads stall badly on a loaded 2-core machine."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def datasets() -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    """Small DataFrames with one categorical column and a few NaNs, per task type."""
    iris = load_iris(as_frame=True)
    cancer = load_breast_cancer(as_frame=True)
    diabetes = load_diabetes(as_frame=True)
    idx = np.random.default_rng(0).choice(len(cancer.target), 200, replace=False)
    ridx = np.random.default_rng(1).choice(len(diabetes.target), 200, replace=False)
    return {
        "binary": (_with_categorical(cancer.data.iloc[idx, :10], 1), cancer.target.to_numpy()[idx]),
        "multiclass": (_with_categorical(iris.data, 2), iris.target.to_numpy()),
        "regression": (
            _with_categorical(diabetes.data.iloc[ridx], 3),
            diabetes.target.to_numpy()[ridx],
        ),
    }


def _score(model, X: pd.DataFrame, y: np.ndarray, task: str) -> float:
    pred = model.predict(X)
    assert pred.shape == (len(X),)
    if task == "regression":
        assert np.isfinite(pred).all()
        return 1.0 - float(np.mean((pred - y) ** 2) / np.var(y))
    assert set(np.unique(pred)) <= set(np.unique(y))
    return float(np.mean(pred == y))


def _capped(config: dict) -> dict:
    return {k: min(v, ENSEMBLE_CAP) if k in ENSEMBLE_SIZES else v for k, v in config.items()}


def _corners(space: SearchSpace, task: str) -> list[dict]:
    """The all-low and all-high configurations (first/last choice for categoricals)."""
    corners = []
    for end in (0, -1):
        config = {}
        for name, dist in space.distributions(task).items():
            if isinstance(dist, CategoricalDistribution):
                config[name] = dist.choices[end]
            else:
                config[name] = (dist.low, dist.high)[end]
        corners.append(config)
    return corners


@pytest.mark.parametrize(("family", "task"), COMBOS)
def test_corners_fit(family: str, task: str, datasets) -> None:
    space = get_space(family)
    X, y = datasets[task]
    for config in _corners(space, task):
        model = space.make_estimator(config, task, categorical_columns=["cat"])
        _score(model.fit(X, y), X, y, task)


@pytest.mark.parametrize(("family", "task"), COMBOS)
def test_default_and_design_fit_and_predict(family: str, task: str, datasets) -> None:
    space = get_space(family)
    X, y = datasets[task]
    # ensemble sizes capped to keep the suite fast; test_corners_fit fits the full sizes
    configs = [space.default(task), *map(_capped, space.design(task, 16, seed=0))]
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        for config in configs:
            model = space.make_estimator(config, task, categorical_columns=["cat"])
            scores.append(_score(model.fit(X, y), X, y, task))
    # the library default fits the training data well; no design point is degenerate
    assert scores[0] > (0.3 if task == "regression" else 0.9)
    assert np.median(scores) > (0.2 if task == "regression" else 0.8)


@pytest.mark.parametrize(("family", "task"), COMBOS)
def test_estimator_params_are_pasteable(family: str, task: str, datasets) -> None:
    space = get_space(family)
    X, y = datasets[task]
    X_num = X.drop(columns="cat").fillna(0.0)
    for config in [space.default(task), *space.design(task, 1, seed=3)]:
        kwargs = space.estimator_params(config, task, random_state=7, n_jobs=1)
        model = space.estimator_class(task)(**kwargs)
        assert {k: model.get_params()[k] for k in kwargs} == kwargs
        assert model.fit(X_num, y).predict(X_num).shape == (len(y),)
        assert kwargs["random_state"] == 7


@pytest.mark.parametrize(("family", "task"), COMBOS)
def test_default_is_the_library_default(family: str, task: str) -> None:
    space = get_space(family)
    kwargs = space.estimator_params(space.default(task), task)
    signature = inspect.signature(space.estimator_class(task))
    differing = {
        name
        for name, value in kwargs.items()
        if name not in RUN_TIME_PARAMS and signature.parameters[name].default != value
    }
    assert differing <= DEFAULT_EXCEPTIONS.get((family, task), set()) | {"subsample_freq"}
    if family == "lightgbm":
        assert kwargs["reg_alpha"] == 0.0 and kwargs["subsample_freq"] == 0


@pytest.mark.parametrize(("family", "task"), COMBOS)
def test_design_is_deterministic_in_bounds_and_covers(family: str, task: str) -> None:
    space = get_space(family)
    dists = space.distributions(task)
    design = space.design(task, 64, seed=5)
    assert design == space.design(task, 64, seed=5)
    assert design[:16] == space.design(task, 16, seed=5)  # prefix property
    assert design != space.design(task, 64, seed=6)
    for name, dist in dists.items():
        values = [point[name] for point in design]
        if isinstance(dist, CategoricalDistribution):
            assert {dist.choices.index(v) for v in values} == set(range(len(dist.choices)))
            continue
        assert all(dist.low <= v <= dist.high for v in values)
        if isinstance(dist, IntDistribution):
            assert all(type(v) is int for v in values)
        scale = np.log if dist.log else (lambda v: v)
        span = (scale(max(values)) - scale(min(values))) / (scale(dist.high) - scale(dist.low))
        assert span > 0.8, (name, span)
    for point in design:
        assert list(point) == list(dists)
        assert space.validate(point, task) == point
        optuna.trial.create_trial(params=point, distributions=dists, value=0.0)


def test_design_edge_cases() -> None:
    space = get_space("lightgbm")
    assert space.design("binary", 0) == []
    assert len(space.design("binary", 5, seed=1)) == 5
    with pytest.raises(SpaceError):
        space.design("binary", -1)


def test_validate_rejects_unknown_and_out_of_range() -> None:
    space = get_space("lightgbm")
    with pytest.raises(SpaceError, match="'n_trees'") as err:
        space.validate({"n_trees": 10}, "binary")
    assert "learning_rate: float in [0.005, 0.5], log scale" in str(err.value)
    with pytest.raises(SpaceError, match=r"learning_rate=0\.9 is out of range.*\[0\.005, 0\.5\]"):
        space.validate({"learning_rate": 0.9}, "binary")
    with pytest.raises(SpaceError, match="num_leaves=2"):
        space.validate({"num_leaves": 2}, "regression")
    with pytest.raises(SpaceError, match=r"n_estimators=100\.5 is not an integer"):
        space.validate({"n_estimators": 100.5}, "binary")
    with pytest.raises(SpaceError, match="max_depth=20 is invalid; valid: one of 3, 4"):
        space.validate({"max_depth": 20}, "binary")
    with pytest.raises(SpaceError, match="subsample=True is not a number"):
        space.validate({"subsample": True}, "binary")
    with pytest.raises(SpaceError, match="not finite"):
        space.validate({"subsample": float("nan")}, "binary")
    with pytest.raises(SpaceError, match="'criterion'"):
        get_space("random_forest").validate({"criterion": "gini"}, "regression")
    with pytest.raises(SpaceError, match="'alpha'"):
        get_space("linear").validate({"alpha": 1.0}, "binary")
    with pytest.raises(SpaceError, match="task_type"):
        space.validate({}, "classification")


def test_validate_coerces_and_completes() -> None:
    lgbm, rf, linear = get_space("lightgbm"), get_space("random_forest"), get_space("linear")
    config = lgbm.validate(
        {"learning_rate": "0.05", "n_estimators": np.int64(200), "num_leaves": 15.0}, "binary"
    )
    assert config == {
        **lgbm.default("binary"),
        "learning_rate": 0.05,
        "n_estimators": 200,
        "num_leaves": 15,
    }
    assert type(config["n_estimators"]) is int and type(config["num_leaves"]) is int
    assert lgbm.validate({"max_depth": "-1", "reg_alpha": 0}, "binary")["reg_alpha"] == 1e-8
    assert lgbm.validate({"learning_rate": 0.5 + 1e-12}, "binary")["learning_rate"] == 0.5
    # a None that went through a pandas float column comes back as NaN
    assert rf.validate({"max_depth": float("nan")}, "binary")["max_depth"] is None
    assert rf.validate({"max_depth": 8.0, "bootstrap": "false"}, "binary")["bootstrap"] is False
    assert rf.validate({"max_depth": "None"}, "regression")["max_depth"] is None
    assert linear.validate({"class_weight": "balanced"}, "multiclass")["class_weight"] == "balanced"


def test_encode() -> None:
    lgbm = get_space("lightgbm")
    names = lgbm.encoding_names("binary")
    vec = lgbm.encode({"learning_rate": 0.01, "max_depth": -1, "subsample": 0.8}, "binary")
    assert vec.shape == (len(names),) and np.isfinite(vec).all()
    code = dict(zip(names, vec, strict=True))
    assert code["learning_rate"] == pytest.approx(-2.0)
    assert code["n_estimators"] == pytest.approx(2.0)  # log10(100)
    assert code["max_depth"] == 10.0  # unlimited is the last (deepest) choice
    assert code["subsample"] == pytest.approx(0.8)
    assert code["reg_alpha"] == pytest.approx(-8.0)
    rf = get_space("random_forest")
    vec = rf.encode({"bootstrap": False, "criterion": "entropy"}, "binary")
    assert dict(zip(rf.encoding_names("binary"), vec, strict=True))["criterion"] == 1.0
    for family, task in COMBOS:
        space = get_space(family)
        for point in space.design(task, 8):
            vec = space.encode(point, task)
            assert vec.shape == (len(space.encoding_names(task)),) and np.isfinite(vec).all()


def test_config_hash() -> None:
    lgbm = get_space("lightgbm")
    default = lgbm.default("binary")
    digest = lgbm.config_hash(default)
    assert len(digest) >= 16 and int(digest, 16) >= 0
    assert digest == "cf32809bd9a52d69"  # pinned: a change here invalidates stored hashes
    noisy = {**default, "learning_rate": 0.1 + 1e-15, "n_estimators": np.int64(100)}
    assert lgbm.config_hash(dict(reversed(noisy.items()))) == digest
    assert lgbm.config_hash({**default, "learning_rate": 0.11}) != digest
    assert lgbm.canonical(default) == dict(sorted(default.items()))
    hashes = {lgbm.config_hash(p) for p in lgbm.design("binary", 64)}
    assert len(hashes) == 64
    rf_config = get_space("random_forest").default("binary")
    assert get_space("random_forest").config_hash(rf_config) != get_space(
        "extra_trees"
    ).config_hash(rf_config)
    with pytest.raises(SpaceError, match="'bogus'"):
        lgbm.config_hash({"bogus": 1})


def test_get_space() -> None:
    assert FAMILIES == (
        "lightgbm",
        "random_forest",
        "extra_trees",
        "hist_gradient_boosting",
        "linear",
    )
    for family in FAMILIES:
        space = get_space(family)
        assert isinstance(space, SearchSpace) and space.family == family
        assert space.version.startswith(f"{family}-")
    for alias, family in ALIASES.items():
        assert get_space(alias) is get_space(family)
    with pytest.raises(SpaceError, match=r"unknown model family 'nope'.*lightgbm.*linear"):
        get_space("nope")


@pytest.mark.parametrize(
    "family", ["random_forest", "linear", "lightgbm", "hist_gradient_boosting"]
)
def test_unseen_category_and_pickle(family: str, datasets) -> None:
    X, y = datasets["multiclass"]
    space = get_space(family)
    # categorical_columns left empty: the category-dtype column is found by dtype
    model = space.make_estimator(space.default("multiclass"), "multiclass").fit(X, y)
    X_new = X.head(5).copy()
    X_new["cat"] = pd.Categorical(["low", "unseen", None, "top", "mid"])
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X_new), model.predict(X_new))
    assert not math.isnan(float(model.predict_proba(X_new).sum()))


def test_distributions_types() -> None:
    for family, task in COMBOS:
        for dist in get_space(family).distributions(task).values():
            assert isinstance(dist, FloatDistribution | IntDistribution | CategoricalDistribution)
