"""`autometa tune` and autometa.optuna.tune: warm-started CV search on the same folds,
resumable in RDB storage, refusing a study of other data or options."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_diabetes

from autometa.cli import cli
from autometa.data import load_dataset
from autometa.exceptions import SearchError
from autometa.harvest.evaluate import evaluate_config, fold_indices
from autometa.optuna.rounds import early_stopped_fit
from autometa.optuna.tune import tune
from autometa.recommendation.recommender import Recommender


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tune") / "diabetes.csv"
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender()


@pytest.mark.parametrize("early_stopping", ["off", "holdout"])  # refit: the CLI test
def test_tune_starts_with_the_recommendations_on_fixed_folds(
    diabetes, recommender, early_stopping
) -> None:
    result = tune(diabetes, n_trials=6, cv=3, warm_start=3, recommender=recommender,
                  early_stopping=early_stopping)  # fmt: skip
    assert result.metric == "rmse" and result.direction == "minimize" and len(result.trials) == 6
    values = [t["value"] for t in result.trials]
    assert result.best_value == min(values)
    answer = recommender.recommend(diabetes, k=3)
    ds = load_dataset(diabetes)
    folds = fold_indices(ds.y, ds.task_type, 3, 0)
    for trial, rec in zip(result.trials[:3], answer.recommendations, strict=True):
        fit, rounds = (None, [])
        if early_stopping != "off":
            fit, rounds = early_stopped_fit(ds.task_type, refit=early_stopping == "refit")
        scores = evaluate_config(
            ds.X, ds.y, ds.task_type, "lightgbm", rec.config, folds=folds, fit=fit
        )
        assert trial["value"] == pytest.approx(np.mean([r.scores["rmse"] for r in scores]))
        trees = trial["params"]["n_estimators"]
        stopped = early_stopping != "off"
        assert trees == (int(np.median(rounds)) if stopped else rec.config["n_estimators"])
    best = next(t for t in result.trials if t["value"] == result.best_value)
    assert result.best_params["n_estimators"] == best["params"]["n_estimators"]
    model = lightgbm.LGBMRegressor(**result.best_params).fit(ds.X, ds.y)
    assert model.booster_.num_trees() == result.best_params["n_estimators"]


def test_tune_takes_explicit_folds_and_refuses_bad_ones(diabetes, recommender) -> None:
    ds = load_dataset(diabetes)
    folds = fold_indices(ds.y, ds.task_type, 3, 7)
    given = tune(ds, n_trials=2, cv=folds, seed=7, sampler="random", recommender=recommender)
    seeded = tune(ds, n_trials=2, cv=3, seed=7, sampler="random", recommender=recommender)
    assert given.trials[0]["value"] == pytest.approx(seeded.trials[0]["value"])
    with pytest.raises(SearchError, match="row positions"):
        tune(ds, cv=[(np.arange(10), np.arange(10, 10_000))] * 2, recommender=recommender)
    with pytest.raises(SearchError, match="at least 2 folds"):
        tune(ds, cv=1, recommender=recommender)


def test_a_stored_study_continues_and_refuses_other_options(
    diabetes, recommender, tmp_path: Path
) -> None:
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = tune(diabetes, n_trials=3, cv=3, storage=storage, study_name="d",
                 sampler="tpe", recommender=recommender)  # fmt: skip
    again = tune(diabetes, n_trials=5, cv=3, storage=storage, study_name="d",
                 sampler="tpe", recommender=recommender)  # fmt: skip
    assert len(again.trials) == 5 and again.trials[:3] == first.trials
    with pytest.raises(SearchError, match="another folds"):
        tune(diabetes, n_trials=6, cv=4, storage=storage, study_name="d", recommender=recommender)
    with pytest.raises(SearchError, match="unknown sampler"):
        tune(diabetes, sampler="grid", recommender=recommender)
    with pytest.raises(SearchError, match="early_stopping must be one of off, holdout, refit"):
        tune(diabetes, early_stopping="yes", recommender=recommender)
    with pytest.raises(SearchError, match="another early_stopping"):
        tune(diabetes, n_trials=6, cv=3, storage=storage, study_name="d", sampler="tpe",
             early_stopping="refit", recommender=recommender)  # fmt: skip


def test_cli_tune_json_and_one_line_errors(diabetes, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--trials", "4", "--cv", "3", "--sampler", "random", "--warm-start", "2",
            "--early-stopping", "refit"]  # fmt: skip
    png = tmp_path / "curve.png"
    out = runner.invoke(cli, ["tune", str(diabetes), *args, "--format", "json", "--plot", str(png)])
    assert out.exit_code == 0, out.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    answer = json.loads(out.stdout)
    assert answer["model"] == "lightgbm" and len(answer["trials"]) == 4
    assert answer["best_value"] == min(t["value"] for t in answer["trials"])
    best = min(answer["trials"], key=lambda t: t["value"])
    assert answer["best_params"]["n_estimators"] == best["params"]["n_estimators"]
    assert "n_estimators" not in answer["best_config"]  # set by early stopping, not searched
    wrong = ["--metric", "roc_auc", "--trials", "2", "--target", "target"]
    bad = runner.invoke(cli, ["tune", str(diabetes), *wrong])
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1
    bad = runner.invoke(cli, ["tune", str(tmp_path / "missing.csv")])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    unusable = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
    bad = runner.invoke(cli, ["tune", str(diabetes), "--storage", unusable, "--target", "target"])
    assert bad.exit_code == 2 and "cannot open the study storage" in bad.output
    assert len(bad.output.strip().splitlines()) == 1


def test_two_processes_share_one_postgresql_study(diabetes, postgres_server) -> None:
    """Two `autometa tune` processes on one study of a real PostgreSQL server: every trial
    is kept once and the two stop near --trials in all (unshared, they would run 16)."""
    import os
    import subprocess
    import sys

    import optuna

    url = postgres_server.create_database()
    args = [sys.executable, "-m", "autometa", "tune", str(diabetes), "--trials", "8", "--cv",
            "3", "--storage", url, "--study-name", "shared", "--format", "json"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    procs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]  # fmt: skip
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1].decode()[-500:] for o in outputs]
    study = optuna.load_study(study_name="shared", storage=url)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert 8 <= len(done) <= 9  # each process stops once 8 are finished; one may be running
    assert len({t.number for t in done}) == len(done)  # none duplicated
    answers = [json.loads(o[0]) for o in outputs]
    assert all(len(a["trials"]) >= 8 for a in answers)  # each sees the other's trials
    assert min(t.value for t in done) == min(a["best_value"] for a in answers)


def test_ws_cmaes_starts_from_the_recommendations_then_searches(diabetes, recommender) -> None:
    result = tune(diabetes, n_trials=6, cv=3, sampler="ws-cmaes", warm_start=2,
                  recommender=recommender)  # fmt: skip
    answer = recommender.recommend(diabetes, k=2)
    ds = load_dataset(diabetes)
    folds = fold_indices(ds.y, ds.task_type, 3, 0)
    scores = evaluate_config(ds.X, ds.y, ds.task_type, "lightgbm",
                             answer.recommendations[0].config, folds=folds)  # fmt: skip
    assert result.trials[0]["value"] == pytest.approx(np.mean([r.scores["rmse"] for r in scores]))
    assert len(result.trials) == 6 and all(t["state"] == "complete" for t in result.trials)


def test_the_race_is_the_first_trials_of_the_search(diabetes, recommender) -> None:
    from autometa.metafeatures import landmarking_sample
    from autometa.recommendation.race import race_folds

    ds = load_dataset(diabetes)
    plain = recommender.recommend(ds, k=3)
    raced = recommender.recommend(ds, k=4, race=3)  # the top 3 and the default raced
    race_score = {json.dumps(r.config, sort_keys=True): r.race_score for r in raced.recommendations}
    X, y = landmarking_sample(ds.X, ds.y, ds.task_type)
    search = tune(X, y, n_trials=3, cv=race_folds(y, ds.task_type), warm_start=3,
                  recommender=recommender)  # fmt: skip
    for trial, rec in zip(search.trials, plain.recommendations, strict=True):
        assert trial["params"] == rec.config  # the same candidates, in the same order
        assert trial["value"] == pytest.approx(race_score[json.dumps(rec.config, sort_keys=True)])
