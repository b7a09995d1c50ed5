"""`autometa benchmark loo` on the shipped knowledge base (regression slice, 3 group folds)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from autometa.cli import cli
from autometa.harvest import entries_from_files, harvest_local
from autometa.store import open_store
from tests.test_cli_harvest import _data

METHODS = {
    "default", "single_best", "flaml_1nn", "autosklearn_knn",
    "knn", "surrogate", "portfolio", "selector", "stack",
}  # fmt: skip


@pytest.mark.slow
def test_benchmark_loo_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOMETA_STORE", "sqlite://")  # the shipped snapshot only
    result = CliRunner().invoke(
        cli,
        ["benchmark", "loo", "--task-kind", "regression", "--splits", "3", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["task_kinds"]["regression"]
    assert report["facts"]["metric"] == "rmse" and report["facts"]["tasks"] >= 40
    # the synthetic tables train but are not scored (default --unscored '^synthetic/')
    assert report["facts"]["unscored_training_tasks"] == 24
    summary = report["summary"]
    assert set(summary) >= METHODS
    for name, row in summary.items():
        assert 0.0 <= row["regret_top5"] <= row["regret_top1"] <= 1.0, name
    assert summary["default"]["top1_vs_default"] == 1.0
    assert summary["default"]["pct_worse_than_default"] == 0.0
    # meta-learning must beat the library default on held-out groups
    assert summary["stack"]["regret_top1"] < summary["default"]["regret_top1"]


def test_benchmark_loo_bad_family_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["benchmark", "loo", "--model", "svm", "--splits", "3"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    bad = CliRunner().invoke(cli, ["benchmark", "loo", "--unscored", "[", "--splits", "3"])
    assert bad.exit_code == 2 and "not a regular expression" in bad.output
    assert "Traceback" not in bad.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--splits", "1"], "use 0 (leave-one-group-out) or at least 2"),
        (["--splits", "-1"], "x>=0"),
        (["--metric", "bogus"], "'roc_auc', 'log_loss', 'accuracy', 'balanced_accuracy', 'rmse'"),
        (
            ["--metric", "rmse", "--task-kind", "classification"],
            "metric 'rmse' is not recorded for classification tasks; valid: roc_auc, log_loss",
        ),
    ],
)
def test_benchmark_loo_bad_options_are_one_line(args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(cli, ["benchmark", "loo", *args])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and fragment in result.output, result.output


def test_benchmark_loo_says_when_there_is_nothing_to_benchmark(tmp_path: Path) -> None:
    small, empty = (f"sqlite:///{tmp_path / name}" for name in ("small.db", "empty.db"))
    with open_store(small) as store:  # 3 classification tasks, one group each
        corpus = entries_from_files(_data(tmp_path, 3), target="y")
        harvest_local(store, corpus, {"lightgbm": 2}, progress=False)
    open_store(empty).close()
    for store, args, fragment in [
        (small, [], "too few classification tasks for leave-group-out with lightgbm: 3 tasks "
         "in 3 groups have roc_auc scores"),
        (small, ["--model", "linear"], "nothing to benchmark: no roc_auc evaluations of linear "
         "on classification tasks; no rmse evaluations of linear on regression tasks"),
        (empty, ["--task-kind", "regression"], "nothing to benchmark: no rmse evaluations"),
    ]:  # fmt: skip
        result = CliRunner().invoke(
            cli, ["benchmark", "loo", "--no-shipped", "--store", store, "--format", "json", *args]
        )
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], result.output


def test_paired_table_pairs_tasks_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_loo.py"
    spec = importlib.util.spec_from_file_location("bench_loo", path)
    assert spec is not None and spec.loader is not None
    bench_loo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_loo)
    old = pd.DataFrame(
        {
            "name": ["a", "b", "c"],
            "method": "stack",
            "regret_top1": [0.1, 0.2, 0.3],
            "regret_top5": [0.0, 0.1, 0.1],
            "worse_than_default": [0.0, 1.0, 0.0],
        }
    )
    new = old.iloc[[2, 0]].assign(regret_top1=[0.1, 0.2])  # c improves, a worsens, b is gone
    table = bench_loo.paired_table(old, new)
    assert "Paired over 2 tasks" in table
    row = next(line for line in table.splitlines() if line.startswith("| stack |"))
    assert "0.2000 -> 0.1500 (-0.0500 +- 0.1500)" in row  # mean diff -0.05, sd 0.212 / sqrt 2
    assert "0.0 -> 0.0 (+0.0 +- 0.0)" in row
