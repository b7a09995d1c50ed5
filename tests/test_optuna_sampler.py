"""MetaSampler: recommendations first, then adaptation to the observed trials, then the
fallback; state derived from the study's trials (ask/tell, n_jobs, RDB storage, restarts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

from autometa.meta import NearestTasks, StackedMetaLearner, build_metadata
from autometa.optuna import MetaSampler, TransferPrior, suggest, transfer_prior
from tests.test_meta import _synthetic_kb

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def setup() -> tuple[TransferPrior, Any, int]:
    """A prior from a stack trained on every synthetic task but one held-out group."""
    kb = _synthetic_kb()
    data = build_metadata(kb, "lightgbm", "classification")
    held = data.task_ids[data.groups() == "g0"]
    train = np.setdiff1d(data.task_ids, held)
    stack = StackedMetaLearner(seed=0).fit(data, train)
    task = int(held[0])
    mf = data.metafeatures.loc[task]
    prior = transfer_prior(stack, data, kb.configurations, mf, "binary", train_task_ids=train)
    return prior, data, task


def _objective(prior: TransferPrior, data: Any, task: int):
    """The held-out task's stored normalised score of the candidate a trial names."""
    row = data.normalised[data.rows([task])[0]]
    dists = prior.distributions()

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, dists)
        return float(np.nan_to_num(row[prior.nearest(params)], nan=0.0))

    return objective


def _run(prior: TransferPrior, objective, n: int, **kw: Any) -> optuna.Study:
    study = optuna.create_study(direction="maximize", sampler=MetaSampler(prior, **kw))
    study.optimize(objective, n_trials=n)
    return study


def test_prior_follows_the_stack_and_the_nearest_tasks(setup) -> None:
    prior, data, _ = setup
    assert len(prior.configs) == len(data.config_ids) == len(prior.order)
    assert prior.scores.shape == (len(prior.log_prior), len(prior.configs))
    assert all(prior.nearest(c) == i for i, c in enumerate(prior.configs))  # exact: itself
    assert np.all(prior.log_prior <= 0)  # minus the distance over the training spacing


def test_first_trials_are_the_ranking_then_it_adapts(setup) -> None:
    prior, data, task = setup
    study = _run(prior, _objective(prior, data, task), 8, n_startup=3, seed=0)
    tried = [prior.nearest(t.params) for t in study.trials]
    assert tried[:3] == list(prior.order[:3])
    assert len(set(tried)) == 8  # never the same candidate twice
    assert all(t.params == dict(prior.configs[i]) for t, i in zip(study.trials, tried, strict=True))
    # adaptation: each later pick is the untried candidate with the best weighted score
    sampler = study.sampler
    for n in range(3, 8):
        done = study.trials[:n]
        observed = np.array(tried[:n])
        mean = sampler.predicted(observed, np.array([t.value for t in done]))
        untried = [i for i in prior.order if i not in set(tried[:n])]
        assert mean[tried[n]] == max(np.nan_to_num(mean[i], nan=-1) for i in untried)


def test_weights_move_to_the_stored_tasks_that_order_the_trials_alike(setup) -> None:
    prior, _, _ = setup
    sampler = MetaSampler(prior, temperature=1.0)
    observed = np.arange(len(prior.configs))
    like = 5  # pretend the new task behaves exactly as stored task 5
    values = np.nan_to_num(prior.scores[like], nan=0.0)
    w = sampler.task_weights(observed, values)
    assert w.sum() == pytest.approx(1.0)
    flat = MetaSampler(prior, temperature=0.0).task_weights(observed, values)
    assert np.allclose(flat, np.exp(prior.log_prior) / np.exp(prior.log_prior).sum())
    gain = w / flat  # what the observations did to each task's prior weight
    assert gain[like] == pytest.approx(gain.max())  # full agreement: the largest gain
    assert gain[like] > 100 * np.median(gain)


def test_seeded_runs_repeat_and_a_new_sampler_continues_the_study(setup, tmp_path: Path) -> None:
    prior, data, task = setup
    objective = _objective(prior, data, task)
    n = len(prior.configs) + 3  # past the candidates: the fallback's seeded TPE
    a = _run(prior, objective, n, seed=1)
    b = _run(prior, objective, n, seed=1)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    # two "processes" on one RDB study: the second sampler knows nothing but the trials
    url = f"sqlite:///{tmp_path / 'study.db'}"
    for _ in range(2):
        study = optuna.create_study(
            storage=url, study_name="s", direction="maximize", load_if_exists=True,
            sampler=MetaSampler(prior, seed=1),
        )  # fmt: skip
        study.optimize(objective, n_trials=4)
    stored = optuna.load_study(study_name="s", storage=url).trials
    assert [t.params for t in stored] == [t.params for t in a.trials[:8]]


def test_ask_tell_and_n_jobs(setup) -> None:
    prior, data, task = setup
    objective = _objective(prior, data, task)
    study = optuna.create_study(direction="maximize", sampler=MetaSampler(prior, seed=0))
    for _ in range(4):
        trial = study.ask(prior.distributions())
        study.tell(trial, objective(trial))
    assert [prior.nearest(t.params) for t in study.trials][:4] == list(prior.order[:4])
    threaded = optuna.create_study(direction="maximize", sampler=MetaSampler(prior, seed=0))
    threaded.optimize(objective, n_trials=8, n_jobs=2)
    assert len(threaded.trials) == 8
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in threaded.trials)
    assert all(dict(t.params) in [dict(c) for c in prior.configs] for t in threaded.trials)


def test_handover_gives_the_fallback_every_later_trial(setup) -> None:
    prior, data, task = setup
    fallback = optuna.samplers.RandomSampler(seed=0)
    study = _run(prior, _objective(prior, data, task), 6, handover=3, fallback=fallback)
    configs = [dict(c) for c in prior.configs]
    assert all(t.params in configs for t in study.trials[:3])
    assert not any(t.params in configs for t in study.trials[3:])  # random floats


def test_bad_settings_are_refused(setup) -> None:
    prior, _, _ = setup
    with pytest.raises(ValueError):
        MetaSampler(prior, n_startup=-1)
    with pytest.raises(ValueError):
        MetaSampler(prior, temperature=-0.5)


def test_meta_sampler_for_a_dataset_starts_with_its_recommendations() -> None:
    from sklearn.datasets import load_breast_cancer

    from autometa.optuna import meta_sampler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    sampler, result = meta_sampler(X.iloc[:, :10], y, k=3, seed=0)
    study = optuna.create_study(direction=result.direction, sampler=sampler)
    for _ in range(5):
        trial = study.ask(result.distributions())
        study.tell(trial, 0.5)
    assert [t.params for t in study.trials[:3]] == [r.config for r in result.recommendations]
    assert sampler.n_startup == 3
    assert len({sampler.prior.nearest(t.params) for t in study.trials}) == 5


def _neural_prior(prior: TransferPrior, truth_w: np.ndarray, seed: int = 0) -> TransferPrior:
    """``prior`` with last-layer features of its candidates and a meta-trained layer that
    ranks them unlike ``truth_w`` (no torch needed: the sampler adapts in numpy)."""
    from dataclasses import replace

    rng = np.random.default_rng(seed)
    phi = rng.normal(size=(len(prior.configs), len(truth_w)))
    return replace(prior, phi=phi, head=(-truth_w + rng.normal(0, 0.3, len(truth_w)), 0.0))


def test_neural_adaptation_moves_the_ranking_to_the_observed_trials(setup) -> None:
    prior, _, _ = setup
    truth_w = np.array([1.0, -0.5, 0.8, 0.3])
    neural = _neural_prior(prior, truth_w)
    truth = neural.phi @ truth_w  # the new task's scores: not what the layer predicts
    sampler = MetaSampler(neural, adapt="auto")
    assert sampler.adapt == "neural"
    observed = np.arange(8)
    w, b = neural.head
    before = np.corrcoef(neural.phi @ w + b, truth)[0, 1]
    after = np.corrcoef(sampler.predicted(observed, truth[observed]), truth)[0, 1]
    assert before < 0 < 0.8 < after
    # ranks only: any monotone transform of the observed values adapts it the same way
    same = sampler.predicted(observed, np.exp(3 * truth[observed]))
    np.testing.assert_allclose(same, sampler.predicted(observed, truth[observed]))
    both = MetaSampler(neural, adapt="both").predicted(observed, truth[observed])
    tasks = MetaSampler(neural, adapt="tasks").predicted(observed, truth[observed])
    np.testing.assert_allclose(both, (np.nan_to_num(tasks) + same) / 2)


def test_neural_adaptation_in_a_study_finds_the_best_candidate(setup) -> None:
    prior, _, _ = setup
    truth_w = np.array([1.0, -0.5, 0.8, 0.3])
    neural = _neural_prior(prior, truth_w)
    truth = neural.phi @ truth_w

    def objective(trial: optuna.Trial) -> float:
        return float(truth[prior.nearest(suggest(trial, prior.distributions()))])

    found = {}  # the trial that first tries the best of the candidates
    for adapt in ("tasks", "neural"):
        study = _run(neural, objective, len(truth), adapt=adapt, n_startup=3)
        found[adapt] = [t.value for t in study.trials].index(truth.max())
    assert found["neural"] < found["tasks"]


def test_neural_adaptation_needs_a_neural_prior(setup) -> None:
    prior, _, _ = setup
    for adapt in ("neural", "both"):
        with pytest.raises(ValueError, match="neural meta-model"):
            MetaSampler(prior, adapt=adapt)
    with pytest.raises(ValueError, match="adapt must be"):
        MetaSampler(prior, adapt="gradient")
    assert MetaSampler(prior, adapt="auto").adapt == "tasks"


def test_transfer_prior_carries_a_fitted_neural_model() -> None:
    pytest.importorskip("torch")
    from autometa.meta import NeuralMeta

    kb = _synthetic_kb()
    data = build_metadata(kb, "lightgbm", "classification")
    held = data.task_ids[data.groups() == "g0"]
    train = np.setdiff1d(data.task_ids, held)
    neural = NeuralMeta(epochs=30, seed=0).fit(data, train)
    stack = StackedMetaLearner(base_models=[NearestTasks(k=3)], n_splits=3).fit(data, train)
    mf = data.metafeatures.loc[int(held[0])]
    prior = transfer_prior(stack, data, kb.configurations, mf, "binary", train_task_ids=train,
                           neural=neural)  # fmt: skip
    assert prior.phi is not None and prior.phi.shape == (len(data.config_ids), neural.embed_dim)
    w, b = prior.head
    plain = neural.predict(mf)["score"].to_numpy()
    np.testing.assert_allclose(prior.phi @ w + b, plain, rtol=1e-4, atol=1e-5)
    assert MetaSampler(prior, adapt="auto").adapt == "neural"


@pytest.mark.slow
def test_meta_sampler_with_neural_adaptation_on_the_shipped_knowledge_base() -> None:
    pytest.importorskip("torch")
    from sklearn.datasets import load_breast_cancer

    from autometa.optuna import meta_sampler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    sampler, result = meta_sampler(X, y, k=3, seed=0, adapt="neural")
    assert sampler.adapt == "neural" and sampler.prior.phi is not None
    study = optuna.create_study(direction=result.direction, sampler=sampler)
    for value in (0.97, 0.95, 0.99, 0.96, 0.98, 0.97):
        trial = study.ask(result.distributions())
        study.tell(trial, value)
    assert [t.params for t in study.trials[:3]] == [r.config for r in result.recommendations]
    assert len({sampler.prior.nearest(t.params) for t in study.trials}) == 6  # no repeats
