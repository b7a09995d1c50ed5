"""Meta-learning: meta-data, base models, the stack, persistence and the LOO benchmark.

Most tests use a synthetic knowledge base with a planted structure (large tasks prefer
many trees, small tasks few; some configurations are always poor); one uses a subset of
the shipped snapshot's real evaluations.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from autometa.benchmark import benchmark_loo, outer_folds, run_loo, summarise
from autometa.benchmark.baselines import (
    DefaultRanker,
    ModelRanker,
    NeighbourBest,
    SingleBest,
    default_rankers,
)
from autometa.exceptions import MetaModelError
from autometa.meta import (
    LatentFactors,
    MetaFeatureTransform,
    MetaModel,
    NearestTasks,
    Portfolio,
    PortfolioClassifier,
    StackedMetaLearner,
    Surrogate,
    build_metadata,
    greedy_portfolio,
    register_model,
)
from autometa.meta._base import BasePrediction, best_of_top, first_evaluated
from autometa.meta._distance import learn_weights
from autometa.meta._fallback import (
    GUARD_MARGIN,
    FallbackRule,
    fit_fallback_rule,
    guard_margin,
    soft_fallback,
)
from autometa.meta._level2 import (
    MARGINS,
    bagged_margin,
    choose_margin,
    fit_blend,
    margin_curve,
    simplex_grid,
    weighted_mean,
)
from autometa.meta._persist_data import load_metadata
from autometa.meta.persist import (
    cached_metadata,
    kb_checksum,
    load_or_fit,
    load_or_fit_learner,
    load_stack,
    params_tag,
    save_stack,
)
from autometa.meta.stack import CAUTIONS, DIVERSIFY_CHOICES
from autometa.spaces import get_space
from autometa.store.snapshot import Snapshot

N_GROUPS, PER_GROUP, N_DESIGN = 10, 3, 9
EVAL_COLUMNS = ["task_id", "config_id", "family", "fold", "metric"]


def _synthetic_kb(seed: int = 0) -> Snapshot:
    """30 classification tasks in 10 groups + 1 constant task; lightgbm default + 9 configs.

    AUC = 0.8 + 0.05 * size * (log n_estimators - 2) - 0.1 * [min_child_samples > 50]
    where size = +1 for large tasks and -1 for small ones, plus a per-group offset and
    small fold noise; log_loss moves the other way.
    """
    rng = np.random.default_rng(seed)
    space = get_space("lightgbm")
    params = [space.default("binary"), *space.design("binary", N_DESIGN, seed=0)]
    configs = pd.DataFrame(
        {
            "family": "lightgbm",
            "params": params,
            "space_version": space.version,
            "config_hash": [space.config_hash(p) for p in params],
        },
        index=pd.Index(np.arange(1, len(params) + 1), name="config_id"),
    )
    tasks, mf, evals = [], [], []
    for t in range(N_GROUPS * PER_GROUP + 1):
        group = t // PER_GROUP
        large = group % 2 == 0
        n_rows = int(rng.integers(3000, 20000) if large else rng.integers(80, 400))
        tasks.append(
            {
                "task_id": t + 1,
                "name": f"synthetic/{t}",
                "source": "synthetic",
                "source_id": str(t),
                "fingerprint": f"fp{t}",
                "group_key": f"g{group}",
                "task_type": "binary" if t % 3 else "multiclass",
                "target": "y",
                "n_rows": n_rows,
                "n_features": 5,
                "provenance": {},
            }
        )
        mf.append(
            {
                "NumberOfInstances": float(n_rows),
                "NumberOfFeatures": 5.0 + group,
                "NumberOfClasses": 2.0 if t % 3 else 3.0,
                "kNN1NAUC": 0.7 + 0.02 * group + rng.normal(0, 0.01),
                "Undefined": np.nan,
            }
        )
        offset = rng.normal(0, 0.02)
        for c, p in zip(configs.index, params, strict=True):
            size = 1.0 if large else -1.0
            auc = 0.8 + offset + 0.05 * size * (np.log10(p["n_estimators"]) - 2.0)
            auc -= 0.1 * (p["min_child_samples"] > 50)
            for fold in range(3):
                value = auc + rng.normal(0, 0.002)
                if t == N_GROUPS * PER_GROUP:  # a task where every configuration ties
                    value = 0.75
                for metric, v in (("roc_auc", value), ("log_loss", 1.0 - value)):
                    evals.append((t + 1, int(c), "lightgbm", fold, metric, v, 0.1, "ok", "test"))
    evaluations = pd.DataFrame(
        evals,
        columns=[*EVAL_COLUMNS[:5], "value", "fit_seconds", "status", "source"],
    )
    evaluations = evaluations[~((evaluations["task_id"] == 2) & (evaluations["config_id"] == 3))]
    return Snapshot(
        manifest={"files": {"evaluations": {"sha256": f"synthetic{seed}"}}},
        tasks=pd.DataFrame(tasks).set_index("task_id"),
        metafeatures=pd.DataFrame(mf, index=pd.Index(np.arange(1, len(mf) + 1), name="task_id")),
        configurations=configs,
        evaluations=evaluations.reset_index(drop=True),
    )


@pytest.fixture(scope="module")
def kb() -> Snapshot:
    return _synthetic_kb()


@pytest.fixture(scope="module")
def data(kb: Snapshot) -> Any:
    return build_metadata(kb, "lightgbm", "classification")


@pytest.fixture(scope="module")
def stack(data: Any) -> StackedMetaLearner:
    return StackedMetaLearner(n_splits=4).fit(data)


def _mf(data: Any, task_id: int) -> dict[str, float]:
    return data.metafeatures.loc[task_id].to_dict()


# ---------------------------------------------------------------------- meta-data
def test_build_metadata_normalises_each_task(kb: Snapshot, data: Any) -> None:
    assert len(data.task_ids) == N_GROUPS * PER_GROUP  # the all-tie task is dropped
    assert data.normalised.shape == (30, N_DESIGN + 1)
    assert np.nanmax(data.normalised, axis=1) == pytest.approx(1.0)
    assert np.nanmin(data.normalised, axis=1) == pytest.approx(0.0)
    ev = kb.evaluations_frame(metric="roc_auc")
    raw = ev[ev["task_id"] == 4].groupby("config_id")["value"].mean()
    row = data.rows([4])[0]
    np.testing.assert_allclose(data.scores[row], raw.loc[data.config_ids].to_numpy())
    expected = (raw - raw.min()) / (raw.max() - raw.min())
    np.testing.assert_allclose(data.normalised[row], expected.loc[data.config_ids].to_numpy())
    missing = data.config_ids.tolist().index(3)
    assert np.isnan(data.normalised[data.rows([2])[0], missing])
    assert data.default_config_id == 1  # the library default, found by its hash
    assert data.encodings.shape == (N_DESIGN + 1, len(data.encoding_names))


def test_smaller_is_better_metric_is_flipped(kb: Snapshot, data: Any) -> None:
    loss = build_metadata(kb, "lightgbm", "classification", "log_loss")
    assert loss.direction == -1
    np.testing.assert_allclose(loss.normalised, data.normalised, atol=1e-9)


def test_build_metadata_rejects_bad_requests(kb: Snapshot) -> None:
    with pytest.raises(MetaModelError, match="not recorded for regression"):
        build_metadata(kb, "lightgbm", "regression", "roc_auc")
    with pytest.raises(MetaModelError, match="no rmse evaluations"):
        build_metadata(kb, "lightgbm", "regression")
    with pytest.raises(MetaModelError, match="unknown task kind"):
        build_metadata(kb, "lightgbm", "ranking")


def test_transform_is_reusable_for_a_new_task(data: Any) -> None:
    frame = data.metafeatures
    transform = MetaFeatureTransform.fit(frame)
    assert "Undefined" not in transform.columns  # never defined: dropped
    assert transform.log[transform.columns.index("NumberOfInstances")]  # a count: logged
    one = transform.transform(_mf(data, 7))
    np.testing.assert_allclose(one[0], transform.transform(frame)[data.rows([7])[0]])
    partial = transform.transform({"NumberOfInstances": 500, "kNN1NAUC": None, "Extra": 1})
    assert np.isfinite(partial).all()  # missing qualities are imputed, unknown ones ignored
    assert np.abs(transform.transform(frame)).max() <= 5.0


def test_transform_fit_does_not_warn_on_empty_or_constant_columns(data: Any) -> None:
    import warnings

    frame = data.metafeatures.assign(AllMissing=np.nan, Constant=3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Mean of empty slice" and friends would raise
        transform = MetaFeatureTransform.fit(frame, list(frame.columns), min_coverage=0.0)
    assert "AllMissing" not in transform.columns and "Constant" not in transform.columns
    assert np.isfinite(transform.transform(frame)).all()


# ---------------------------------------------------------------------- base models
BASE_MODELS = [
    NearestTasks(k=5),
    Surrogate(n_estimators=100, min_child_samples=5),
    Portfolio(),
    PortfolioClassifier(n_members=4, min_child_samples=3),
    LatentFactors(n_components=3, min_child_samples=3),
]


@pytest.mark.parametrize("model", BASE_MODELS, ids=lambda m: m.name)
def test_base_model_fits_and_ranks(data: Any, model: MetaModel) -> None:
    held_out = data.task_ids[data.groups() == "g0"]
    fitted = model.clone().fit(data, data.task_ids[data.groups() != "g0"])
    assert not set(fitted.train_task_ids_) & set(held_out)
    frame = fitted.predict(_mf(data, int(held_out[0])))
    assert list(frame["config_id"]) == list(data.config_ids)
    scored = frame["score"].notna()
    assert scored.sum() >= 4
    pred = fitted.predict_batch(data.metafeatures.loc[held_out]).score
    Y = data.normalised[data.rows(held_out)]
    order = np.argsort(-np.where(np.isnan(pred), -np.inf, pred), axis=1)
    top1 = Y[np.arange(len(Y)), order[:, 0]]
    top2 = np.maximum(top1, Y[np.arange(len(Y)), order[:, 1]])
    if isinstance(model, Portfolio):  # static: its first two members cover both task sizes
        assert top2.mean() > 0.85
    else:  # planted structure: the top pick is far better than an average configuration
        assert top1.mean() > np.nanmean(Y) + 0.1
        assert top1.mean() > 0.75


def test_nearest_tasks_finds_siblings_and_weights_them(data: Any) -> None:
    model = NearestTasks(k=3, metric="l1").fit(data)
    neighbours = model.neighbours(_mf(data, 4), n=3)
    assert neighbours["task_id"].iloc[0] == 4 and neighbours["distance"].iloc[0] == 0.0
    pred = model.predict(_mf(data, 4))
    assert {"std", "distance"} <= set(pred.columns)
    assert pred["distance"].iloc[0] == 0.0


def test_learned_weights_follow_the_feature_that_orders_the_configurations() -> None:
    rng = np.random.default_rng(0)
    n, n_cfg = 60, 12
    informative, noise = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    # configurations ranked one way where the informative feature is high, the other way low
    Y = np.outer(np.tanh(informative), np.linspace(-1, 1, n_cfg)) + rng.normal(0, 0.1, (n, n_cfg))
    X = np.column_stack([informative, noise])
    w = learn_weights(X, Y, np.arange(n).astype(str))
    assert w[0] > 5 * w[1] and w.mean() == pytest.approx(1.0)
    assert learn_weights(X[:2], Y[:2], np.array(["a", "b"])).tolist() == [1.0, 1.0]  # too few


def test_nearest_tasks_weights_auto_and_persistence(data: Any, tmp_path: Path) -> None:
    with pytest.raises(MetaModelError, match="unknown weights"):
        NearestTasks(weights="cosine").fit(data)
    learned = NearestTasks(weights="learned").fit(data)
    assert learned.weights_ == "learned" and not np.allclose(learned.scale_, 1.0)
    auto = NearestTasks(weights="auto").fit(data)
    assert auto.weights_ in ("uniform", "learned")
    again = MetaModel.from_state(learned.get_state())
    mf = data.metafeatures.iloc[:5]
    np.testing.assert_array_equal(again.predict_batch(mf).score, learned.predict_batch(mf).score)
    assert learned.neighbours(_mf(data, 4), 1)["task_id"].iloc[0] == 4  # itself, at distance 0


def test_surrogate_scores_never_evaluated_encodings(data: Any) -> None:
    space = get_space("lightgbm")
    new = space.design("binary", N_DESIGN + 4, seed=0)[N_DESIGN:]
    enc = np.vstack([space.encode(p, "binary") for p in new])
    surrogate = Surrogate(n_estimators=50, min_child_samples=5).fit(data)
    frame = surrogate.predict(_mf(data, 4), enc)
    assert (frame["config_id"] == -1).all() and frame["score"].notna().all()
    knn = NearestTasks().fit(data)
    assert knn.predict(_mf(data, 4), enc)["score"].isna().all()
    known = knn.predict(_mf(data, 4), data.encodings[:2])  # known encodings map to their ids
    assert list(known["config_id"]) == list(data.config_ids[:2])
    with pytest.raises(MetaModelError, match="unknown configuration id"):
        knn.predict(_mf(data, 4), [999])


def test_latent_factors_find_the_planted_factor_and_persist(
    kb: Snapshot, data: Any, tmp_path: Path
) -> None:
    train = data.task_ids[data.groups() != "g0"]
    model = LatentFactors(n_components=3, min_child_samples=3).fit(data, train)
    params = kb.configurations_frame("lightgbm")["params"]
    trees = np.log([params[c]["n_estimators"] for c in data.config_ids])
    # planted: large tasks gain with log(n_estimators), small ones lose, so the first
    # configuration factor follows the number of trees and the loadings split by size
    assert abs(np.corrcoef(model.components_[0], trees)[0, 1]) > 0.8
    large = data.metafeatures.loc[train, "NumberOfInstances"] > 2000
    X = model.transform_.transform(data.metafeatures.loc[train])
    first = model.loadings(X)[:, 0]
    assert np.sign(first[large].mean()) != np.sign(first[~large].mean())
    enc = np.vstack([data.encodings[:2], data.encodings[0] + 0.123])
    pred = model.predict(_mf(data, int(train[0])), enc)
    assert pred["config_id"].tolist()[-1] == -1 and np.isnan(pred["score"].iloc[-1])
    assert pred["score"].iloc[:2].notna().all()
    stack = StackedMetaLearner(n_splits=3, base_models=[NearestTasks(k=5), model.clone()])
    stack.fit(data, train)
    loaded = load_stack(save_stack(stack, tmp_path / "lowrank"))
    mf = data.metafeatures.iloc[:5]
    np.testing.assert_array_equal(
        stack.predict_batch(mf)["score"], loaded.predict_batch(mf)["score"]
    )


def test_greedy_portfolio_objective_decreases() -> None:
    Y = np.array([[1.0, 0.0, 0.6], [0.0, 1.0, 0.6], [0.2, 0.1, 1.0], [1.0, 0.5, np.nan]])
    members, objective = greedy_portfolio(Y)
    # configs 0 and 2 tie at mean regret .45 (NaN counts as 0); 2 has the higher mean
    # over its evaluated tasks. Then 0 covers tasks 0 and 3 (regret .1), then 1 the rest.
    assert members.tolist() == [2, 0, 1]
    np.testing.assert_allclose(objective, [0.45, 0.1, 0.0])
    assert (np.diff(objective) <= 0).all()


def test_portfolio_objective_is_monotone_on_data(data: Any) -> None:
    model = Portfolio().fit(data)
    assert (np.diff(model.objective_) <= 1e-12).all()
    assert model.objective_[-1] == pytest.approx(0.0)
    assert sorted(model.member_ids_) == sorted(data.config_ids)


# ---------------------------------------------------------------------- the stack
@register_model
class SpyModel(MetaModel):
    """Records the groups each fit saw and the tasks each prediction was for."""

    name = "spy"
    log: ClassVar[list[tuple[frozenset[str], list[int]]]] = []

    def __init__(self) -> None:
        pass

    def _fit(self, data: Any, rows: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        self.seen_ = frozenset(data.groups(self.train_task_ids_))
        self.group_of_ = dict(zip(data.task_ids, data.groups(), strict=True))

    def predict_batch(self, metafeatures: Any, candidates: Any = None) -> BasePrediction:
        if isinstance(metafeatures, pd.DataFrame):
            SpyModel.log.append((self.seen_, [int(i) for i in metafeatures.index]))
        return super().predict_batch(metafeatures, candidates)

    def _predict(self, X: np.ndarray, idx: np.ndarray, enc: np.ndarray) -> BasePrediction:
        return BasePrediction(np.full((len(X), len(idx)), 0.5))


def test_stack_out_of_fold_predictions_never_see_the_group(data: Any) -> None:
    SpyModel.log.clear()
    stack = StackedMetaLearner(base_models=[NearestTasks(k=3), SpyModel()], n_splits=5)
    stack.fit(data)
    groups = dict(zip(data.task_ids, data.groups(), strict=True))
    assert len(SpyModel.log) == 5  # one out-of-fold prediction per fold
    predicted = [t for _, tasks in SpyModel.log for t in tasks]
    assert sorted(predicted) == sorted(data.task_ids)  # every task predicted exactly once
    for seen, tasks in SpyModel.log:
        assert not {groups[t] for t in tasks} & seen
    for train, test in stack.folds_:
        assert not set(data.groups(train)) & set(data.groups(test))


class NeedsAbsentPackage(SpyModel):
    """A base model whose optional package is missing here."""

    name = "absent"

    @classmethod
    def unavailable(cls) -> str | None:
        return "it needs a package that is not installed (pip install 'autometa[absent]')"


def test_stack_leaves_out_an_unavailable_model_saying_so_once(data: Any) -> None:
    import warnings

    from autometa.exceptions import MissingDependencyWarning
    from autometa.meta import _stack_features

    _stack_features._LEFT_OUT.discard("absent")
    models = [NearestTasks(k=3), NeedsAbsentPackage()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stack = StackedMetaLearner(base_models=models, n_splits=3).fit(data)
        StackedMetaLearner(base_models=models, n_splits=3).fit(data)
    said = [w for w in caught if issubclass(w.category, MissingDependencyWarning)]
    assert len(said) == 1 and "autometa[absent]" in str(said[0].message)
    assert [m.name for m in stack.base_models_] == ["knn"]
    assert len(stack.rank(_mf(data, 4))) == len(data.config_ids)


def test_stack_ranks_and_diagnoses(data: Any, stack: StackedMetaLearner) -> None:
    ranking = stack.rank(_mf(data, 4))
    assert list(ranking["rank"]) == list(range(1, len(data.config_ids) + 1))
    assert {"config_id", "score", "uncertainty", "knn", "surrogate", "selector"} <= set(ranking)
    assert stack.level2_kind_ == "blend"
    Y = data.normalised[data.rows([4])[0]]
    best = Y[data.config_ids.tolist().index(int(ranking["config_id"].iloc[0]))]
    assert best > 0.8
    diag = stack.diagnose(_mf(data, 4))
    assert diag.top_config_id == ranking["config_id"].iloc[0]
    assert diag.novelty.distance == 0.0 and not diag.fallback
    far = {k: v * 1e4 for k, v in _mf(data, 4).items()}
    far_diag = stack.diagnose(far)
    assert far_diag.novelty.percentile == 1.0 and far_diag.novelty.ratio > 3 and far_diag.fallback


def test_fallback_order_and_guarded_ranking(data: Any, stack: StackedMetaLearner) -> None:
    from autometa.benchmark.baselines import StackRanker

    portfolio = next(m for m in stack.base_models_ if isinstance(m, Portfolio))
    order = stack.fallback_order()
    assert order[0] == portfolio.member_ids_[0]
    assert data.default_config_id in order[:2] and len(order) == len(set(order))
    frame = pd.DataFrame([_mf(data, 4), {k: v * 1e4 for k, v in _mf(data, 4).items()}])
    assert stack.fallback_mask(frame).tolist() == [False, True]
    ranker = StackRanker(n_splits=4)
    ranker.model_ = stack
    scores = ranker.scores(frame)
    assert np.array_equal(scores["stack_guarded"][0], scores["stack"][0])
    # the far task: ranked with the guard's margin, the fallback pair right after its top pick
    far = frame.iloc[[1]]
    margin = guard_margin(stack.default_margin_)
    assert margin >= GUARD_MARGIN
    plain = [
        int(data.config_ids[i])
        for i in np.argsort(stack.predict_batch(far, default_margin=margin)["order"][0])
    ]
    expected = soft_fallback(plain, stack.fallback_order(far))
    served = [int(data.config_ids[i]) for i in np.argsort(-scores["stack_guarded"][1])]
    assert served == expected and served[0] == plain[0]
    assert set(stack.fallback_order(far)[:2]) <= set(served[:3])


def test_soft_fallback_puts_the_pair_after_the_top_pick() -> None:
    assert soft_fallback([5, 3, 1, 7, 9], [1, 7, 2]) == [5, 1, 7, 3, 9]
    assert soft_fallback([1, 3, 5], [1, 7, 3]) == [1, 3, 5]  # top pick safe; 7 not in order
    assert soft_fallback([5, 3, 1, 7], [2, 1, 3]) == [5, 1, 3, 7]  # 2 absent: the next ones
    assert soft_fallback([4, 2], [9, 8]) == [4, 2]
    assert guard_margin(0.0) == GUARD_MARGIN and guard_margin(0.0, 0.5) == 0.5


def test_fallback_rule_is_learned_from_the_capacity_landmark() -> None:
    from autometa.store.knowledge import knowledge_base

    data = build_metadata(knowledge_base(user=False), "lightgbm", "regression")
    stack_first = 34  # any non-default configuration works; this is the regression single best
    rule = fit_fallback_rule(data, data.task_ids, stack_first, data.default_config_id)
    assert rule is not None and rule.feature == "autometa.GBMGainR2"
    assert rule.threshold is not None  # the landmark splits the stored tasks
    gain = data.metafeatures["autometa.GBMGainR2"].to_numpy()
    cols = [
        int(np.flatnonzero(data.config_ids == c)[0]) for c in (stack_first, data.default_config_id)
    ]
    both = np.isfinite(data.normalised[:, cols]).all(axis=1)  # size anchors: 32 configurations
    data = dataclasses.replace(data, normalised=data.normalised[both])
    gain = gain[both]
    default_better = data.normalised[:, cols[1]] > data.normalised[:, cols[0]]
    high = gain > rule.threshold
    # where more capacity paid on the landmarker, the library default (31 leaves) is far more
    # often the better of the two (shipped snapshot: 47 % of 36 tasks against 1 % of 106)
    assert default_better[high].mean() > 0.3 and default_better[~high].mean() < 0.05
    # each side serves the majority of its training tasks
    assert rule.above == (default_better[high].mean() > 0.5) and not rule.below
    hits = rule.default_first(data.metafeatures[both]) == default_better
    assert hits.mean() >= max(default_better.mean(), 1 - default_better.mean())
    assert rule.default_first({"autometa.GBMGainR2": None}).tolist() == [rule.missing]
    assert rule.default_first(pd.Series({"autometa.GBMGainR2": 1.0})).tolist() == [rule.above]
    assert len(gain) == both.sum() > 100


def test_fallback_rule_reorders_and_persists(
    data: Any, stack: StackedMetaLearner, tmp_path: Path
) -> None:
    assert stack.fallback_rule_ is None  # the synthetic store has no capacity landmark
    plain = stack.fallback_order()
    rule = FallbackRule("autometa.GBMGainAUC", 0.0, below=False, above=True, missing=False)
    try:
        stack.fallback_rule_ = rule
        mf = _mf(data, 4)
        assert stack.fallback_order({**mf, "autometa.GBMGainAUC": -0.1}) == plain
        order = stack.fallback_order({**mf, "autometa.GBMGainAUC": 0.1})
        assert order[0] == data.default_config_id and sorted(order) == sorted(plain)
        loaded = load_stack(save_stack(stack, tmp_path / "ruled"))
        assert loaded.fallback_rule_ == rule
    finally:
        stack.fallback_rule_ = None


def test_default_margin_prefers_the_default(data: Any) -> None:
    stack = StackedMetaLearner(n_splits=3, default_margin=1.0).fit(data)
    assert stack.rank(_mf(data, 4))["config_id"].iloc[0] == data.default_config_id


def test_saturation_gate_serves_the_default_first_on_saturated_tasks(
    data: Any, stack: StackedMetaLearner, tmp_path: Path
) -> None:
    from autometa.meta.stack import SATURATED_AUC, SATURATION_FEATURE

    plain = StackedMetaLearner(n_splits=4, saturation=None).fit(data)
    for task in data.task_ids[:6]:
        mf = _mf(data, int(task))
        ungated = plain.rank(mf)["config_id"].tolist()
        assert stack.rank({**mf, SATURATION_FEATURE: SATURATED_AUC - 0.01})["config_id"].tolist() \
            == ungated  # fmt: skip
        gated = stack.rank({**mf, SATURATION_FEATURE: SATURATED_AUC})["config_id"].tolist()
        assert gated == [data.default_config_id, *[c for c in ungated if c != gated[0]]]
        missing = {k: v for k, v in mf.items() if k != SATURATION_FEATURE}
        assert stack.rank(missing)["config_id"].tolist() == ungated  # no landmarker: no gate
    frame = data.metafeatures.loc[data.task_ids[:4]].assign(
        **{SATURATION_FEATURE: [0.5, 0.99, 1.0, 0.2]}
    )
    assert stack.saturated(frame).tolist() == [False, True, True, False]
    assert plain.saturated(frame).tolist() == [False] * 4
    assert stack.get_params()["saturation"] == SATURATED_AUC  # part of the cache key
    loaded = load_stack(save_stack(stack, tmp_path / "gate"))
    assert loaded.saturated(frame).tolist() == [False, True, True, False]


def test_bagged_margin_averages_the_resampled_picks(data: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    Y = rng.random((60, 10))
    pred = Y + rng.normal(0, 0.4, Y.shape)  # noisy scores: the pick moves between resamples
    picks = [
        choose_margin(margin_curve(pred[r], Y[r], 0), 0.05, 0.0)
        for r in np.random.default_rng(1).integers(0, 60, size=(30, 60))
    ]
    assert len(set(picks)) > 1
    bagged = bagged_margin(pred, Y, 0, 0.05, 0.0, seed=2)
    assert min(MARGINS) <= bagged <= max(MARGINS) and bagged not in MARGINS
    assert bagged == bagged_margin(pred, Y, 0, 0.05, 0.0, seed=2)
    stack = StackedMetaLearner(n_splits=3, default_margin="bagged").fit(data)
    assert 0.0 <= stack.default_margin_ <= 1.0
    assert load_stack(save_stack(stack, tmp_path / "b")).default_margin_ == stack.default_margin_
    with pytest.raises(MetaModelError, match="default_margin"):
        StackedMetaLearner(n_splits=3, default_margin="large").fit(data)


def test_rerank_from_level2_features_matches_a_fresh_ranking(
    data: Any, stack: StackedMetaLearner
) -> None:
    mf = _mf(data, 4)
    feats = stack.level2_features(mf)
    assert feats.shape == (1, len(data.config_ids), len(stack.feature_names_))
    for margin in (None, 0.0, 1.0):
        fresh = stack.rank(mf, default_margin=margin)
        reused = stack.rank(mf, default_margin=margin, features=feats)
        pd.testing.assert_frame_equal(fresh, reused)
    top = stack.rank(mf, default_margin=1.0, features=feats)["config_id"].iloc[0]
    assert top == data.default_config_id


def test_caution_ranks_by_a_lower_confidence_bound(data: Any, tmp_path: Path) -> None:
    plain = StackedMetaLearner(n_splits=3, default_margin=0.0).fit(data)
    careful = StackedMetaLearner(n_splits=3, default_margin=0.0, caution=5.0).fit(data)
    mf = data.metafeatures
    a, b = plain.predict_batch(mf), careful.predict_batch(mf)
    np.testing.assert_allclose(a["priority"], b["priority"])  # the same models and level 2
    unc = np.nan_to_num(a["uncertainty"], nan=0.0)
    lcb = np.argmax(a["priority"] - 5.0 * unc, axis=1)
    assert (np.argmin(b["order"], axis=1) == lcb).all()  # the top pick: the lower bound's
    assert (np.argmin(a["order"], axis=1) == np.argmax(a["priority"], axis=1)).all()
    assert (np.argmin(a["order"], axis=1) != lcb).any()  # and it is a different one here
    for t in range(len(mf)):  # then the ranking without caution, in its order
        rest = [c for c in np.argsort(a["order"][t]) if c != lcb[t]]
        assert list(np.argsort(b["order"][t]))[1:] == rest
    auto = StackedMetaLearner(n_splits=3, caution="auto").fit(data)
    assert auto.caution_ in CAUTIONS
    assert auto.caution_regret_[auto.caution_] == min(auto.caution_regret_.values())
    assert load_stack(save_stack(auto, tmp_path / "m")).caution_ == auto.caution_
    with pytest.raises(MetaModelError, match="caution"):
        StackedMetaLearner(n_splits=3, caution="high").fit(data)


def test_blend_weights_follow_the_informative_model() -> None:
    grid = simplex_grid(3, 0.5)
    assert len(grid) == 6 and np.allclose(grid.sum(axis=1), 1.0)
    rng = np.random.default_rng(0)
    Y = rng.random((40, 12))
    Y[rng.random(Y.shape) < 0.1] = np.nan  # unevaluated candidates
    good = Y + rng.normal(0, 0.05, Y.shape)
    scores = np.stack([rng.random(Y.shape), good, rng.random(Y.shape)], axis=2)
    w = fit_blend(scores, Y)
    assert w[1] >= 0.8 and np.isclose(w.sum(), 1.0)
    same = np.stack([good, good], axis=2)  # a tie everywhere: the equal weights
    np.testing.assert_allclose(fit_blend(same, Y), [0.5, 0.5])
    # a missing score is left out of the weighted mean, not read as 0
    values = np.array([[0.2, np.nan], [np.nan, np.nan]])
    np.testing.assert_allclose(weighted_mean(values, np.array([0.5, 0.5])), [0.2, np.nan])
    for rule in ("one_se", "bagged"):  # a clear winner stays the winner
        assert fit_blend(scores, Y, rule=rule)[1] >= 0.8
    bagged = fit_blend(scores, Y, rule="bagged", seed=3)
    np.testing.assert_array_equal(bagged, fit_blend(scores, Y, rule="bagged", seed=3))
    assert np.isclose(bagged.sum(), 1.0)


def test_one_se_blend_is_steadier_where_models_are_equally_good() -> None:
    """Two equally informative models: the lowest regret lands on a lopsided weighting by
    chance; within one standard error of it, the equal weights are chosen."""
    lopsided = steady = 0
    for seed in range(5):
        rng = np.random.default_rng(seed)
        Y = rng.random((60, 20))
        scores = np.stack([Y + rng.normal(0, 0.3, Y.shape) for _ in range(2)], axis=2)
        lopsided += not np.allclose(fit_blend(scores, Y), 0.5)
        steady += np.allclose(fit_blend(scores, Y, rule="one_se"), 0.5)
    assert lopsided >= 3 and steady >= 4
    with pytest.raises(MetaModelError, match="blend rule"):
        fit_blend(scores, Y, rule="median")


def test_blend_stack_fits_and_persists(data: Any, tmp_path: Path) -> None:
    stack = StackedMetaLearner(n_splits=3, level2="blend").fit(data)
    assert stack.level2_kind_ == "blend"
    w = stack.level2_.weights
    assert w is not None and len(w) == 3 and np.isclose(w.sum(), 1.0)  # knn, surrogate, selector
    loaded = load_stack(save_stack(stack, tmp_path / "blend"))
    mf = data.metafeatures.iloc[:5]
    np.testing.assert_array_equal(
        stack.predict_batch(mf)["score"], loaded.predict_batch(mf)["score"]
    )
    auto = StackedMetaLearner(n_splits=3, level2="auto").fit(data)
    assert set(auto.level2_regret_) == {"mean", "blend", "linear", "lgbm"}


def test_best_of_top_skips_unevaluated_candidates() -> None:
    Y = np.array([[0.2, np.nan, 1.0, 0.5], [1.0, 0.0, 0.3, np.nan]])
    positions = np.array([[0, 1, 3, 2], [3, 0, 1, 2]])
    assert best_of_top(positions, Y, k=1) == pytest.approx(np.mean([0.8, 1.0]))
    assert best_of_top(positions, Y, k=2) == pytest.approx(np.mean([0.5, 0.7]))
    assert best_of_top(positions, Y, k=3) == pytest.approx(0.0)


def test_first_evaluated_ranks_nan_scores_last_but_keeps_them() -> None:
    Y = np.array([[0.2, np.nan, 1.0, 0.5, 0.0]])
    key = np.array([[np.nan, 9.0, 1.0, 1.0, 3.0]])  # ties in column order, NaN last
    np.testing.assert_array_equal(first_evaluated(key, Y, 4), [[4, 2, 3, 0]])
    assert first_evaluated(key, Y, 6)[0, 4] == 1  # fewer evaluated: then the rest


def test_diversify_auto_chooses_by_cross_fitted_best_of_top5(data: Any, tmp_path: Path) -> None:
    auto = StackedMetaLearner(n_splits=3, diversify="auto").fit(data)
    assert set(auto.diversify_regret_) == set(DIVERSIFY_CHOICES)
    best = min(auto.diversify_regret_.values())
    assert auto.diversify_ in DIVERSIFY_CHOICES
    assert auto.diversify_regret_[auto.diversify_] == best
    assert max(k for k, v in auto.diversify_regret_.items() if v == best) == auto.diversify_
    mf = data.metafeatures.iloc[:6]
    fixed = StackedMetaLearner(n_splits=3, diversify=auto.diversify_).fit(data)
    np.testing.assert_array_equal(auto.predict_batch(mf)["order"], fixed.predict_batch(mf)["order"])
    loaded = load_stack(save_stack(auto, tmp_path / "auto"))
    assert loaded.diversify_ == auto.diversify_ and loaded.get_params()["diversify"] == "auto"
    np.testing.assert_array_equal(
        auto.predict_batch(mf)["order"], loaded.predict_batch(mf)["order"]
    )
    plain = StackedMetaLearner(n_splits=3, diversify=1).fit(data).predict_batch(mf)
    by_priority = np.argsort(np.argsort(-plain["priority"], axis=1, kind="stable"), axis=1)
    np.testing.assert_array_equal(plain["order"], by_priority)  # 1 = priority order
    with pytest.raises(MetaModelError, match="diversify must be"):
        StackedMetaLearner(n_splits=3, diversify="some").fit(data)


# ---------------------------------------------------------------------- persistence
def test_persistence_round_trip_is_exact_and_pickle_free(
    data: Any, stack: StackedMetaLearner, tmp_path: Path
) -> None:
    folder = save_stack(stack, tmp_path / "model")
    loaded = load_stack(folder)
    mf = data.metafeatures.iloc[:7]
    a, b = stack.predict_batch(mf), loaded.predict_batch(mf)
    for key in ("score", "priority", "order", "uncertainty", "features"):
        np.testing.assert_array_equal(a[key], b[key])
    pd.testing.assert_frame_equal(stack.rank(_mf(data, 5)), loaded.rank(_mf(data, 5)))
    assert loaded.diagnose(_mf(data, 5)).novelty == stack.diagnose(_mf(data, 5)).novelty
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} == {".json", ".npz", ".txt"}
    for path in files:
        assert not path.read_bytes().startswith(b"\x80")  # pickle protocol 2+ magic
    with zipfile.ZipFile(folder / "arrays.npz") as npz:
        for name in npz.namelist():
            assert b"'descr': '|O'" not in npz.read(name)[:128]  # no object arrays
    json.loads((folder / "stack.json").read_text())
    booster = next((folder / "boosters").glob("*.txt"))
    booster.write_text(booster.read_text() + "\n")
    with pytest.raises(MetaModelError, match="modified"):
        load_stack(folder)


def _counting_reads(kb: Snapshot, reads: list[int]) -> Snapshot:
    """The same knowledge base, appending to ``reads`` whenever its evaluations load."""
    return Snapshot(
        kb.manifest,
        kb.tasks,
        kb.metafeatures,
        kb.configurations,
        lambda: reads.append(1) or kb.evaluations,
    )


def test_cached_learner_returns_its_metadata_without_reading_evaluations(
    kb: Snapshot, tmp_path: Path
) -> None:
    _, data = load_or_fit_learner(kb, cache_dir=tmp_path, n_splits=3)
    reads: list[int] = []
    lazy = _counting_reads(kb, reads)
    again, cached = load_or_fit_learner(lazy, cache_dir=tmp_path, n_splits=3)
    assert reads == []  # answered from the cache: the evaluations were never loaded
    assert not hasattr(again, "oof_features_")
    alone = cached_metadata(lazy, "lightgbm", "classification", cache_dir=tmp_path, n_splits=3)
    assert alone is not None and reads == [] and alone.tasks.equals(data.tasks)
    assert cached_metadata(lazy, "lightgbm", "classification", cache_dir=tmp_path) is None
    pd.testing.assert_frame_equal(cached.tasks, data.tasks)
    pd.testing.assert_frame_equal(cached.metafeatures, data.metafeatures)
    for name in ("config_ids", "encodings", "scores", "normalised"):
        np.testing.assert_array_equal(getattr(cached, name), getattr(data, name))
    assert (cached.encoding_names, cached.default_config_id, cached.direction) == (
        data.encoding_names,
        data.default_config_id,
        data.direction,
    )
    entry = next(p for p in tmp_path.glob("*/*") if p.is_dir())
    (entry / "metadata-tasks.parquet").write_bytes(b"garbage")  # damaged: rebuilt, not read
    _, rebuilt = load_or_fit_learner(lazy, cache_dir=tmp_path, n_splits=3)
    assert reads == [1]
    pd.testing.assert_frame_equal(rebuilt.tasks, data.tasks)
    assert load_metadata(entry).tasks.equals(data.tasks)  # and written back


def test_load_or_fit_learner_uses_the_metadata_it_is_given(
    kb: Snapshot, data: Any, tmp_path: Path
) -> None:
    reads: list[int] = []
    lazy = _counting_reads(kb, reads)
    stack, used = load_or_fit_learner(lazy, cache_dir=tmp_path, n_splits=3, data=data)
    assert used is data and reads == []  # fitted on it: the evaluations were never read
    assert hasattr(stack, "oof_features_")


def test_load_or_fit_caches_by_knowledge_base(
    kb: Snapshot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = load_or_fit(kb, n_splits=3)
    folders = list((tmp_path / "autometa" / "models").glob("*/*"))
    assert len(folders) == 1 and folders[0].name.startswith("lightgbm-classification-roc_auc")
    assert folders[0].parent.name == kb_checksum(kb)[:20]
    second = load_or_fit(kb, n_splits=3)
    assert not hasattr(second, "oof_features_")  # loaded, not refitted
    mf = kb.metafeatures.iloc[:3]
    np.testing.assert_array_equal(
        first.predict_batch(mf)["order"], second.predict_batch(mf)["order"]
    )
    assert kb_checksum(_synthetic_kb(seed=1)) != kb_checksum(kb)


def test_shipped_models_seed_the_cache_only_when_they_match(
    kb: Snapshot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from autometa.meta.shipped import MODELS_ENV, build

    tag = params_tag({})
    shipped = tmp_path / "shipped"
    manifest = build(kb, shipped, ["lightgbm"])  # no regression tasks: skipped
    assert list(manifest["models"]) == [f"lightgbm-classification-roc_auc-{tag}"]
    monkeypatch.setenv(MODELS_ENV, str(shipped))
    fits: list[str] = []
    seeded, _ = load_or_fit_learner(kb, cache_dir=tmp_path / "a", on_fit=fits.append)
    assert fits == [] and not hasattr(seeded, "oof_features_")  # unpacked, not fitted
    archive = shipped / f"lightgbm-classification-roc_auc-{tag}.zip"
    other = _synthetic_kb(seed=1)  # stale: built on another knowledge base
    load_or_fit_learner(other, cache_dir=tmp_path / "b", on_fit=fits.append)
    assert len(fits) == 1
    damaged = bytearray(archive.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    archive.write_bytes(bytes(damaged))  # checksum no longer matches the manifest
    load_or_fit_learner(kb, cache_dir=tmp_path / "c", on_fit=fits.append)
    assert len(fits) == 2


def test_the_shipped_models_match_the_shipped_snapshot() -> None:
    from autometa.meta.persist import FORMAT_VERSION
    from autometa.meta.shipped import shipped_models_dir
    from autometa.metrics import DEFAULT_METRICS
    from autometa.spaces import FAMILIES
    from autometa.store.knowledge import knowledge_base

    folder = shipped_models_dir()
    assert folder is not None, "metadata_store/models is missing: python scripts/build_models.py"
    manifest = json.loads((folder / "models.json").read_text())
    assert manifest["knowledge_base"] == kb_checksum(knowledge_base(user=False))
    assert manifest["format_version"] == FORMAT_VERSION
    tag = params_tag({})
    names = {f"{f}-{k}-{m}-{tag}" for f in FAMILIES for k, m in DEFAULT_METRICS.items()}
    assert set(manifest["models"]) == names  # every family and kind, current defaults


def test_kb_checksum_of_a_store_read_is_computed_once() -> None:
    def read() -> Snapshot:
        kb = _synthetic_kb(seed=2)
        kb.manifest = {"source": "sqlite:///user.db"}  # a store: hashed from its frames
        return kb

    kb = read()
    reads = []

    def evaluations() -> pd.DataFrame:
        reads.append(1)
        return read().evaluations

    kb._evaluations = evaluations
    first = kb_checksum(kb)
    assert kb_checksum(kb) == first and len(reads) == 1
    assert kb_checksum(read()) == first  # a new read of the same content


# ---------------------------------------------------------------------- benchmark
def test_loo_benchmark_holds_out_whole_groups(data: Any) -> None:
    folds = outer_folds(data, 4, 0)
    assert sorted(np.concatenate([test for _, test in folds])) == sorted(data.task_ids)
    for train, test in folds:
        assert not set(data.groups(train)) & set(data.groups(test))
    rankers = [
        DefaultRanker,
        SingleBest,
        lambda: NeighbourBest("flaml"),
        lambda: NeighbourBest("autosklearn"),
        lambda: ModelRanker(NearestTasks(k=5)),
    ]
    results = run_loo(data, rankers, n_splits=4)
    summary = summarise(results)
    assert list(summary.index) == ["default", "single_best", "flaml_1nn", "autosklearn_knn", "knn"]
    assert summary.at["default", "pct_worse_than_default"] == 0.0
    assert (results["regret_top5"] <= results["regret_top1"] + 1e-12).all()
    assert summary["regret_top1"].between(0, 1).all()
    # the planted size effect is learnable from meta-features, not from a global prior
    assert summary.at["knn", "regret_top1"] < 0.5 * summary.at["single_best", "regret_top1"]


def test_guard_effect_compares_the_picks_the_guard_changed() -> None:
    from autometa.benchmark.loo import _fact_lines, guard_effect

    rows = [  # task, method, top pick, regret, worse than the default
        (1, "stack", 5, 0.1, 0.0),
        (1, "stack_guarded", 5, 0.1, 0.0),  # unchanged: not counted
        (2, "stack", 6, 0.0, 0.0),
        (2, "stack_guarded", 7, 0.4, 1.0),
        (3, "stack", 8, 0.2, 1.0),
        (3, "stack_guarded", 9, 0.1, 0.0),
    ]
    cols = ["task_id", "method", "top1_config_id", "regret_top1", "worse_than_default"]
    effect = guard_effect(pd.DataFrame(rows, columns=cols))
    assert effect == {
        "changed_tasks": 2,
        "stack_regret": 0.1,
        "stack_pct_worse": 50.0,
        "served_regret": 0.25,
        "served_pct_worse": 50.0,
    }
    line = _fact_lines({f"guard_{k}": v for k, v in effect.items()})[0]
    assert "changed the top pick on 2 tasks" in line and "0.250" in line
    assert guard_effect(pd.DataFrame(rows[:1], columns=cols)) == {}


def test_candidate_model_gets_its_own_row_and_a_stack(data: Any) -> None:
    candidate = LatentFactors(n_components=3, min_child_samples=3)
    factories = default_rankers(extra_models=[candidate], n_splits=3)
    rankers = [f() for f in factories]
    names = [r.name for r in rankers]
    assert names[-3:] == ["lowrank", "stack", "stack+lowrank"]
    train = data.task_ids[data.groups() != "g0"]
    stack = rankers[-1].fit(data, train).model_
    assert [m.name for m in stack.base_models_][-1] == "lowrank"
    assert len(stack.base_models_) == len(rankers[-2].fit(data, train).model_.base_models_) + 1
    results = run_loo(data, [factories[-3], factories[-1]], n_splits=3)
    assert set(results["method"]) == {
        "lowrank",
        "stack+lowrank",
        "stack+lowrank_no_margin",
        "stack+lowrank_guarded",
    }


def test_loo_unscored_tasks_train_but_are_not_reported(kb: Snapshot, data: Any) -> None:
    rankers = [DefaultRanker, SingleBest]
    full = benchmark_loo(
        kb, task_kinds=["classification"], n_splits=4, rankers=rankers, time_full_fit=False
    )
    part = benchmark_loo(
        kb, task_kinds=["classification"], n_splits=4, rankers=rankers, unscored=r"^synthetic/1\d$"
    )
    everything, scored = full.results["classification"], part.results["classification"]
    names = data.tasks["name"]
    left_out = set(data.task_ids[names.str.fullmatch(r"synthetic/1\d").to_numpy()])
    assert len(left_out) == 10
    assert set(scored["task_id"]) == set(everything["task_id"]) - left_out
    # same folds and fits: the scored tasks' rows are unchanged, only the others are dropped
    kept = everything[~everything["task_id"].isin(left_out)].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        scored.drop(columns="fit_seconds"), kept.drop(columns="fit_seconds")
    )
    facts = part.facts["classification"]
    assert facts["tasks"] == full.facts["classification"]["tasks"] - 10
    assert facts["unscored_training_tasks"] == 10
    assert "not scored" in part.to_markdown()
    assert 0 <= facts["noise_floor_in_task_selection"] <= 1  # computed on the scored tasks


def test_noise_floor_chooses_on_the_other_folds(kb: Snapshot, data: Any) -> None:
    from autometa.benchmark.loo import in_task_reference

    floor = in_task_reference(kb, data)
    assert set(floor) == {
        "in_task_selection",
        "in_task_selection_top5",
        "default",
        "pct_worse_than_default",
        "folds",
    }
    assert floor["folds"] == kb.evaluations["fold"].nunique()
    # the planted effects dominate the fold noise: choosing in-task beats the default
    assert 0.0 <= floor["in_task_selection"] < floor["default"] <= 1.0
    assert 0.0 <= floor["in_task_selection_top5"] <= floor["in_task_selection"]
    assert 0.0 <= floor["pct_worse_than_default"] < 50.0


def test_paired_check_separates_fold_noise_from_real_deficits(kb: Snapshot, data: Any) -> None:
    from autometa.benchmark import paired_check

    ev = kb.evaluations_frame(family="lightgbm", metric="roc_auc")
    cube = ev.pivot_table(index=["task_id", "config_id"], columns="fold", values="value")
    default = data.default_config_id
    rows, expect = [], {"worse": 0, "beyond": 0, "better": 0, "tolerance": 0}
    for task in data.task_ids[:12]:
        per_task = cube.loc[task]
        diff = per_task.sub(per_task.loc[default], axis=1)  # configs x folds, vs the default
        pick = int(diff.mean(axis=1).idxmin())  # the worst configuration: a clear deficit
        d = diff.loc[pick].to_numpy()
        se = d.std(ddof=1) / np.sqrt(len(d))
        expect["worse"] += d.mean() < -1e-12
        expect["beyond"] += d.mean() < -2 * se
        expect["better"] += d.mean() > 2 * se
        expect["tolerance"] += d.mean() / abs(per_task.loc[default].mean()) < -0.001
        rows.append({"method": "stack", "task_id": task, "top1_config_id": pick})
    rows.append({"method": "other", "task_id": data.task_ids[0], "top1_config_id": default})
    check = paired_check(kb, data, pd.DataFrame(rows))
    assert check["tasks"] == 12
    assert check["pct_worse"] == pytest.approx(100 * expect["worse"] / 12)
    assert check["pct_worse_beyond_noise"] == pytest.approx(100 * expect["beyond"] / 12)
    assert check["pct_better_beyond_noise"] == pytest.approx(100 * expect["better"] / 12)
    assert check["pct_worse_beyond_tolerance"] == pytest.approx(100 * expect["tolerance"] / 12)
    assert expect["tolerance"] > 0  # the worst configuration is worse by more than 0.1 %
    assert check["pct_worse_beyond_noise"] <= check["pct_worse"]
    assert check["median_relative_deficit_of_worse"] < 0
    assert paired_check(kb, data, pd.DataFrame(rows), method="missing") == {}


def test_real_snapshot_subset_end_to_end() -> None:
    from autometa.store.knowledge import knowledge_base

    try:
        real = knowledge_base(user=False)
    except Exception:  # pragma: no cover - a checkout without the snapshot
        pytest.skip("no shipped snapshot")
    ev = real.evaluations_frame(family="lightgbm", metric="roc_auc")
    keep = np.sort(ev["task_id"].unique())[:40]
    if len(keep) < 20:
        pytest.skip("the shipped snapshot holds too few lightgbm evaluations")
    subset = Snapshot(
        manifest={},
        tasks=real.tasks.loc[keep],
        metafeatures=real.metafeatures.reindex(keep),
        configurations=real.configurations,
        evaluations=real.evaluations[real.evaluations["task_id"].isin(keep)],
    )
    data = build_metadata(subset, "lightgbm", "classification")
    stack = StackedMetaLearner(n_splits=3).fit(data, data.task_ids[5:])
    ranking = stack.rank(data.metafeatures.loc[data.task_ids[0]].to_dict())
    assert len(ranking) == len(data.config_ids) and ranking["score"].notna().all()
    assert 0.0 <= stack.default_margin_ <= 1.0


def test_rank_training_target_spreads_the_good_configurations() -> None:
    from autometa.meta.data import training_target

    Y = np.array([[1.0, 0.98, 0.97, 0.0], [0.5, np.nan, 1.0, 0.5]])
    R = training_target(Y, "rank")
    assert R[0].tolist() == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0])  # the near-ties pulled apart
    assert np.isnan(R[1, 1]) and R[1].tolist()[2] == 1.0 and R[1, 0] == R[1, 3] == 0.25
    assert training_target(Y, "minmax") is Y
    with pytest.raises(MetaModelError, match="training target"):
        training_target(Y, "zscore")


def test_stack_target_is_a_saved_parameter_and_part_of_the_cache_key(
    kb: Snapshot, data: Any, tmp_path: Path
) -> None:
    plain = StackedMetaLearner(n_splits=3, target="minmax").fit(data)
    loaded = load_stack(save_stack(plain, tmp_path / "m"))
    assert loaded.target == "minmax" and loaded.get_params() == plain.get_params()
    load_or_fit(kb, "lightgbm", "classification", cache_dir=tmp_path / "c", n_splits=3)
    load_or_fit(kb, "lightgbm", "classification", cache_dir=tmp_path / "c", n_splits=3,
                target="minmax")  # fmt: skip
    assert len(list((tmp_path / "c").glob("*/*"))) == 2
