"""Fast checks of scripts/live_check.py: shared folds, gain arithmetic, resumable cache."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lc() -> ModuleType:
    spec = importlib.util.spec_from_file_location("live_check", ROOT / "scripts/live_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["live_check"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tasks(lc: ModuleType) -> list[Any]:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :6]
    X["band"] = pd.Categorical(np.where(X.iloc[:, 0] > X.iloc[:, 0].median(), "hi", "lo"))
    y = y.map({0: "malignant", 1: "benign"})
    clf = lc.make_task("bc", X, y, "binary", max_rows=150, seed=0, source="sklearn")
    Xr, yr = load_diabetes(return_X_y=True, as_frame=True)
    reg = lc.make_task("diabetes", Xr.iloc[:120], yr.iloc[:120], "regression", source="sklearn")
    return [clf, reg]


def _methods() -> list[str]:
    try:
        import flaml.default  # noqa: F401
    except Exception:
        return ["default", "single_best", "tpe"]
    return ["default", "flaml", "single_best", "tpe"]


SINGLE = {"learning_rate": 0.2, "n_estimators": 20, "num_leaves": 8, "min_child_samples": 5}


def _run(lc: ModuleType, tasks: list[Any], cache: Any, methods: list[str] | None = None) -> Any:
    return lc.run_live_check(
        tasks,
        methods or _methods(),
        single_best={"classification": SINGLE, "regression": SINGLE},
        n_trials=3,
        cache=cache,
    )


def test_subsample_is_stratified_and_typed(lc: ModuleType, tasks: list[Any]) -> None:
    clf, reg = tasks
    assert len(clf.X) == 150 and clf.n_rows_original == 569
    assert isinstance(clf.X["band"].dtype, pd.CategoricalDtype)
    share = (clf.y == "benign").mean()
    assert abs(share - 357 / 569) < 0.01
    assert reg.kind == "regression" and reg.n_classes == 0


def test_every_method_uses_the_same_folds(lc: ModuleType, tasks: list[Any]) -> None:
    run = _run(lc, tasks, lc.Cache(None))
    clf = tasks[0]
    expected = lc.folds_id(
        list(StratifiedKFold(5, shuffle=True, random_state=0).split(clf.X, clf.target))
    )
    assert run["folds"][clf.name] == expected
    for task in tasks:
        cells = run["cells"][task.name]
        assert set(cells) == set(_methods())
        assert {c["folds_id"] for c in cells.values()} == {run["folds"][task.name]}
        assert all(len(c["fold_scores"]) == 5 for c in cells.values())
    tpe = run["cells"]["diabetes"]["tpe"]
    assert len(tpe["trials"]) == 3
    best = min(t["score"] for t in tpe["trials"])
    assert tpe["score"] == best  # RMSE: the best trial is the lowest


def test_gain_captured_directions(lc: ModuleType) -> None:
    gc = lc.gain_captured
    assert gc(0.85, 0.80, 0.90, "classification") == pytest.approx(0.5)
    assert gc(9.0, 10.0, 8.0, "regression") == pytest.approx(0.5)  # RMSE down is a gain
    assert gc(11.0, 10.0, 8.0, "regression") == pytest.approx(-0.5)
    assert gc(7.0, 10.0, 8.0, "regression") == pytest.approx(1.5)  # better than TPE
    assert gc(9.0, 10.0, 10.04, "regression") is None  # TPE worse than the default
    assert gc(9.0, 10.0, 9.96, "regression") is None  # TPE gain < 0.5 % of the RMSE
    assert gc(0.9, 0.9, 0.9005, "classification") is None  # TPE gain < 0.001 AUC
    assert lc.compare(9.0, 10.0, "regression") == 1
    assert lc.compare(0.9, 0.8, "classification") == 1
    assert lc.compare(0.8, 0.8, "classification") == 0


def test_summarize_counts_wins_in_the_metric_direction(lc: ModuleType) -> None:
    rows = [
        {"dataset": "a", "kind": "regression", "scores": {"default": 10, "autometa": 9, "tpe": 8}},
        {
            "dataset": "b",
            "kind": "classification",
            "scores": {"default": 0.8, "autometa": 0.79, "tpe": 0.9},
        },
        {
            "dataset": "c",
            "kind": "classification",
            "scores": {"default": 0.8, "autometa": 0.8, "tpe": 0.8},
        },
    ]
    summary = lc.summarize(rows, ["default", "autometa", "tpe"])
    assert summary["wins"]["autometa"]["default"] == {"wins": 1, "ties": 1, "losses": 1, "n": 3}
    captured = summary["gain_captured"]["autometa"]
    assert captured["per_dataset"] == pytest.approx({"a": 0.5, "b": -0.1})
    assert captured["mean"] == pytest.approx(0.2)
    assert captured["tpe_gain_too_small"] == ["c"]
    text = lc.render_markdown(
        [
            {
                **r,
                "source": "s",
                "task_type": r["kind"],
                "rows": 1,
                "rows_original": 1,
                "metric": "m",
                "seconds": {},
                "errors": {},
            }
            for r in rows
        ],
        summary,
        ["default", "autometa", "tpe"],
        n_trials=50,
        notes={},
    )
    assert "autometa top-1 beats defaults on 1/3 (1 tie)" in text


def test_cache_skips_done_cells_and_resumes_tpe(
    lc: ModuleType, tasks: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.json"
    task = tasks[1]
    first = _run(lc, [task], lc.Cache(path), ["default", "tpe"])
    calls = []
    real = lc.cross_validate
    monkeypatch.setattr(lc, "cross_validate", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = _run(lc, [task], lc.Cache(path), ["default", "tpe"])
    assert calls == []  # every cell came from the cache
    for method in ("default", "tpe"):
        assert (
            again["cells"][task.name][method]["score"] == first["cells"][task.name][method]["score"]
        )
    # An interrupted TPE cell keeps its trials; the re-run evaluates only the missing one.
    data = json.loads(path.read_text())
    cell = data["cells"][f"{task.name}|tpe"]
    data["cells"][f"{task.name}|tpe"] = {"protocol": cell["protocol"], "trials": cell["trials"][:2]}
    path.write_text(json.dumps(data))
    resumed = _run(lc, [task], lc.Cache(path), ["default", "tpe"])
    assert len(calls) == 1
    tpe = resumed["cells"][task.name]["tpe"]
    assert tpe["complete"] and len(tpe["trials"]) == 3
    assert tpe["trials"][:2] == cell["trials"][:2]
    # Another protocol (here: another seed) is not served from the cache.
    lc.run_live_check([task], ["default"], cache=lc.Cache(path), seed=1)
    assert len(calls) == 2


def test_single_best_normalises_per_task_and_direction(lc: ModuleType) -> None:
    tasks = pd.DataFrame(
        {
            "group_key": ["g1", "g2", "g3", "held"],
            "task_type": ["binary", "multiclass", "regression", "binary"],
        },
        index=[1, 2, 3, 4],
    )
    configs = pd.DataFrame(
        {"params": [{"learning_rate": 0.1 * i} for i in (1, 2, 3)]}, index=[1, 2, 3]
    )
    rows = []
    values = {
        (1, "roc_auc"): [0.70, 0.90, 0.80],  # config 2 best
        (2, "roc_auc"): [0.60, 0.61, 0.99],  # config 3 best by far; normalised 0, .03, 1
        (3, "rmse"): [5.0, 1.0, 3.0],  # lower is better: config 2
        (4, "roc_auc"): [1.0, 0.0, 0.0],  # held-out group: must be ignored
    }
    for (task_id, metric), scores in values.items():
        for config_id, value in enumerate(scores, start=1):
            for fold in range(3):
                rows.append((task_id, config_id, "lightgbm", fold, metric, value, "ok"))
    ev = pd.DataFrame(
        rows, columns=["task_id", "config_id", "family", "fold", "metric", "value", "status"]
    )
    kb = SimpleNamespace(tasks=tasks, configurations=configs, evaluations=ev)
    best = lc.single_best_configs(kb, exclude_groups=["held"])
    # classification means: c1 (0 + 0)/2 = 0, c2 (1 + .026)/2 = .51, c3 (.5 + 1)/2 = .75
    assert best["classification"].config_id == 3
    assert best["classification"].n_tasks == 2
    assert best["regression"].config_id == 2
    assert best["regression"].params == {"learning_rate": pytest.approx(0.2)}


def test_autometa_top1_is_asked_on_each_training_fold(
    lc: ModuleType, tasks: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import autometa

    task = tasks[0]
    seen: list[int] = []

    def fake_recommend(X: pd.DataFrame, y: pd.Series, model: str, k: int) -> Any:
        assert model == "lightgbm" and k == 5 and len(X) == len(y)
        seen.append(len(X))
        params = {"n_estimators": 7, "num_leaves": 5, "n_jobs": 4, "verbosity": 1}
        return SimpleNamespace(recommendations=[SimpleNamespace(params=params)])

    monkeypatch.setattr(autometa, "recommend", fake_recommend, raising=False)
    run = lc.run_live_check([task], ["autometa"])
    cell = run["cells"][task.name]["autometa"]
    assert seen == [len(train) for train, _ in lc.make_folds(task)]  # never the test rows
    assert all(p["n_estimators"] == 7 for p in cell["fold_params"])
    monkeypatch.setattr(autometa, "recommend", None, raising=False)
    skipped = lc.run_live_check([task], ["autometa"])
    assert skipped["cells"][task.name] == {} and "autometa" in skipped["notes"]


@pytest.mark.parametrize(
    ("method", "option", "constant"),
    [("autometa_cautious", "default_margin", "CAUTIOUS_MARGIN"), ("autometa_race", "race", "RACE")],
)
def test_autometa_variants_ask_for_their_option(
    lc: ModuleType,
    tasks: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    option: str,
    constant: str,
) -> None:
    import autometa

    asked: list[Any] = []

    def fake_recommend(X: pd.DataFrame, y: pd.Series, model: str, k: int, **options: Any) -> Any:
        assert set(options) == {option}  # only the variant's own option
        asked.append(options[option])
        params = {"n_estimators": 7, "num_leaves": 5}
        return SimpleNamespace(recommendations=[SimpleNamespace(params=params)])

    monkeypatch.setattr(autometa, "recommend", fake_recommend, raising=False)
    run = lc.run_live_check([tasks[0]], [method])
    assert run["cells"][tasks[0].name][method]["score"] is not None
    assert asked == [getattr(lc, constant)] * len(lc.make_folds(tasks[0]))
    assert lc.LABELS[method].endswith(f" {getattr(lc, constant):g}")  # the table's column
