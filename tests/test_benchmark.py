"""The benchmark package's own pieces: a ranker written outside the package plugs into the
leave-group-out harness, the safety target line, and algorithm selection scored
leave-group-out on a slice of the shipped knowledge base."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from autometa.benchmark import outer_folds, run_loo, score_rankings, scored_task_ids, summarise
from autometa.benchmark.baselines import DefaultRanker
from autometa.benchmark.loo import TARGET_PCT_WORSE_BEYOND_NOISE, target_line
from autometa.benchmark.search import METHODS as SEARCH_METHODS
from autometa.benchmark.search import benchmark_search, mean_rank, summarise_search
from autometa.benchmark.selection import benchmark_selection
from autometa.exceptions import MetaModelError
from autometa.meta.data import MetaData, build_metadata
from autometa.store import Snapshot, read_snapshot

SNAPSHOT = Path(__file__).resolve().parent.parent / "metadata_store" / "snapshot"
FAMILIES = ("lightgbm", "linear", "random_forest")


def test_target_line_says_met_or_missed() -> None:
    assert TARGET_PCT_WORSE_BEYOND_NOISE == 2.0
    assert target_line(1.9).endswith("1.9 %, met.")
    assert target_line(2.0).endswith("2.0 %, met.")
    assert target_line(2.4).endswith("2.4 %, missed.")


@pytest.fixture(scope="module")
def small_kb() -> Snapshot:
    """The shipped snapshot's first 20 real regression groups, three families."""
    kb = read_snapshot(SNAPSHOT)
    tasks = kb.tasks[(kb.tasks["task_type"] == "regression") & (kb.tasks["source"] != "synthetic")]
    groups = sorted(set(tasks["group_key"]))[:20]
    tasks = tasks[tasks["group_key"].isin(groups)]
    configs = kb.configurations[kb.configurations["family"].isin(FAMILIES)]
    ev = kb.evaluations
    ev = ev[ev["task_id"].isin(tasks.index) & ev["config_id"].isin(configs.index)]
    return Snapshot(
        manifest={"files": {"evaluations": {"sha256": "test-selection-slice"}}},
        tasks=tasks,
        metafeatures=kb.metafeatures.loc[tasks.index],
        configurations=configs,
        evaluations=ev.reset_index(drop=True),
    )


def test_selection_scores_every_family_and_the_choice(small_kb: Snapshot) -> None:
    report = benchmark_selection(small_kb, "regression", n_splits=2, seed=0)
    r = report.results
    assert report.families[0] == "lightgbm" and set(report.families) == set(FAMILIES)
    assert len(r) == len(set(r["task_id"])) >= 15  # every common task once
    regrets = r[[f"regret_{f}" for f in FAMILIES]].to_numpy()
    assert np.all((regrets >= 0) & (regrets <= 1))
    chosen = r["chosen"].map(lambda f: f"regret_{f}")
    picked = np.array([r.at[i, c] for i, c in chosen.items()])
    assert np.allclose(r["regret_auto"], picked)  # auto is the chosen family's pick
    assert np.allclose(r["regret_best_family"], regrets.min(axis=1))
    summary = report.summary()
    assert summary.at["lightgbm", "pct_worse_than_lightgbm"] == 0.0
    assert summary.at["best_family", "regret_top1"] <= summary["regret_top1"].min() + 1e-12
    assert "| auto |" in report.to_markdown()
    assert report.to_dict()["tasks"] == len(r)


def test_selection_needs_lightgbm_and_another_family(small_kb: Snapshot) -> None:
    with pytest.raises(MetaModelError, match="include it"):
        benchmark_selection(small_kb, "regression", families=["linear", "random_forest"])
    with pytest.raises(MetaModelError, match="two families"):
        benchmark_selection(small_kb, "regression", families=["lightgbm", "extra_trees"])


def test_benchmark_loo_model_auto_on_the_command_line(
    small_kb: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autometa.store.knowledge as knowledge
    from autometa.cli import cli

    monkeypatch.setattr(knowledge, "knowledge_base", lambda *a, **k: small_kb)
    result = CliRunner().invoke(
        cli,
        ["benchmark", "loo", "--model", "auto", "--task-kind", "regression",
         "--splits", "2", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (part,) = json.loads(result.stdout)["algorithm_selection"]
    assert part["kind"] == "regression" and part["metric"] == "rmse"
    assert set(part["summary"]) == {"auto", *FAMILIES, "best_family"}
    assert sum(part["chosen"].values()) == part["tasks"]


class _OracleOfTraining:
    """A ranker written outside the package: the configuration with the best median
    normalised training score first."""

    name = "median_best"

    def fit(self, data: MetaData, train_task_ids: np.ndarray) -> _OracleOfTraining:
        self.score_ = np.nanmedian(data.normalised[data.rows(train_task_ids)], axis=0)
        return self

    def scores(self, metafeatures: pd.DataFrame) -> np.ndarray:
        return np.tile(self.score_, (len(metafeatures), 1))


def test_any_ranker_plugs_into_the_harness() -> None:
    from tests.test_meta import _synthetic_kb

    data = build_metadata(_synthetic_kb(), "lightgbm", "classification")
    results = run_loo(data, [DefaultRanker, _OracleOfTraining], n_splits=5, seed=0)
    summary = summarise(results)
    assert list(summary.index) == ["default", "median_best"]
    assert set(results["task_id"]) <= set(scored_task_ids(data, None))
    mine = results[results["method"] == "median_best"]
    for fold, part in mine.groupby("fold"):  # the harness's own scoring of its picks
        train, test = outer_folds(data, 5, 0)[fold]
        picks = _OracleOfTraining().fit(data, train).scores(data.metafeatures.loc[test])
        expected = score_rankings(data, test, picks)
        assert np.allclose(part["regret_top1"], expected["regret_top1"])
    assert summary.at["default", "pct_worse_than_default"] == 0.0


def test_selection_leaves_unscored_tasks_out_of_the_scores(small_kb: Snapshot) -> None:
    name = str(small_kb.tasks["name"].iloc[0])
    report = benchmark_selection(
        small_kb, "regression", n_splits=2, seed=0, unscored=f"^{re.escape(name)}$"
    )
    assert small_kb.tasks.index[0] not in set(report.results["task_id"])
    assert report.unscored_training_tasks == 1
    assert "1 more tasks (names matching the unscored pattern)" in report.to_markdown()


def test_search_benchmark_curves_on_stored_evaluations() -> None:
    from tests.test_meta import _synthetic_kb

    results = benchmark_search(
        _synthetic_kb(), "classification", n_trials=6, seeds=(0, 1), n_splits=2, unscored=None
    )
    curves = results[[f"regret@{n}" for n in range(1, 7)]].to_numpy()
    assert len(results) == 30 * 5 * 2  # every task (the tied one has no regret) x method x seed
    assert np.all((curves >= 0) & (curves <= 1))
    assert np.all(np.diff(curves, axis=1) <= 1e-12)  # the best so far never gets worse
    by = results.set_index(["task_id", "seed", "method"]).sort_index()
    meta = by.xs("meta", level="method")[[f"regret@{n}" for n in range(1, 6)]]
    queued = by.xs("tpe_enqueued", level="method")[[f"regret@{n}" for n in range(1, 6)]]
    assert np.allclose(meta, queued)  # both start with the stack's top five, in order
    table = summarise_search(results, budgets=(1, 5, 6))
    assert list(table.columns) == [1, 5, 6] and set(table.index) == set(SEARCH_METHODS)
    ranks = mean_rank(results, budgets=(1, 6))
    assert np.allclose(ranks.sum(), 1 + 2 + 3 + 4 + 5)  # five methods ranked per search


def test_search_benchmark_resumes_from_its_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autometa.benchmark.search as search
    from tests.test_meta import _synthetic_kb

    kb, path = _synthetic_kb(), tmp_path / "search.jsonl"
    options = dict(n_trials=3, seeds=(0,), n_splits=2, unscored=None, checkpoint=path)
    first = benchmark_search(kb, "classification", methods=("random", "meta"), **options)
    monkeypatch.setattr(search, "_fold_rows", lambda *a, **k: pytest.fail("recomputed"))
    again = benchmark_search(kb, "classification", methods=("random", "meta"), **options)
    assert again.equals(first) and len(path.read_text().splitlines()) == len(first)


def test_selection_leaves_families_without_a_space_out(small_kb: Snapshot) -> None:
    from autometa.benchmark.selection import _family_data

    configs = small_kb.configurations
    extra = configs.iloc[:1].copy()
    extra.index = [int(configs.index.max()) + 1]
    extra["family"] = "openml:SVC"
    kb = Snapshot(
        manifest={"files": {"evaluations": {"sha256": "test-selection-openml"}}},
        tasks=small_kb.tasks,
        metafeatures=small_kb.metafeatures,
        configurations=pd.concat([configs, extra]),
        evaluations=small_kb.evaluations,
    )
    assert set(_family_data(kb, "regression", None, None)) == set(FAMILIES)
