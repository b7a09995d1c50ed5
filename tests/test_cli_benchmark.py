"""`autometa benchmark loo` on the shipped knowledge base (regression slice, 3 group folds)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from autometa.cli import cli

METHODS = {
    "default", "single_best", "flaml_1nn", "autosklearn_knn",
    "knn", "surrogate", "portfolio", "selector", "stack",
}  # fmt: skip


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


def test_paired_table_pairs_tasks_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    path = Path(__file__).resolve().parents[1] / "scripts" / "bench_loo.py"
    monkeypatch.syspath_prepend(str(path.parent))  # its shared _kb_args module
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
