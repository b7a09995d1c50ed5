"""Tasks harvested from OpenML (loopback server) reach ``autometa recommend``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris

from autometa.cli import cli
from autometa.data import load_dataset
from autometa.harvest.openml import harvest_openml
from autometa.metafeatures import compute_metafeatures
from autometa.recommendation.learners import Learners
from autometa.store import open_store
from tests.openml_server import serve
from tests.openml_world import IRIS_FEATURES, RF, world


def iris_csv(path: Path) -> Path:
    """The iris table as OpenML's dataset 61 holds it (its column names and labels)."""
    frame = load_iris(as_frame=True).frame
    frame.columns = [name for name, _, _ in IRIS_FEATURES]
    frame["class"] = frame["class"].map(dict(enumerate(IRIS_FEATURES[-1][2])))
    frame.to_csv(path, index=False)
    return path


def _neighbours(output: str) -> set[str]:
    answer = json.loads(output)
    return {n["name"] for rec in answer["recommendations"] for n in rec["neighbors"]}


@pytest.mark.slow
def test_harvested_tasks_are_neighbours_in_recommend(tmp_path: Path) -> None:
    data = iris_csv(tmp_path / "iris.csv")
    iris = load_dataset(data, target="class")
    openml = world()  # OpenML's qualities of iris are the meta-features autometa computes
    openml.datasets[61]["qualities"] = compute_metafeatures(iris.X, iris.y, iris.task_type)
    store = tmp_path / "openml.db"
    with serve(openml) as server, open_store(store) as opened:
        harvest_openml(opened, suite=99, flows=[RF], server=server.url, backoff=0.001)
    base = ["recommend", str(data), "--target", "class", "--model", "random_forest"]
    base += ["--store", str(store), "--top", "10", "--format", "json"]
    plain = CliRunner().invoke(cli, base)
    assert plain.exit_code == 0, plain.output
    assert "iris-task59" in _neighbours(plain.stdout)
    alone = CliRunner().invoke(cli, [*base, "--exclude-self"])
    assert alone.exit_code == 0, alone.output
    assert "iris-task59" not in _neighbours(alone.stdout)
    assert "openml:iris" in json.loads(alone.stdout)["notes"][0]  # its group is left out


def test_downloaded_data_gets_autometa_fingerprint(tmp_path: Path) -> None:
    iris = load_dataset(iris_csv(tmp_path / "iris.csv"), target="class")
    db = tmp_path / "s.db"
    with serve(world()) as server, open_store(db) as store:
        summary = harvest_openml(store, tasks=[59], download_data=True, server=server.url)
        tasks = store.tasks_frame().reset_index().set_index("name")
        meta = store.metafeatures_frame()
    assert summary.errors == [] and summary.evaluations_added == 50  # SVC in a family of its own
    row = tasks.loc["iris-task59"]
    assert row["fingerprint"] == iris.fingerprint  # a local harvest of iris.csv is this task
    assert (row["n_rows"], row["n_features"], row["task_type"]) == (150, 4, "multiclass")
    assert row["provenance"]["data_downloaded"] is True
    expected = compute_metafeatures(iris.X, iris.y, iris.task_type)
    assert meta.loc[row["task_id"], "ClassEntropy"] == pytest.approx(expected["ClassEntropy"])
    # recommend --exclude-self leaves the task out by its fingerprint (docs/recommend.md)
    assert "openml:iris" in Learners(store=str(db)).groups_of(iris.fingerprint)


@pytest.mark.parametrize("openml_first", [True, False], ids=["openml-first", "local-first"])
def test_openml_task_and_local_harvest_of_its_dataset_are_one_task(
    tmp_path: Path, openml_first: bool
) -> None:
    from autometa.harvest import harvest_local
    from autometa.harvest.corpus import read_corpus

    path = iris_csv(tmp_path / "iris.csv")
    index = tmp_path / "index.csv"  # OpenML's dataset 61, not downloaded by the OpenML harvest
    index.write_text("name,path,target,source,source_id\niris,iris.csv,class,openml,61\n")
    with serve(world()) as server, open_store(tmp_path / "s.db") as store:
        steps = [
            lambda: harvest_openml(store, tasks=[59], server=server.url),
            lambda: harvest_local(store, read_corpus(index), {"lightgbm": 2}, n_folds=2,
                                  progress=False),
        ]  # fmt: skip
        for step in steps if openml_first else steps[::-1]:
            step()
        tasks, evaluations = store.tasks_frame(), store.evaluations_frame()
        meta = store.metafeatures_frame()
    assert len(tasks) == 1  # recognised by OpenML dataset id: one iris task for both
    assert set(evaluations["source"]) == {"openml", "local"}
    iris = load_dataset(path, target="class")
    own = compute_metafeatures(iris.X, iris.y, iris.task_type)
    undefined = {name for name, value in own.items() if value is None or value != value}
    assert set(meta.columns[meta.iloc[0].isna()]) == undefined  # OpenML's gaps filled in
