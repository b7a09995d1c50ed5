"""Large tables: meta-features from a row sample with the whole table's counts
(:mod:`autometa.metafeatures.sampling`), and the size-dependent parameters carried beyond
the knowledge base's largest tables (:mod:`autometa.recommendation.size`)."""

from __future__ import annotations

import math
from importlib import import_module
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
import pytest

from autometa.metafeatures import compute_metafeatures, sampling
from autometa.metafeatures._base import PreparedData, clean
from autometa.metafeatures.sampling import (
    COUNT_QUALITIES,
    TableCounts,
    count_qualities,
    prepare,
)
from autometa.recommendation import Recommender, TaskSummary
from autometa.recommendation.size import (
    SIZE_PARAMS,
    has_size_series,
    scale_config,
    size_slopes,
    size_trend,
)
from autometa.spaces import get_space
from autometa.store.snapshot import Snapshot

LOCAL = ["simple", "statistical", "info_theory", "derived"]  # the groups a sample describes
SIZES = (1_000, 3_000, 10_000, 30_000, 100_000)
EVAL_COLUMNS = ["task_id", "config_id", "family", "fold", "metric", "value", "fit_seconds",
                "status", "source"]  # fmt: skip


def _mixed(rows: int, task: str = "binary", seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A real-looking table: ages, a log-normal income with missing cells, skewed hours, a
    categorical with missing cells and one with a level seen in a few rows only."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 91, rows).astype(float),
            "income": np.exp(rng.normal(10, 0.5, rows)),
            "hours": rng.gamma(4.0, 10.0, rows),
            "score": rng.normal(0, 1, rows),
            "ratio": rng.beta(2, 5, rows),
        }
    )
    X.loc[rng.random(rows) < 0.05, "income"] = np.nan
    X["city"] = pd.Categorical(rng.choice(["a", "b", "c", "d"], rows, p=[0.5, 0.3, 0.15, 0.05]))
    X.loc[rng.random(rows) < 0.02, "city"] = np.nan
    levels = [f"l{k}" for k in range(30)]
    weights = np.r_[np.full(29, 1.0), 0.002]
    X["code"] = pd.Categorical(rng.choice(levels, rows, p=weights / weights.sum()), levels)
    signal = X["score"].to_numpy() + (X["city"] == "a").to_numpy() + rng.normal(size=rows)
    if task == "regression":
        return X, pd.Series(signal, name="y")
    if task == "multiclass":
        return X, pd.Series(np.digitize(signal, [-1, 0.5, 1.5]).astype(str), name="y")
    return X, pd.Series(np.where(signal > 1.2, "yes", "no"), name="y")


# ------------------------------------------------------------------ sampled meta-features
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_count_qualities_follow_the_groups_definitions(task: str) -> None:
    X, y = _mixed(3_000, task)
    X["flag"] = pd.Categorical(np.where(np.arange(3_000) % 3 == 0, "on", "off"))
    data = PreparedData(X, y, task)
    groups = compute_metafeatures(X, y, task, groups=LOCAL)
    counted = count_qualities(TableCounts.of(data), task)
    assert set(counted) == set(COUNT_QUALITIES)
    for name in COUNT_QUALITIES:
        assert counted[name] == pytest.approx(groups[name], rel=1e-12, nan_ok=True), name
    # counted column by column on the table itself, without its matrices: the same counts
    whole, alone = (
        TableCounts.of(data),
        TableCounts.of_table(X, PreparedData(X.iloc[:, :0], y, task)),
    )
    assert whole.levels_seen.tolist() == alone.levels_seen.tolist()
    assert (whole.cells_missing, whole.rows_missing, whole.columns_missing) == (
        alone.cells_missing, alone.rows_missing, alone.columns_missing,
    )  # fmt: skip


def test_tables_up_to_the_sample_size_are_described_on_every_row() -> None:
    X, y = _mixed(3_000)
    data, counts = prepare(X, y, "binary")
    assert data.n_rows == 3_000 and counts == {}
    direct = PreparedData(X, y, "binary")
    for group in LOCAL:  # the values each group gives the whole table, as before sampling
        expected = import_module(f"autometa.metafeatures.{group}").compute(direct)
        got = compute_metafeatures(X, y, "binary", groups=group)
        assert got == {name: clean(expected.get(name)) for name in got}


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_a_large_table_keeps_its_exact_counts_and_close_values(
    task: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autometa.meta import MetaFeatureTransform
    from autometa.recommendation.recommender import as_frame
    from autometa.store.knowledge import knowledge_base

    X, y = _mixed(50_000, task)
    full = compute_metafeatures(X, y, task, groups=LOCAL)  # below the sample size: every row
    monkeypatch.setattr(sampling, "DESCRIBE_MAX_ROWS", 5_000)
    data, _ = prepare(X, y, task)
    assert 5_000 <= data.n_rows <= 5_000 + 2_000  # the sample, with the landmarking rows
    sampled = compute_metafeatures(X, y, task, groups=LOCAL)
    assert sampled["NumberOfInstances"] == 50_000
    for name in COUNT_QUALITIES:
        assert sampled[name] == full[name], name  # the whole table's, exactly
    assert sampled["MeanStdDevOfNumericAtts"] != full["MeanStdDevOfNumericAtts"]  # sampled
    # close in the meta-learner's terms: shifts in standard deviations of the stored tasks
    scale = MetaFeatureTransform.fit(knowledge_base(None, shipped=True).metafeatures)
    shift = np.abs(scale.transform(as_frame(sampled)) - scale.transform(as_frame(full)))
    assert np.nanmax(shift) < 0.3


def test_the_sample_holds_the_whole_tables_landmarking_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = _mixed(20_000, "multiclass")
    whole = PreparedData(X, y, "multiclass")
    monkeypatch.setattr(sampling, "DESCRIBE_MAX_ROWS", 4_000)
    data, _ = prepare(X, y, "multiclass")
    # the landmarkers, probes and PCA see the very rows and design matrix of the whole table
    np.testing.assert_array_equal(data.sample_design, whole.sample_design)
    np.testing.assert_array_equal(data.y_codes[data.sample_rows], whole.y_codes[whole.sample_rows])
    counts = np.bincount(data.y_codes, minlength=data.n_target_levels)
    expected = np.bincount(whole.y_codes) * data.n_rows / whole.n_rows
    np.testing.assert_allclose(counts, expected, atol=3)  # stratified by class


# ------------------------------------------------------------------ size trend
def _size_kb(slopes: dict[str, float], tables: int = 8, seed: int = 0) -> Snapshot:
    """``tables`` tables stored at five sizes (the own task at 3,000 rows and anchors
    ``@1k`` ... ``@100k`` in its group), 31 LightGBM design points and the default, 3
    folds each. The AUC peaks where each size parameter's log is the table's centre plus
    ``slope * log(rows / 3000)``."""
    rng = np.random.default_rng(seed)
    space = get_space("lightgbm")
    params = [space.default("binary"), *space.design("binary", 31, seed=0)]
    configs = pd.DataFrame(
        {
            "family": "lightgbm",
            "params": params,
            "space_version": space.version,
            "config_hash": [space.config_hash(p) for p in params],
        },
        index=pd.Index(np.arange(1, len(params) + 1), name="config_id"),
    )
    logs = {p: np.log([c[p] for c in params]) for p in SIZE_PARAMS["lightgbm"]}
    tasks, mf, evals = [], [], []
    for table in range(tables):
        centre = {p: rng.normal(np.median(v), 0.3) for p, v in logs.items()}
        for n_rows in SIZES:
            task_id = len(tasks) + 1
            name = f"synthetic/t{table}" + ("" if n_rows == 3_000 else f"@{n_rows // 1000}k")
            tasks.append({"task_id": task_id, "name": name, "source": "synthetic",
                          "source_id": name, "fingerprint": f"fp{task_id}",
                          "group_key": f"g{table}", "task_type": "binary", "target": "y",
                          "n_rows": n_rows, "n_features": 5, "provenance": {}})  # fmt: skip
            mf.append({"NumberOfInstances": float(n_rows), "NumberOfFeatures": 6.0 + table,
                       "NumberOfClasses": 2.0, "kNN1NAUC": 0.7 + 0.02 * table})  # fmt: skip
            shift = math.log(n_rows / 3_000)
            auc = 0.9 - 0.01 * sum(
                (v - centre[p] - slopes.get(p, 0.0) * shift) ** 2 for p, v in logs.items()
            )
            for config_id, value in zip(configs.index, auc, strict=True):
                for fold in range(3):
                    noisy = value + rng.normal(0, 0.002)
                    evals.append((task_id, int(config_id), "lightgbm", fold, "roc_auc", noisy,
                                  0.1, "ok", "test"))  # fmt: skip
    return Snapshot(
        manifest={"files": {"evaluations": {"sha256": f"size{seed}{sorted(slopes.items())}"}}},
        tasks=pd.DataFrame(tasks).set_index("task_id"),
        metafeatures=pd.DataFrame(mf, index=pd.Index(np.arange(1, len(mf) + 1), name="task_id")),
        configurations=configs,
        evaluations=pd.DataFrame(evals, columns=EVAL_COLUMNS),
    )


PLANTED = {"n_estimators": 0.5, "min_child_samples": 0.3}


@pytest.fixture(scope="module")
def planted_kb() -> Snapshot:
    return _size_kb(PLANTED)


def test_slopes_are_recovered_from_a_planted_trend(planted_kb: Snapshot) -> None:
    trend = size_trend(planted_kb)
    assert trend.tables == 8 and trend.n_reference == 100_000
    slopes = size_slopes(planted_kb)
    assert slopes == trend.slopes
    # both planted trends found, attenuated by averaging over the top configurations of a
    # 32-point design (it errs towards moving less); the others not moved (or barely)
    assert 0.15 < slopes["n_estimators"] < 0.6
    assert 0.1 < slopes["min_child_samples"] < 0.5
    for name in ("n_estimators", "min_child_samples"):
        assert abs(trend.estimates[name]) > 2 * trend.errors[name]
    assert abs(slopes["num_leaves"]) < 0.1 and abs(slopes["learning_rate"]) < 0.1


def test_no_trend_gives_zero_slopes() -> None:
    kb = _size_kb({}, seed=1)
    trend = size_trend(kb)
    assert trend.tables == 8
    assert trend.slopes == dict.fromkeys(SIZE_PARAMS["lightgbm"], 0.0)
    assert trend.factors(1_000_000) == {}
    only_own = kb.tasks[~kb.tasks["name"].str.contains("@")]  # one size per table
    assert has_size_series(kb.tasks) and not has_size_series(only_own)


def test_scale_config_clips_to_the_space_and_keeps_integers_integer() -> None:
    space = get_space("lightgbm")
    dists = space.distributions("binary")
    config = space.default("binary")
    slopes = {"n_estimators": 0.5, "min_child_samples": 1.0, "learning_rate": -0.25}
    scaled = scale_config(config, "lightgbm", 1_000_000, 100_000, slopes, dists)
    assert scaled["n_estimators"] == round(100 * 10**0.5) and isinstance(
        scaled["n_estimators"], int
    )
    assert scaled["min_child_samples"] == dists["min_child_samples"].high  # 200 clipped to 100
    assert scaled["learning_rate"] == pytest.approx(0.1 * 10**-0.25)
    assert scaled["num_leaves"] == config["num_leaves"]  # no slope: as stored
    huge = scale_config(config, "lightgbm", 10**12, 100_000, {"n_estimators": 2.0}, dists)
    assert huge["n_estimators"] == dists["n_estimators"].high
    tiny = scale_config(config, "lightgbm", 10**12, 100_000, {"learning_rate": -2.0}, dists)
    assert tiny["learning_rate"] == dists["learning_rate"].low
    assert scale_config(config, "lightgbm", 100_000, 100_000, slopes, dists) == config
    space.validate(scaled, "binary")  # still a configuration of the space


def test_recommender_scales_beyond_the_largest_table_and_says_so(
    planted_kb: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rec = Recommender(kb=planted_kb)
    mf = {"NumberOfInstances": 100_000.0, "NumberOfFeatures": 8.0, "NumberOfClasses": 2.0,
          "kNN1NAUC": 0.75}  # fmt: skip

    def answer(n_rows: int) -> object:
        return rec.recommend_summary(TaskSummary("fp", "binary", n_rows, 5, "y"), mf, k=3)

    within, beyond = answer(100_000), answer(1_000_000)
    stored = list(planted_kb.configurations["params"])
    assert within.notes == []  # as stored: no sample, no scaling
    assert all(r.config in stored for r in within.recommendations)
    trend = rec.size_trend("lightgbm")
    dists = get_space("lightgbm").distributions("binary")
    for inside, outside in zip(within.recommendations, beyond.recommendations, strict=True):
        expected = scale_config(inside.config, "lightgbm", 1_000_000, 100_000, trend.slopes, dists)
        assert outside.config == expected
        assert outside.params["n_estimators"] >= inside.params["n_estimators"]
        lightgbm.LGBMClassifier(**outside.params)  # the estimator's own arguments
        assert isinstance(outside.params["min_child_samples"], int)
    assert beyond.notes[0].startswith("meta-features computed on a sample of 100,000 of the")
    assert sum("sample of" in note for note in beyond.notes) == 1, beyond.notes
    factor = 10 ** trend.slopes["n_estimators"]
    assert beyond.notes[1] == (
        "1,000,000 rows is beyond the knowledge base's largest tables (100,000 rows); "
        "size-dependent parameters scaled by the trend learned across table sizes (within "
        f"the search space's bounds): n_estimators x{factor:.2g}, min_child_samples "
        f"x{10 ** trend.slopes['min_child_samples']:.2g}"
    )


def test_metafeatures_command_says_when_it_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from autometa.cli import cli

    X, y = _mixed(3_000)
    X.assign(y=y).to_csv(tmp_path / "t.csv", index=False)
    monkeypatch.setattr(sampling, "DESCRIBE_MAX_ROWS", 1_000)
    args = ["metafeatures", str(tmp_path / "t.csv"), "--target", "y", "--group", "simple"]
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert '"NumberOfInstances": 3000.0' in result.stdout
    assert "note: meta-features computed on a sample of 1,000 of the 3,000 rows" in result.stderr
