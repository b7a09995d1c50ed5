"""Local harvest: evaluation, resume after kill -9, joblib and Dask parallelism."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from autometa.cli import cli
from autometa.data import load_dataset
from autometa.exceptions import HarvestError
from autometa.harvest import evaluate_config, fold_indices, harvest_local, read_corpus
from autometa.store import open_store

FAMILIES = {"lightgbm": 3, "linear": 2}


def _write_corpus(directory: Path) -> Path:
    """Three small real datasets (iris, a breast-cancer sample, a diabetes sample)."""
    rows = []
    iris = load_iris(as_frame=True).frame
    iris["target"] = iris["target"].map(dict(enumerate(["setosa", "versicolor", "virginica"])))
    cancer = load_breast_cancer(as_frame=True).frame.sample(200, random_state=0).iloc[:, -8:]
    diabetes = load_diabetes(as_frame=True).frame.sample(200, random_state=0)
    for name, frame, task in [
        ("iris", iris, "multiclass"),
        ("cancer", cancer, "binary"),
        ("diabetes", diabetes, "regression"),
    ]:
        path = directory / f"{name}.parquet"
        frame.to_parquet(path)
        rows.append(
            {"name": f"test/{name}", "path": path.name, "target": "target", "task_type": task}
        )
    index = directory / "index.csv"
    pd.DataFrame(rows).to_csv(index, index=False)
    return index


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return _write_corpus(tmp_path)


def _expected_rows(families: dict[str, int], folds: int = 3) -> int:
    # iris + cancer: 4 classification metrics; diabetes: 3 regression metrics
    return sum(n * folds * (4 + 4 + 3) for n in families.values())


def test_evaluate_config_scores_are_sane() -> None:
    data = load_breast_cancer(as_frame=True)
    y = data.target.map({0: "malignant", 1: "benign"}).astype("category")
    results = evaluate_config(data.data, y, "binary", "lightgbm", {}, n_folds=3, seed=0)
    assert [r.fold for r in results] == [0, 1, 2]
    assert all(r.status == "ok" for r in results)
    auc = np.mean([r.scores["roc_auc"] for r in results])
    assert 0.97 < auc <= 1.0
    assert all(0.9 < r.scores["accuracy"] <= 1.0 for r in results)
    assert all(r.fit_seconds is not None and r.fit_seconds > 0 for r in results)


def test_bad_configuration_is_recorded_not_raised() -> None:
    data = load_iris(as_frame=True)
    y = data.target.astype(str).astype("category")
    results = evaluate_config(
        data.data, y, "multiclass", "lightgbm", {"num_leaves": -5}, n_folds=3, seed=0
    )
    assert all(r.status == "error" for r in results)
    assert all(r.scores["log_loss"] is None for r in results)
    assert "num_leaves" in (results[0].message or "")


def test_folds_are_fixed_and_stratified() -> None:
    y = pd.Series(["a"] * 30 + ["b"] * 12).astype("category")
    first = fold_indices(y, "binary", 3, seed=0)
    second = fold_indices(y, "binary", 3, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, second, strict=True))
    assert [int((y.iloc[test] == "b").sum()) for _, test in first] == [4, 4, 4]


def test_harvest_is_complete_and_idempotent(corpus: Path, tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as store:
        summary = harvest_local(store, read_corpus(corpus), FAMILIES, progress=False)
        assert summary.tasks == 3 and summary.units_run == 3 * 5
        assert summary.rows_written == _expected_rows(FAMILIES)
        again = harvest_local(store, read_corpus(corpus), FAMILIES, progress=False)
        assert again.units_run == 0 and again.units_skipped == 15 and again.rows_written == 0
        frame = store.evaluations_frame()
        assert len(frame) == _expected_rows(FAMILIES)
        assert len(store.metafeatures_frame()) == 3
        # the library default of LightGBM on iris: AUC close to 1
        auc = frame[(frame.metric == "roc_auc")]["value"]
        assert auc.between(0.5, 1.0).all()


def test_repeats_add_only_the_missing_repeat(corpus: Path, tmp_path: Path) -> None:
    """A second repeat of the CV is stored as folds 3-5 on new splits; repeat 0 is kept."""
    families = {"lightgbm": 2}
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as store:
        harvest_local(store, read_corpus(corpus), families, progress=False)
        before = store.evaluations_frame()
        summary = harvest_local(store, read_corpus(corpus), families, repeats=2, progress=False)
        assert summary.units_skipped == 3 * 2 and summary.units_run == 3 * 2
        assert summary.rows_written == _expected_rows(families)
        after = store.evaluations_frame()
        again = harvest_local(store, read_corpus(corpus), families, repeats=2, progress=False)
        assert again.units_run == 0 and again.units_skipped == 12
        tasks, configs = store.tasks_frame(), store.configurations_frame("lightgbm")
    assert sorted(after["fold"].unique()) == [0, 1, 2, 3, 4, 5]
    key = ["task_id", "config_id", "fold", "metric"]
    old = after[after["fold"] < 3].sort_values(key)["value"].to_numpy()
    np.testing.assert_array_equal(old, before.sort_values(key)["value"].to_numpy())
    # repeat 1 splits the rows differently, so its fold scores differ from repeat 0's
    auc = after[after["metric"] == "roc_auc"].pivot_table("value", ["task_id", "config_id"], "fold")
    assert not np.allclose(
        np.sort(auc[[0, 1, 2]].to_numpy(), 1), np.sort(auc[[3, 4, 5]].to_numpy(), 1)
    )
    # repeat 1 is a plain 3-fold CV seeded 1 (splits and estimator), stored as folds 3-5
    cancer = load_dataset(corpus.parent / "cancer.parquet", target="target", task="binary")
    task_id = int(tasks.index[tasks["name"] == "test/cancer"][0])
    for config_id, params in configs["params"].items():
        expected = evaluate_config(cancer.X, cancer.y, "binary", "lightgbm", params, seed=1)
        stored = auc.loc[(task_id, config_id), [3, 4, 5]].to_numpy()
        np.testing.assert_allclose(stored, [r.scores["roc_auc"] for r in expected], rtol=1e-12)


def test_rerun_fills_in_missing_qualities_only(corpus: Path, tmp_path: Path) -> None:
    """A quality added in a later release is computed for stored tasks; others are kept."""
    import sqlite3

    db = tmp_path / "s.db"
    with open_store(f"sqlite:///{db}") as store:
        harvest_local(store, read_corpus(corpus), {"linear": 1}, progress=False)
        before = store.metafeatures_frame()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM metafeatures WHERE name LIKE 'autometa.GBM%'")
        conn.execute("UPDATE metafeatures SET value = 123.0 WHERE name = 'NumberOfFeatures'")
    with open_store(f"sqlite:///{db}") as store:
        harvest_local(store, read_corpus(corpus), {"linear": 1}, progress=False)
        after = store.metafeatures_frame()
    gbm = [c for c in before.columns if c.startswith("autometa.GBM")]
    assert len(gbm) == 6  # AUC x 3 (iris, cancer) and R2 x 3 (diabetes)
    pd.testing.assert_frame_equal(after[gbm], before[gbm])
    assert (after["NumberOfFeatures"] == 123.0).all()


def test_parallel_workers_give_the_same_scores(corpus: Path, tmp_path: Path) -> None:
    scores = []
    for workers, name in [(1, "a.db"), (2, "b.db")]:
        with open_store(f"sqlite:///{tmp_path / name}") as store:
            harvest_local(store, read_corpus(corpus), FAMILIES, workers=workers, progress=False)
            frame = store.evaluations_frame().sort_values(
                ["task_id", "config_id", "fold", "metric"]
            )
            scores.append(frame["value"].to_numpy())
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-9)


def test_resume_after_kill_9(corpus: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    families = "lightgbm=10,linear=4"
    command = [
        sys.executable, "-m", "autometa.cli", "harvest", "local", str(corpus),
        "--store", url, "--families", families, "--quiet", "--format", "json",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    done_before = 0
    while time.time() < deadline:
        time.sleep(0.5)
        try:
            with open_store(url) as store:
                done_before = len(store.evaluations_frame())
        except Exception:
            continue
        if done_before >= 40:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    with open_store(url) as store:
        frame = store.evaluations_frame()
        units_before = frame.groupby(["task_id", "config_id"]).fold.nunique().eq(3).sum()
        rows_before = len(frame)
    assert rows_before >= 40
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    summary = json.loads(result.stdout)
    total = _expected_rows({"lightgbm": 10, "linear": 4})
    assert summary["units_skipped"] == units_before
    assert summary["units_run"] == 3 * 14 - units_before
    with open_store(url) as store:
        frame = store.evaluations_frame()
    assert len(frame) == total
    assert not frame.duplicated(["task_id", "config_id", "fold", "metric"]).any()


def test_dask_local_cluster(corpus: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        open_store(f"sqlite:///{tmp_path / 'dask.db'}") as store,
    ):
        summary = harvest_local(
            store,
            read_corpus(corpus),
            {"lightgbm": 2},
            scheduler=cluster.scheduler_address,
            progress=False,
        )
        assert summary.units_run == 6
        assert len(store.evaluations_frame()) == _expected_rows({"lightgbm": 2})


def test_cli_harvest_errors_are_one_line(tmp_path: Path, corpus: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["harvest", "local", str(corpus), "--store", f"sqlite:///{tmp_path / 'x.db'}",
         "--families", "nope=3", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "nope" in result.output and "Traceback" not in result.output
    result = runner.invoke(cli, ["harvest", "local", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2


def test_read_corpus_rejects_bad_index(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,path\na,b\n")
    with pytest.raises(HarvestError, match="target"):
        read_corpus(bad)


def test_read_corpus_keeps_hash_like_provenance_as_text(tmp_path: Path) -> None:
    index = tmp_path / "index.csv"
    index.write_text(
        "name,path,target,task_type,n_rows,build_key,ratio,flag\n"
        "a,a.parquet,y,regression,500,15094924684e7048,0.5,true\n"
        "b,b.parquet,y,regression,600,12e3,1e-05,false\n"
    )
    a, b = (entry.provenance for entry in read_corpus(index))
    # "15094924684e7048" would parse as a float overflowing to inf, which no store can keep
    assert a == {"n_rows": 500, "build_key": "15094924684e7048", "ratio": 0.5, "flag": True}
    assert b == {"n_rows": 600, "build_key": "12e3", "ratio": 1e-05, "flag": False}
    json.dumps([a, b], allow_nan=False)


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        path = Path(f"/proc/{todo[0]}/task/{todo[0]}/children")
        todo = todo[1:]
        kids = [int(p) for p in path.read_text().split()] if path.exists() else []
        found.update(kids)
        todo.extend(kids)
    return found


def _running(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_worker_outlives_a_killed_harvest(corpus: Path, tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "autometa.cli", "harvest", "local", str(corpus), "--quiet",
        "--store", f"sqlite:///{tmp_path / 'w.db'}", "--families", "lightgbm=64", "--workers", "2",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(workers := _descendants(process.pid)) < 2 and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)  # the workers are evaluating configurations
    workers = _descendants(process.pid)
    assert len(workers) >= 2
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.time() + 15
    while any(_running(w) for w in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert [w for w in workers if _running(w)] == []  # joblib's idled for about 5 minutes
