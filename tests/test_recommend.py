"""Recommendations from the shipped knowledge base: contract, diversity, safety, exclusion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_classification,
)
from sklearn.model_selection import cross_val_score

import autometa
from autometa.cli import cli
from autometa.exceptions import MetaModelError
from autometa.optuna import meta_sampler
from autometa.recommendation.recommender import Recommender
from autometa.recommendation.request import feasible


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender(shipped=True, store="sqlite://")  # shipped snapshot + an empty store


def _cancer() -> tuple[pd.DataFrame, pd.Series]:
    data = load_breast_cancer(as_frame=True)
    return data.data, data.target.map(dict(enumerate(data.target_names)))


def _digits_low_high() -> tuple[pd.DataFrame, pd.Series]:
    """Digits 0-4 against 5-9 (1,797 rows, binary): saturated (landmarker AUC >= 0.98)."""
    data = load_digits(as_frame=True)
    X = data.data.loc[:, data.data.nunique() > 1]
    return X, (data.target >= 5).map({False: "low", True: "high"})


def _noisy_binary() -> tuple[pd.DataFrame, pd.Series]:
    """1,500 rows, 20 features, 10 % flipped labels: not saturated, and the meta-models
    agree on it, so no fallback."""
    X, y = make_classification(
        n_samples=1500, n_features=20, n_informative=6, flip_y=0.1, random_state=0
    )
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(20)]), pd.Series(np.where(y, "a", "b"))


def test_recommendations_contract(recommender: Recommender) -> None:
    X, y = _cancer()
    result = recommender.recommend(X, y, k=5)
    assert result.model == "lightgbm" and result.metric == "roc_auc"
    assert result.direction == "maximize"
    assert result.task["task_type"] == "binary" and result.task["n_rows"] == 569
    assert [r.rank for r in result.recommendations] == [1, 2, 3, 4, 5]
    for rec in result.recommendations:
        assert rec.predicted_score is not None and 0.5 <= rec.predicted_score <= 1.0
        assert rec.neighbors and all(n.distance >= 0 for n in rec.neighbors)
        lightgbm.LGBMClassifier(**rec.params)  # accepted as-is
    # predicted AUC vs this dataset's own cross-validated AUC of the top pick
    cv = cross_val_score(
        lightgbm.LGBMClassifier(**result.best.params), X, y, cv=5, scoring="roc_auc"
    )
    assert result.best.predicted_score == pytest.approx(cv.mean(), abs=0.01)
    # the stored copy of this very dataset is a neighbour (it is not excluded here)
    names = {n.name for rec in result.recommendations for n in rec.neighbors}
    assert names & {"sklearn/breast_cancer", "keel/wdbc"}


def test_recommendations_are_diverse(recommender: Recommender) -> None:
    X, y = _cancer()
    result = recommender.recommend(X, y, k=5)
    configs = [r.config for r in result.recommendations]
    assert len({json.dumps(c, sort_keys=True) for c in configs}) == 5
    rates = [c["learning_rate"] for c in configs]
    leaves = [c["num_leaves"] for c in configs]
    assert max(rates) / min(rates) > 1.5 or max(leaves) / min(leaves) > 1.5


def test_top1_trains_and_beats_chance(recommender: Recommender) -> None:
    X, y = _cancer()
    best = recommender.recommend(X, y, k=1).best
    auc = cross_val_score(lightgbm.LGBMClassifier(**best.params), X, y, cv=3, scoring="roc_auc")
    assert auc.mean() > 0.97


@pytest.mark.slow
def test_recommendations_warm_start_an_optuna_study(recommender: Recommender) -> None:
    import optuna

    from autometa.spaces import get_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X, y = _cancer()
    result = recommender.recommend(X, y, k=3, exclude_self=True)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    assert result.enqueue(study) == 3
    assert result.enqueue(study) == 0  # already queued
    space = get_space(result.model)
    for _ in range(4):  # ask-and-tell over the family's search space
        trial = study.ask(result.distributions())
        kwargs = space.estimator_params(trial.params, "binary", random_state=0)
        model = lightgbm.LGBMClassifier(**kwargs)
        study.tell(trial, float(cross_val_score(model, X, y, cv=3, scoring="roc_auc").mean()))
    assert [t.params for t in study.trials[:3]] == [r.config for r in result.recommendations]
    assert study.trials[3].params not in [r.config for r in result.recommendations]
    assert study.best_value > 0.97
    for wrong in (
        optuna.create_study(direction="minimize"),
        optuna.create_study(directions=["maximize", "minimize"]),
    ):
        with pytest.raises(MetaModelError, match=r"create it with optuna\.create_study"):
            result.enqueue(wrong)
        assert not wrong.trials  # nothing queued


def test_default_margin_trades_gain_for_the_default(recommender: Recommender) -> None:
    X, y = _noisy_binary()
    learned = recommender.recommend(X, y, k=3)
    assert not learned.fallback and not any("landmarker scores" in w for w in learned.notes)
    # the larger the margin, the more the default leans first: once first, it stays first
    first = [
        recommender.recommend(X, y, k=1, default_margin=m).best.source == "default"
        for m in (0.0, 0.05, 0.1, 0.2, 0.5, 1.0)
    ]
    assert first == sorted(first) and not first[0] and first[-1]
    safe = recommender.recommend(X, y, k=3, default_margin=1.0)
    assert safe.best.source == "default"
    from autometa.spaces import get_space

    assert safe.best.config == get_space("lightgbm").default("binary")
    assert safe.best.params["learning_rate"] == 0.1 and safe.best.params["num_leaves"] == 31
    # margin 0 is the stack without the learned safety margin: never more default-leaning
    plain = recommender.recommend(X, y, k=1, default_margin=0.0)
    assert plain.best.source != "default"
    with pytest.raises(MetaModelError, match="default_margin"):
        recommender.recommend(X, y, default_margin=1.5)


def test_saturated_task_gets_the_default_first_at_any_margin(recommender: Recommender) -> None:
    X, y = _digits_low_high()
    for margin in (0.0, None):
        result = recommender.recommend(X, y, k=3, default_margin=margin)
        assert result.best.source == "default" and not result.fallback
        assert result.recommendations[1].source != "default"  # then the stack's order
        note = next(w for w in result.notes if w.startswith("the LightGBM landmarker"))
        assert "(at least 0.98)" in note and "ranks the library default first" in note
    diabetes = recommender.recommend(*load_diabetes(return_X_y=True, as_frame=True), k=1)
    assert not any("landmarker scores" in w for w in diabetes.notes)  # regression: no gate


@pytest.mark.slow
def test_exclude_self_drops_the_dataset_and_its_group(recommender: Recommender) -> None:
    X, y = _cancer()
    result = recommender.recommend(X, y, k=5, exclude_self=True)
    names = {n.name for rec in result.recommendations for n in rec.neighbors}
    assert not names & {"sklearn/breast_cancer", "keel/wdbc"}


@pytest.mark.slow
def test_one_off_fit_is_announced() -> None:
    lines: list[str] = []
    fresh = Recommender(shipped=True, store="sqlite://", progress=lines.append)
    data = load_diabetes(as_frame=True)
    result = fresh.recommend(data.data, data.target, k=1, exclude_self=True)
    stored = (fresh.kb.tasks["task_type"] == "regression").sum()
    # the whole knowledge base's stack finds near-duplicates first (fitted once, cached),
    # then the one-off stack without the dataset's own task
    assert lines[-1] == (
        f"fitting a one-off lightgbm meta-learner for regression (rmse) on {stored - 1} stored "
        "tasks (exclude_self: not cached)"
    )
    assert all("one-off" not in line for line in lines[:-1]) and len(lines) <= 2
    assert "sklearn/diabetes" not in {n.name for n in result.best.neighbors}
    # a MetaSampler for the same request leaves the dataset's own task out of its prior too
    held_out, started = meta_sampler(data.data, data.target, k=1, exclude_self=True,
                                     recommender=fresh)  # fmt: skip
    assert [r.config for r in started.recommendations] == [result.best.config]
    assert len(held_out.prior.log_prior) == stored - 1
    assert int(np.isfinite(held_out.prior.scores).any(axis=1).sum()) == stored - 1


def test_tiny_dataset_never_gets_unfillable_leaves(recommender: Recommender) -> None:
    # FLAML's zero-shot picks min_child_samples=53 for a 75-row iris split (their #1247)
    data = load_iris(as_frame=True)
    X, y = data.data.iloc[::2], data.target.iloc[::2].astype(str)
    result = recommender.recommend(X, y, k=5)
    assert all(r.config["min_child_samples"] <= 7 for r in result.recommendations)
    best = result.estimator()  # the task type is the result's
    assert best.get_params() == result.best.estimator("multiclass").get_params()
    assert cross_val_score(best, X, y, cv=3).mean() > 0.85
    assert (
        result.estimator(5).get_params()["n_estimators"]
        == result.recommendations[4].params["n_estimators"]
    )
    with pytest.raises(MetaModelError, match="rank must be 1-5"):
        result.estimator(6)
    assert not any(w.startswith("only ") for w in result.warnings)
    many = recommender.recommend(X, y, k=1000)  # more than the feasible configurations
    n = len(many.recommendations)
    assert 5 < n < 1000
    assert f"only {n} lightgbm configurations are feasible here (asked for 1000)" in many.warnings


def test_pipeline_is_the_evaluated_estimator(recommender: Recommender) -> None:
    from sklearn.pipeline import Pipeline

    X, y = _cancer()
    best = recommender.recommend(X, y, k=1, model="linear").best
    pipe = best.pipeline()  # the task type is the recommendation's
    assert isinstance(pipe, Pipeline) and pipe.get_params()["model__C"] == best.params["C"]
    assert cross_val_score(pipe, X, y, cv=3, scoring="roc_auc").mean() > 0.98  # scaled
    lgbm_best = recommender.recommend(X, y, k=1).best
    lgbm = lgbm_best.pipeline()
    assert isinstance(lgbm, lightgbm.LGBMClassifier) and lgbm.n_jobs == -1
    assert {"n_jobs", "verbosity"}.isdisjoint(lgbm_best.params)  # what to fit, not how to run
    assert lgbm_best.params["random_state"] == 0  # part of the evaluated configuration


def test_regression_uses_rmse(recommender: Recommender) -> None:
    data = load_diabetes(as_frame=True)
    result = recommender.recommend(data.data, data.target, k=3)
    assert result.metric == "rmse" and result.direction == "minimize"
    assert all(
        r.predicted_score is not None and r.predicted_score > 0 for r in result.recommendations
    )
    lightgbm.LGBMRegressor(**result.best.params).fit(data.data, data.target)
    # the predicted RMSE is in this dataset's units (anchored on its LightGBM landmarker)
    cv = -cross_val_score(
        lightgbm.LGBMRegressor(**result.best.params),
        data.data,
        data.target,
        cv=5,
        scoring="neg_root_mean_squared_error",
    ).mean()
    assert result.best.predicted_score == pytest.approx(cv, rel=0.15)
    # other families are anchored the same way (compared with LightGBM's default)
    ridge = recommender.recommend(data.data, data.target, k=1, model="linear").best
    cv = -cross_val_score(
        ridge.pipeline("regression"), data.data, data.target, cv=5,
        scoring="neg_root_mean_squared_error",
    ).mean()  # fmt: skip
    assert ridge.predicted_score == pytest.approx(cv, rel=0.15)


@pytest.mark.parametrize(
    ("metric", "scoring", "sign", "tolerance"),
    # r2 on 442 rows: the stored score (3-fold CV, twice) and this 5-fold CV differ by fold
    # noise of about 0.05 (the top pick: stored 0.395, here 0.448)
    [("mae", "neg_mean_absolute_error", -1, {"rel": 0.2}), ("r2", "r2", 1, {"abs": 0.07})],
)
def test_predicted_mae_and_r2_are_in_this_datasets_terms(
    recommender: Recommender, metric: str, scoring: str, sign: int, tolerance: dict
) -> None:
    data = load_diabetes(as_frame=True)
    best = recommender.recommend(data.data, data.target, k=1, metric=metric).best
    model = lightgbm.LGBMRegressor(**best.params)
    cv = sign * cross_val_score(model, data.data, data.target, cv=5, scoring=scoring).mean()
    assert best.predicted_score == pytest.approx(cv, **tolerance)


def test_bad_arguments_raise_typed_errors(recommender: Recommender) -> None:
    X, y = _cancer()
    with pytest.raises(MetaModelError, match="metric"):
        recommender.recommend(X, y, metric="f1")
    with pytest.raises(MetaModelError, match=r"'rmse' does not apply to a binary target; "):
        recommender.recommend(X, y, metric="rmse")
    with pytest.raises(MetaModelError, match=r"family|valid"):
        recommender.recommend(X, y, model="svm")
    for k in (2.5, "3", True):
        with pytest.raises(MetaModelError, match="k must be an integer"):
            recommender.recommend(X, y, k=k)  # type: ignore[arg-type]
    with pytest.raises(MetaModelError, match="default_margin must be a number"):
        recommender.recommend(X, y, default_margin="0.1")  # type: ignore[arg-type]


@pytest.mark.slow
def test_categoricals_over_255_levels_keep_hist_gradient_boosting_out(
    recommender: Recommender,
) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from autometa.data import load_dataset

    rng = np.random.default_rng(0)
    city = np.repeat([f"c{i}" for i in range(300)], 3)
    X = pd.DataFrame({"city": city, "x": rng.normal(size=900), "z": rng.normal(size=900)})
    y = pd.Series(np.where(X["x"] + rng.normal(size=900) > 0, "yes", "no"))
    typed = load_dataset(X, y)
    hgb = recommender.recommend(X, y, model="hist_gradient_boosting", k=1)
    assert any("'city' (300 levels)" in w and "at most 255 levels" in w for w in hgb.warnings)
    with pytest.raises(ValueError, match="cardinality"):  # what the note warns of
        HistGradientBoostingClassifier(**hgb.best.params).fit(typed.X, typed.y)
    auto = recommender.recommend(X, y, model="auto", k=1)
    assert auto.model != "hist_gradient_boosting"
    assert any("hist_gradient_boosting left out" in w for w in auto.notes)
    auto.best.pipeline(typed.task_type).fit(typed.X, typed.y)  # the chosen family reads it


def test_family_without_evaluations_names_the_ones_there(recommender: Recommender) -> None:
    from autometa.store.snapshot import Snapshot

    kb = recommender.kb
    ev = kb.evaluations
    only_lightgbm = Snapshot(
        kb.manifest,
        kb.tasks,
        kb.metafeatures,
        kb.configurations,
        ev[ev["family"] == "lightgbm"].reset_index(drop=True),
    )
    X, y = _cancer()
    with pytest.raises(MetaModelError, match=r"random_forest.*evaluations.*: lightgbm$"):
        Recommender(kb=only_lightgbm).recommend(X, y, model="random_forest")


def test_prefetch_loads_in_the_background_and_leaves_errors_to_recommend(
    tmp_path: Path,
) -> None:
    from autometa.exceptions import StoreError

    rec = Recommender(store="sqlite://")
    rec.prefetch().join(timeout=120)
    assert rec._kb is not None and len(rec.kb.tasks) > 100  # loaded by the thread
    bad = Recommender(store=str(tmp_path / "not-a-store.txt"), shipped=True)
    bad.prefetch().join(timeout=120)  # the thread swallows the error ...
    X, y = _cancer()
    with pytest.raises(StoreError, match="neither a store URL"):  # ... recommend raises it
        bad.recommend(X, y)


def test_module_level_function_is_callable() -> None:
    assert callable(autometa.recommend)
    assert autometa.Recommender is Recommender


def test_feasibility_rule() -> None:
    assert not feasible("lightgbm", {"min_child_samples": 53}, 75)
    assert feasible("lightgbm", {"min_child_samples": 5}, 75)
    assert feasible("linear", {"C": 1.0}, 10)


def test_cli_recommend_json_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOMETA_STORE", f"sqlite:///{tmp_path / 'none.db'}")
    X, y = _cancer()
    path = tmp_path / "cancer.csv"
    X.assign(diagnosis=y).to_csv(path, index=False)
    result = CliRunner().invoke(
        cli, ["recommend", str(path), "--top", "3", "--format", "json", "--exclude-self"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {
        "task", "model", "metric", "direction", "recommendations", "fallback", "warnings",
        "notes",
    }  # fmt: skip
    assert payload["notes"][0].startswith("exclude_self: left out the stored task groups wdbc")
    assert "No target given: took the last column 'diagnosis'" in payload["warnings"][0]
    assert result.stderr.count("No target given") == 1  # once, as a warning: line
    assert not {"n_jobs", "verbosity"} & set(payload["recommendations"][0]["params"])
    assert set(payload["task"]) == {"fingerprint", "task_type", "n_rows", "n_features", "target"}
    assert payload["task"]["target"] == "diagnosis"
    assert len(payload["recommendations"]) == 3
    for rec in payload["recommendations"]:
        assert {"rank", "model", "params", "predicted_score", "uncertainty", "neighbors"} <= set(
            rec
        )
        lightgbm.LGBMClassifier(**rec["params"])
    bad = CliRunner().invoke(cli, ["recommend", str(path), "--metric", "nope"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    safe = CliRunner().invoke(
        cli, ["recommend", str(path), "--top", "1", "--format", "json", "--default-margin", "1"]
    )
    assert safe.exit_code == 0, safe.output
    params = json.loads(safe.stdout)["recommendations"][0]["params"]
    assert (params["learning_rate"], params["num_leaves"], params["n_estimators"]) == (0.1, 31, 100)
    bad = CliRunner().invoke(cli, ["recommend", str(path), "--default-margin", "1.5"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    table = CliRunner().invoke(cli, ["recommend", str(path), "--target", "diagnosis"])
    lines = table.stdout.splitlines()
    assert table.exit_code == 0 and max(len(line) for line in lines) <= 100, table.stdout
    assert lines[1].startswith("similar stored datasets:") and "wdbc" in lines[1]  # once
    assert lines[3].split()[:3] == ["rank", "roc_auc", "spread"]
    assert any(line.startswith("learning_rate ") for line in lines)  # parameters table
    assert "warning:" not in table.stderr and table.stderr.count("note:") >= 1
    X.assign(diagnosis=y, row_id=range(len(X))).to_csv(path, index=False)
    missing = CliRunner().invoke(cli, ["recommend", str(path), "--store", str(tmp_path / "n.db")])
    assert missing.exit_code == 2 and "does not exist" in missing.output  # before reading
    refused = CliRunner().invoke(cli, ["recommend", str(path)])
    assert refused.exit_code == 2 and "'row_id' looks like a row counter" in refused.output


def test_cli_says_when_it_fits_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("AUTOMETA_STORE", f"sqlite:///{tmp_path / 'none.db'}")
    data = load_diabetes(as_frame=True)
    path = tmp_path / "diabetes.csv"
    data.frame.to_csv(path, index=False)
    args = ["recommend", str(path), "--top", "1", "--format", "json"]
    shipped = CliRunner().invoke(cli, args)  # the default metric's stack ships: no fit
    assert shipped.exit_code == 0 and "fitting" not in shipped.stderr, shipped.output
    args += ["--metric", "mae"]
    first, again = CliRunner().invoke(cli, args), CliRunner().invoke(cli, args)
    assert first.exit_code == again.exit_code == 0, first.output
    assert "fitting the lightgbm meta-learner for regression (mae)" in first.stderr
    assert str(tmp_path / "cache") in first.stderr and "fitting" not in again.stderr
    assert json.loads(first.stdout) == json.loads(again.stdout)


def test_other_family_fits_only_its_own_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the predicted score's LightGBM reference needs LightGBM's meta-data, not its stack
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lines: list[str] = []
    fresh = Recommender(store="sqlite://", progress=lines.append)
    data = load_diabetes(as_frame=True)
    result = fresh.recommend(data.data, data.target, k=1, model="random_forest")
    assert result.best.predicted_score is not None and 40 < result.best.predicted_score < 80
    assert [line.split(" for ")[0] for line in lines] == ["fitting the random_forest meta-learner"]
    folders = [p.name for p in (tmp_path / "cache").rglob("*-regression-rmse-*")]
    assert len(folders) == 1 and folders[0].startswith("random_forest-")


def test_far_dataset_leans_towards_the_default_and_the_portfolio(
    recommender: Recommender,
) -> None:
    from autometa.data import load_dataset
    from autometa.meta._fallback import GUARD_MARGIN, guard_margin, soft_fallback
    from autometa.recommendation.recommender import as_frame, quiet_metafeatures

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.lognormal(0, 4, size=(60, 400)), columns=[f"c{i}" for i in range(400)])
    y = pd.Series(rng.integers(0, 2, 60))
    result = recommender.recommend(X, y, k=3)
    assert result.fallback and "far from the knowledge base" in result.warnings[-1]
    assert f"favouring the library default (margin {GUARD_MARGIN:g})" in result.warnings[-1]
    stack, meta = recommender.learner("lightgbm", "classification", "roc_auc")
    mf = as_frame(quiet_metafeatures(load_dataset(X, y)))
    ranking = stack.rank(mf, default_margin=guard_margin(stack.default_margin_))
    configs = recommender.kb.configurations
    ids = [c for c in ranking["config_id"] if feasible("lightgbm", configs.loc[c, "params"], 60)]
    order = stack.fallback_order(mf)
    expected = soft_fallback(ids, order)[:3]
    assert [r.config for r in result.recommendations] == [
        dict(configs.loc[c, "params"]) for c in expected
    ]
    # neither the portfolio's first member (min_child_samples=8) nor the library default
    # (20) can fill a leaf of a 60-row dataset: the next feasible fallback configurations
    # follow the top pick instead
    assert not feasible("lightgbm", configs.loc[meta.default_config_id, "params"], 60)
    offered = [c for c in order if c in ids][:2]
    assert set(offered) <= set(expected) and meta.default_config_id not in expected
    assert {r.source for r in result.recommendations} <= {"portfolio", "stack"}
    assert "right after the top pick" in result.warnings[-1]
    # a race re-orders the fallback's ranking: its note no longer promises the order
    raced = recommender.recommend(X, y, k=3, race=2)
    assert raced.fallback and "right after the top pick" not in raced.warnings[-2]
    assert "raced 2 configurations (the top 2)" in raced.warnings[-1]
    assert {json.dumps(r.config, sort_keys=True) for r in raced.recommendations[:2]} == {
        json.dumps(dict(configs.loc[c, "params"]), sort_keys=True) for c in expected[:2]
    }


def test_fallback_configurations_are_named_and_counted() -> None:
    from autometa.recommendation.notes import _listed

    assert _listed(["the library default"]) == "the library default"
    assert _listed(["robust portfolio", "robust portfolio"]) == (
        "2 robust portfolio configurations"
    )
    assert _listed(["the library default", "robust portfolio"]) == (
        "the library default and a robust portfolio configuration"
    )


def test_model_auto_chooses_a_family_and_builds_each_metadata_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import autometa.meta
    import autometa.meta.data

    real = autometa.meta.data.build_metadata
    built: list[tuple[str, str, str]] = []

    def counting(kb: Any, family: str, kind: str, metric: str | None = None) -> Any:
        built.append((family, kind, str(metric)))
        return real(kb, family, kind, metric)

    monkeypatch.setattr(autometa.meta.data, "build_metadata", counting)
    monkeypatch.setattr(autometa.meta, "build_metadata", counting)
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    result = Recommender(shipped=True, store="sqlite://").recommend(X, y, model="auto", k=3)
    reason = next(w for w in result.notes if w.startswith("model auto: chose"))
    assert f"chose {result.model} " in reason
    assert result.model in {"lightgbm", "hist_gradient_boosting", "random_forest",
                            "extra_trees", "linear"}  # fmt: skip
    assert len(built) == len(set(built))  # no family's MetaData built twice
    assert len(result.recommendations) == 3
    estimator = result.estimator()
    assert cross_val_score(estimator, X, y, cv=3, scoring="r2").mean() > 0.3


def test_wide_data_announces_the_meta_feature_time() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 500)), columns=[f"f{i}" for i in range(500)])
    y = (X["f0"] + X["f1"] > 0).map({True: "yes", False: "no"})
    lines: list[str] = []
    result = Recommender(shipped=True, store="sqlite://", progress=lines.append).recommend(
        X, y, k=1
    )
    assert result.task["n_features"] == 500
    assert any(line.startswith("computing meta-features of 500 features") for line in lines)
    lines.clear()
    Recommender(shipped=True, store="sqlite://", progress=lines.append).recommend(
        X.iloc[:, :499], y, k=1
    )
    assert not any("computing meta-features" in line for line in lines)


def test_warning_filters_survive_the_loader_thread(
    recommender: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two threads in warnings.catch_warnings can restore each other's filters in the wrong
    # order; simulate the outcome: the loader thread leaves "ignore everything" behind
    import threading
    import warnings

    real = recommender.learner

    def leaky(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            warnings.simplefilter("ignore")  # only the background loader leaks
        return real(*args, **kwargs)

    monkeypatch.setattr(recommender, "learner", leaky)
    before = list(warnings.filters)
    X, y = _cancer()
    recommender.recommend(X, y, k=1)
    assert list(warnings.filters) == before
