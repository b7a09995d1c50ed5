"""Large tables: meta-features from a row sample with the whole table's counts
(:mod:`autometa.metafeatures.sampling`)."""

from __future__ import annotations

from importlib import import_module

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

LOCAL = ["simple", "statistical", "info_theory", "derived"]  # the groups a sample describes


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
