"""`autometa benchmark loo` on the shipped knowledge base (regression slice, 3 group folds)."""

from __future__ import annotations

import json

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
