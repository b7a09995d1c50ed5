"""The in-task race (`autometa recommend --race N`): order, scores, wiring."""

from __future__ import annotations

import json

import lightgbm
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_diabetes, load_iris
from sklearn.metrics import mean_squared_error

from autometa.cli import cli
from autometa.exceptions import MetaModelError
from autometa.metafeatures import landmarking_sample
from autometa.recommendation.race import (
    REPEATS,
    fold_scores,
    race_candidates,
    race_folds,
    race_order,
    race_scores,
    run_race,
)
from autometa.recommendation.recommender import Recommender, TaskSummary
from autometa.recommendation.request import check_race

CONFIGS = {
    7: {"n_estimators": 40, "learning_rate": 0.1, "num_leaves": 7, "min_child_samples": 10,
        "max_depth": -1, "subsample": 1.0, "colsample_bytree": 1.0, "reg_alpha": 1e-8,
        "reg_lambda": 1e-8},
    8: {"n_estimators": 16, "learning_rate": 0.005, "num_leaves": 4, "min_child_samples": 50,
        "max_depth": 3, "subsample": 1.0, "colsample_bytree": 1.0, "reg_alpha": 1e-8,
        "reg_lambda": 1e-8},
}  # fmt: skip


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender(shipped=True, store="sqlite://")


def test_order_by_direction_ties_and_failures() -> None:
    ids = [5, 3, 9, 1]
    scores = {5: 0.80, 3: 0.90, 9: None, 1: 0.90}
    assert race_order(ids, scores, +1) == [3, 1, 5, 9]  # tie 3/1 keeps the given order
    assert race_order(ids, scores, -1) == [5, 3, 1, 9]  # lower is better; None last
    assert race_candidates([4, 2, 6, 1], 2, default_id=1) == [4, 2, 1]
    assert race_candidates([4, 1, 6], 2, default_id=1) == [4, 1]  # the default once
    assert race_candidates([4, 2], 2, default_id=7) == [4, 2]  # not ranked: not raced
    asked: list[list[int]] = []
    order, got = run_race(
        [4, 2, 6, 1, 8], 2, 1, lambda raced: asked.append(raced) or {4: 1.0, 2: 3.0, 1: 2.0}, +1
    )
    assert asked == [[4, 2, 1]] and got == {4: 1.0, 2: 3.0, 1: 2.0}
    assert order == [2, 1, 4, 6, 8]  # raced first, in race order; the rest as ranked
    for bad in (-1, 21, 2.5, True):
        with pytest.raises(MetaModelError):
            check_race(bad)  # type: ignore[arg-type]


def test_race_scores_are_independent_lightgbm_fits_on_the_race_folds() -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    sample = landmarking_sample(X, y, "regression")
    folds = race_folds(sample[1], "regression")
    assert len(folds) == 3 * REPEATS  # 442 rows: repeated up to REPEATS times
    assert len(race_folds(sample[1], "regression", repeats=None)) == 3 * 5  # ~3,000 rows
    assert len(race_folds(sample[1], "regression", repeats=1)) == 3
    per = fold_scores(sample, "regression", "lightgbm", CONFIGS, "rmse", n_jobs=2)
    for cid, config in CONFIGS.items():
        expected = []
        for train, test in folds:
            model = lightgbm.LGBMRegressor(**config, random_state=0, n_jobs=1, verbosity=-1)
            model.fit(sample[0].iloc[train], sample[1].iloc[train])
            expected.append(mean_squared_error(sample[1].iloc[test], model.predict(
                sample[0].iloc[test])) ** 0.5)  # fmt: skip
        np.testing.assert_allclose(per[cid], expected, rtol=1e-9)
    calls: list[tuple[int, int]] = []
    means = race_scores(
        sample, "regression", "lightgbm", CONFIGS, "rmse", repeats=1,
        on_fit=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    assert calls == [(i, 6) for i in range(7)]  # told before the first fit and after each
    assert means == {c: pytest.approx(np.mean(v[:3]), rel=1e-12) for c, v in per.items()}
    assert means[7] < means[8]  # 40 trees of 7 leaves beat 16 tiny, slow ones
    bad = {9: {**CONFIGS[8], "n_estimators": 5}}  # outside the space: every fit fails
    assert race_scores(sample, "regression", "lightgbm", bad, "rmse", repeats=1) == {9: None}


def _ids(recommender: Recommender, recs: list) -> list[int]:
    params = recommender.kb.configurations["params"].map(json.dumps, na_action="ignore")
    return [int(params.index[params == json.dumps(r.config)][0]) for r in recs]


def test_recommend_races_the_top_and_the_default(recommender: Recommender) -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    plain = recommender.recommend(X, y, k=5)
    raced = recommender.recommend(X, y, k=5, race=2)
    assert all(r.race_score is None for r in plain.recommendations)
    default = recommender.learner("lightgbm", "regression", "rmse")[1].default_config_id
    assert default not in _ids(recommender, plain.recommendations[:2])
    scored = [r for r in raced.recommendations if r.race_score is not None]
    assert set(_ids(recommender, scored)) == {*_ids(recommender, plain.recommendations[:2]),
                                              default}  # fmt: skip
    assert [r.rank for r in scored] == [1, 2, 3]  # raced ones first
    values = [r.race_score for r in scored]
    assert values == sorted(values)  # RMSE: lower first
    assert [r.source for r in scored].count("default") == 1
    assert any("raced 3 configurations (the top 2 and the library default)" in w
               for w in raced.warnings)  # fmt: skip
    rest = [r for r in raced.recommendations if r.race_score is None]  # in the stack's order
    assert (
        _ids(recommender, rest)
        == [
            c
            for c in _ids(recommender, plain.recommendations)
            if c not in _ids(recommender, scored)
        ][: len(rest)]
    )
    # the winner's race score is its cross-validated RMSE on the race's folds
    sample = landmarking_sample(X, y, "regression")
    winner = raced.recommendations[0]
    again = race_scores(sample, "regression", "lightgbm", {0: winner.config}, "rmse")
    assert again[0] == pytest.approx(winner.race_score, rel=1e-12)


@pytest.mark.slow
def test_an_infeasible_default_is_not_raced(recommender: Recommender) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)  # 150 rows: min_child_samples=20 > 15
    raced = recommender.recommend(X, y, k=3, race=2)
    assert [r.race_score is not None for r in raced.recommendations] == [True, True, False]
    assert all(r.source != "default" for r in raced.recommendations)
    assert any(f"raced 2 configurations (the top 2) on 150 rows, {3 * REPEATS} cross-valid" in w
               for w in raced.warnings)  # fmt: skip


def test_recommend_summary_needs_the_sample_to_race(recommender: Recommender) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    from autometa.data import load_dataset

    ds = load_dataset(X, y)
    with pytest.raises(MetaModelError, match="landmarking sample"):
        recommender.recommend_summary(TaskSummary.of(ds), {}, race=2)


def test_cli_race_json_and_bad_value(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AUTOMETA_STORE", f"sqlite:///{tmp_path / 'none.db'}")
    path = tmp_path / "diabetes.csv"
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    runner = CliRunner()
    done = runner.invoke(cli, ["recommend", str(path), "--race", "1", "--top", "3",
                               "--format", "json"])  # fmt: skip
    assert done.exit_code == 0, done.output
    answer = json.loads(done.stdout)
    scores = [r["race_score"] for r in answer["recommendations"]]
    raced = [s for s in scores if s is not None]
    assert len(raced) >= 2 and raced == sorted(raced)  # RMSE: lower first
    assert scores[: len(raced)] == raced
    table = runner.invoke(cli, ["recommend", str(path), "--race", "1", "--top", "3"])
    assert table.exit_code == 0, table.output
    header = next(line for line in table.stdout.splitlines() if line.startswith("rank"))
    assert header.split()[:5] == ["rank", "rmse", "spread", "race", "rmse"]  # the race's
    bad = runner.invoke(cli, ["recommend", str(path), "--race", "99"])
    assert bad.exit_code == 2 and "--race" in bad.output


def test_too_few_rows_are_not_raced(recommender: Recommender) -> None:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    result = recommender.recommend(X.head(25), y.head(25), k=3, race=2)
    assert all(r.race_score is None for r in result.recommendations)
    assert "not raced: 25 rows are too few to cross-validate (a race needs 30)" in result.warnings
