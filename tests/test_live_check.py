"""The live check as a library (autometa.benchmark.live): shared folds, gain arithmetic,
resumable cache, the single best, the autometa methods and the report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import StratifiedKFold

from autometa.benchmark.live import (
    Cache,
    LiveSettings,
    MethodUnavailable,
    Task,
    compare,
    gain_captured,
    labels,
    live_check,
    make_folds,
    make_task,
    run_live_check,
    single_best_configs,
    summarize,
)
from autometa.benchmark.live.factories import flaml_factory
from autometa.benchmark.live.folds import folds_id
from autometa.benchmark.live.report import render_markdown
from autometa.exceptions import AutometaError, DataError

SINGLE = {"learning_rate": 0.2, "n_estimators": 20, "num_leaves": 8, "min_child_samples": 5}
FAST = LiveSettings(n_trials=3)


@pytest.fixture(scope="module")
def tasks() -> list[Task]:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :6]
    X["band"] = pd.Categorical(np.where(X.iloc[:, 0] > X.iloc[:, 0].median(), "hi", "lo"))
    y = y.map({0: "malignant", 1: "benign"})
    clf = make_task("bc", X, y, "binary", max_rows=150, seed=0, source="sklearn")
    Xr, yr = load_diabetes(return_X_y=True, as_frame=True)
    reg = make_task("diabetes", Xr.iloc[:120], yr.iloc[:120], "regression", source="sklearn")
    return [clf, reg]


def _methods() -> list[str]:
    try:
        import flaml.default  # noqa: F401
    except Exception:
        return ["default", "single_best", "tpe"]
    return ["default", "flaml", "single_best", "tpe"]


def _run(tasks: list[Task], cache: Cache, methods: list[str] | None = None, log: Any = None) -> Any:
    return run_live_check(
        tasks,
        methods or _methods(),
        settings=FAST,
        single_best={"classification": SINGLE, "regression": SINGLE},
        cache=cache,
        log=log,
    )


def test_subsample_is_stratified_and_typed(tasks: list[Task]) -> None:
    clf, reg = tasks
    assert len(clf.X) == 150 and clf.n_rows_original == 569
    assert isinstance(clf.X["band"].dtype, pd.CategoricalDtype)
    share = (clf.y == "benign").mean()
    assert abs(share - 357 / 569) < 0.01
    assert reg.kind == "regression" and reg.n_classes == 0


def test_every_method_uses_the_same_folds(tasks: list[Task]) -> None:
    report = _run(tasks, Cache(None))
    clf = tasks[0]
    expected = folds_id(
        list(StratifiedKFold(5, shuffle=True, random_state=0).split(clf.X, clf.target))
    )
    assert report.folds[clf.name] == expected
    for task in tasks:
        cells = report.cells[task.name]
        assert set(cells) == set(_methods())
        assert {c["folds_id"] for c in cells.values()} == {report.folds[task.name]}
        assert all(len(c["fold_scores"]) == 5 for c in cells.values())
    tpe = report.cells["diabetes"]["tpe"]
    assert len(tpe["trials"]) == 3
    best = min(t["score"] for t in tpe["trials"])
    assert tpe["score"] == best  # RMSE: the best trial is the lowest
    frame = report.to_frame()
    assert list(frame.index) == ["bc", "diabetes"]
    assert frame.loc["diabetes", "tpe"] == pytest.approx(best)
    assert frame.loc["bc", "metric"] == "roc_auc" and frame.loc["diabetes", "metric"] == "rmse"


def test_gain_captured_directions() -> None:
    gc = gain_captured
    assert gc(0.85, 0.80, 0.90, "classification") == pytest.approx(0.5)
    assert gc(9.0, 10.0, 8.0, "regression") == pytest.approx(0.5)  # RMSE down is a gain
    assert gc(11.0, 10.0, 8.0, "regression") == pytest.approx(-0.5)
    assert gc(7.0, 10.0, 8.0, "regression") == pytest.approx(1.5)  # better than TPE
    assert gc(9.0, 10.0, 10.04, "regression") is None  # TPE worse than the default
    assert gc(9.0, 10.0, 9.96, "regression") is None  # TPE gain < 0.5 % of the RMSE
    assert gc(0.9, 0.9, 0.9005, "classification") is None  # TPE gain < 0.001 AUC
    assert compare(9.0, 10.0, "regression") == 1
    assert compare(0.9, 0.8, "classification") == 1
    assert compare(0.8, 0.8, "classification") == 0


def test_summarize_counts_wins_in_the_metric_direction() -> None:
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
    summary = summarize(rows, ["default", "autometa", "tpe"])
    assert summary["wins"]["autometa"]["default"] == {"wins": 1, "ties": 1, "losses": 1, "n": 3}
    captured = summary["gain_captured"]["autometa"]
    assert captured["per_dataset"] == pytest.approx({"a": 0.5, "b": -0.1})
    assert captured["mean"] == pytest.approx(0.2)
    assert captured["tpe_gain_too_small"] == ["c"]
    extra = {"source": "s", "rows": 1, "rows_original": 1, "metric": "m", "seconds": {}}
    text = render_markdown(
        [{**r, **extra, "task_type": r["kind"], "errors": {}} for r in rows],
        summary,
        ["default", "autometa", "tpe"],
        labels=labels(LiveSettings()),
        notes={},
    )
    assert "autometa top-1 beats defaults on 1/3 (1 tie)" in text
    assert "TPE-50 on 0/3 (1 tie)" in text  # the column title follows n_trials


def test_cache_skips_done_cells_and_resumes_tpe(tasks: list[Task], tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    task = tasks[1]
    first = _run([task], Cache(path), ["default", "tpe"])
    lines: list[str] = []
    again = _run([task], Cache(path), ["default", "tpe"], log=lines.append)
    assert [line.split(": ")[1].split()[0] for line in lines] == ["cached", "cached"]
    for method in ("default", "tpe"):
        assert again.cells[task.name][method]["score"] == first.cells[task.name][method]["score"]
    # An interrupted TPE cell keeps its trials; the re-run evaluates only the missing one.
    data = json.loads(path.read_text())
    cell = data["cells"][f"{task.name}|tpe"]
    data["cells"][f"{task.name}|tpe"] = {"protocol": cell["protocol"], "trials": cell["trials"][:2]}
    path.write_text(json.dumps(data))
    lines.clear()
    resumed = _run([task], Cache(path), ["default", "tpe"], log=lines.append)
    assert any("resuming after 2 cached trial(s)" in line for line in lines)
    trials = [line for line in lines if ": trial " in line]
    assert len(trials) == 1 and ": trial 3/3 " in trials[0]  # only the missing trial ran
    tpe = resumed.cells[task.name]["tpe"]
    assert tpe["complete"] and len(tpe["trials"]) == 3
    assert tpe["trials"][:2] == cell["trials"][:2]
    # Another protocol (here: another seed) is not served from the cache.
    lines.clear()
    run_live_check([task], ["default"], settings=LiveSettings(seed=1), cache=Cache(path),
                   log=lines.append)  # fmt: skip
    assert len(lines) == 1 and "cached" not in lines[0]


def test_single_best_normalises_per_task_and_direction() -> None:
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
    kb: Any = SimpleNamespace(tasks=tasks, configurations=configs, evaluations=ev)
    best = single_best_configs(kb, exclude_groups=["held"])
    # classification means: c1 (0 + 0)/2 = 0, c2 (1 + .026)/2 = .51, c3 (.5 + 1)/2 = .75
    assert best["classification"].config_id == 3
    assert best["classification"].n_tasks == 2
    assert best["regression"].config_id == 2
    assert best["regression"].params == {"learning_rate": pytest.approx(0.2)}
    none = single_best_configs(kb, exclude_groups=["g1", "g2", "g3", "held"])
    assert none == {"classification": None, "regression": None}


def test_autometa_top1_is_asked_on_each_training_fold(
    tasks: list[Task], monkeypatch: pytest.MonkeyPatch
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
    report = run_live_check([task], ["autometa"])
    cell = report.cells[task.name]["autometa"]
    assert seen == [len(train) for train, _ in make_folds(task)]  # never the test rows
    assert all(p["n_estimators"] == 7 for p in cell["fold_params"])
    monkeypatch.setattr(autometa, "recommend", None, raising=False)
    skipped = run_live_check([task], ["autometa"])
    assert skipped.cells[task.name] == {} and "autometa" in skipped.notes


@pytest.mark.parametrize(
    ("method", "option", "setting", "value"),
    [
        ("autometa_cautious", "default_margin", "cautious_margin", 0.3),
        ("autometa_race", "race", "race", 3),
    ],
)
def test_autometa_variants_ask_for_their_option(
    tasks: list[Task],
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    option: str,
    setting: str,
    value: float,
) -> None:
    import autometa

    asked: list[Any] = []

    def fake_recommend(X: pd.DataFrame, y: pd.Series, model: str, k: int, **options: Any) -> Any:
        assert set(options) == {option}  # only the variant's own option
        asked.append(options[option])
        params = {"n_estimators": 7, "num_leaves": 5}
        return SimpleNamespace(recommendations=[SimpleNamespace(params=params)])

    monkeypatch.setattr(autometa, "recommend", fake_recommend, raising=False)
    settings = LiveSettings(**{setting: value})
    report = run_live_check([tasks[0]], [method], settings=settings)
    assert report.cells[tasks[0].name][method]["score"] is not None
    assert asked == [value] * len(make_folds(tasks[0]))
    assert labels(settings)[method].endswith(f" {value:g}")  # the table's column


def test_a_missing_flaml_is_a_typed_error_and_a_skipped_column(
    tasks: list[Task], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "flaml.default", None)  # import fails as if not installed
    with pytest.raises(MethodUnavailable, match=r"flaml\.default cannot be imported"):
        flaml_factory(tasks[0], 0, 1)
    assert issubclass(MethodUnavailable, AutometaError)
    report = run_live_check([tasks[0]], ["default", "flaml"])
    assert set(report.cells[tasks[0].name]) == {"default"}
    assert "cannot be imported" in report.notes["flaml"]
    assert "Skipped:\n\n- FLAML zero-shot: flaml.default cannot be imported" in (
        report.to_markdown()
    )


def _index(tmp_path: Path) -> Path:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X.iloc[:100].assign(target=y.iloc[:100]).to_parquet(tmp_path / "diabetes.parquet")
    row = {"name": "sk/diabetes", "path": "diabetes.parquet", "target": "target",
           "task_type": "regression", "source": "sklearn", "source_id": "diabetes",
           "reason": "a test table", "group": "sk/diabetes", "n_rows_original": 100}  # fmt: skip
    pd.DataFrame([row]).to_csv(tmp_path / "holdout_index.csv", index=False)
    return tmp_path / "holdout_index.csv"


def test_live_check_reads_an_index_and_reports(tmp_path: Path) -> None:
    index = _index(tmp_path)
    lines: list[str] = []
    report = live_check(
        index, ["default", "single_best"], datasets=["sk/diabetes"], cache=tmp_path / "c.json",
        single_best={"regression": SINGLE, "classification": None}, log=lines.append,
    )  # fmt: skip
    assert lines[0] == "loaded 1 datasets"
    task = report.tasks[0]
    assert task.source == "sklearn:diabetes" and task.description == "a test table"
    assert set(report.cells["sk/diabetes"]) == {"default", "single_best"}
    assert report.cells["sk/diabetes"]["single_best"]["config"] == SINGLE
    assert json.loads((tmp_path / "c.json").read_text())["version"] == 1
    text = report.to_markdown()
    assert text.startswith("| dataset | source | task | rows | metric | defaults | single best |")
    assert "| sk/diabetes | sklearn:diabetes | regression | 100 | rmse |" in text
    payload = json.loads(json.dumps(report.to_dict(), default=str))
    default = report.cells["sk/diabetes"]["default"]["score"]
    assert payload["rows"][0]["scores"]["default"] == default


def test_live_check_names_bad_arguments(tmp_path: Path) -> None:
    index = _index(tmp_path)
    with pytest.raises(DataError, match=r"not in .*: nope; known: sk/diabetes"):
        live_check(index, ["default"], datasets=["nope"])
    with pytest.raises(DataError, match="no corpus index"):
        live_check(tmp_path / "none.csv", ["default"], datasets=["sk/diabetes"])
    with pytest.raises(AutometaError, match="unknown method"):
        live_check(index, ["default", "grid"], datasets=["sk/diabetes"])
    with pytest.raises(AutometaError, match="cautious_margin"):
        LiveSettings(cautious_margin=1.5)


def test_a_search_run_takes_another_sampler_and_queued_configurations(
    tasks: list[Task],
) -> None:
    import optuna

    from autometa.benchmark.live.folds import make_folds
    from autometa.benchmark.live.tpe import run_tpe
    from autometa.spaces import get_space

    task = tasks[0]
    folds = make_folds(task, 3, 0)
    default = get_space("lightgbm").default(task.task_type)
    seen: list[dict[str, Any]] = []
    result = run_tpe(task, folds, 3, seed=0, n_jobs=1, on_trial=seen.append,
                     sampler=optuna.samplers.RandomSampler(seed=1), enqueue=[default])  # fmt: skip
    assert seen[0]["params"] == default  # the queued configuration is the first trial
    assert len(seen) == 3 and result["score"] in [s["score"] for s in seen]


def test_a_search_run_in_the_users_broad_space(tasks: list[Task]) -> None:
    from autometa.benchmark.live.folds import cross_validate, make_folds
    from autometa.benchmark.live.tpe import run_tpe
    from autometa.benchmark.live.user_space import user_distributions, user_factory

    task = tasks[0]
    folds = make_folds(task, 3, 0)
    seen: list[dict[str, Any]] = []
    result = run_tpe(task, folds, 3, seed=0, n_jobs=1, on_trial=seen.append, space="user")
    assert all(set(s["params"]) == set(user_distributions()) for s in seen)
    assert user_distributions()["n_estimators"].high == 2000  # beyond the space's 1,024
    again = cross_validate(user_factory(seen[0]["params"], task, 0, 1), task, folds)
    assert again["score"] == pytest.approx(seen[0]["score"])
    assert result["score"] == max(s["score"] for s in seen)  # an AUC: larger is better
