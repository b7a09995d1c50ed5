"""The OpenML harvester against a loopback OpenML server (openml-python unmocked)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pandas as pd
import pytest
from click.testing import CliRunner

from autometa.cli import cli
from autometa.exceptions import HarvestError
from autometa.harvest.openml import (
    harvest_openml,
    inferred_space,
    match_flow,
    openml_family,
    translate,
)
from autometa.spaces import generic_config_hash
from autometa.store import Snapshot, Store, open_store
from tests.openml_server import OpenMLServer, Run, serve
from tests.openml_world import HGB_PIPE, RF, random_arff, world

FAST = {"backoff": 0.001, "retries": 4}


@pytest.fixture
def server() -> Iterator[OpenMLServer]:
    with serve(world()) as running:
        yield running


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


def _content(store: Store) -> tuple[int, int, int, list[float]]:
    ev = store.evaluations_frame(status=None)
    return (
        len(store.tasks_frame()),
        len(store.configurations_frame()),
        len(ev),
        sorted(ev["value"].round(4)),
    )


def test_suite_with_two_flows_end_to_end(store: Store, server: OpenMLServer) -> None:
    summary = harvest_openml(store, suite=99, flows=[RF, 200], server=server.url, **FAST)
    tasks = store.tasks_frame().reset_index().set_index("name")
    assert sorted(tasks.index) == ["credit-g-task31", "diabetes-task37", "iris-task59"]
    iris = tasks.loc["iris-task59"]
    assert (iris["task_type"], iris["n_rows"], iris["n_features"]) == ("multiclass", 150, 4)
    assert iris["source"] == "openml" and iris["source_id"] == "61"
    assert iris["provenance"]["openml_task_id"] == 59 and iris["provenance"]["server"]
    meta = store.metafeatures_frame()
    assert meta.loc[tasks.loc["credit-g-task31", "task_id"], "NumberOfInstances"] == 1000
    assert meta.loc[tasks.loc["diabetes-task37", "task_id"]].isna().all()  # no qualities
    families = store.configurations_frame()["family"].value_counts().to_dict()
    assert set(families) == {"random_forest", "hist_gradient_boosting"}
    ev = store.evaluations_frame()
    assert set(ev["fold"]) == set(range(10)) and set(ev["metric"]) == {"roc_auc"}
    # flow name = both versions 100 and 101; the SVC and LogisticRegression flows are not asked
    assert summary.unmapped_flows == {} and summary.setups_skipped == 3  # fractional leaf
    assert summary.tasks_added == 3 and summary.evaluations_added == len(ev) == 3 * 4 * 10
    assert summary.errors == []


def test_rerun_adds_nothing_and_skips_stored_tasks(
    sqlite_store: Store, server: OpenMLServer
) -> None:
    harvest_openml(sqlite_store, suite=99, server=server.url, **FAST)
    before = _content(sqlite_store)
    tasks_fetched = server.count("task/")
    again = harvest_openml(sqlite_store, suite=99, server=server.url, **FAST)
    assert _content(sqlite_store) == before
    assert again.evaluations_added == 0 and again.tasks_stored == 3
    assert server.count("task/") == tasks_fetched  # stored tasks are not downloaded again


def test_interrupted_harvest_resumes_to_the_same_store(tmp_path, server: OpenMLServer) -> None:
    with serve(world()) as clean_server, open_store(tmp_path / "clean.db") as clean:
        harvest_openml(clean, suite=99, server=clean_server.url, page_size=5, **FAST)
        expected = _content(clean)
    with open_store(tmp_path / "cut.db") as cut:
        server.faults.down_after = 12  # the server goes away mid-harvest
        with pytest.raises(HarvestError, match="failed 5 times"):
            harvest_openml(cut, suite=99, server=server.url, page_size=5, **FAST)
        partial = _content(cut)
        assert 0 < partial[2] < expected[2]
        server.faults.down_after = None
        harvest_openml(cut, suite=99, server=server.url, page_size=5, **FAST)
        assert _content(cut) == expected


def test_server_failing_every_third_request(sqlite_store: Store, server: OpenMLServer) -> None:
    server.faults.fail_every = 3
    summary = harvest_openml(sqlite_store, suite=99, server=server.url, page_size=7, **FAST)
    assert summary.errors == [] and summary.requests_retried > 0
    with serve(world()) as clean_server, open_store("sqlite://") as clean:
        harvest_openml(clean, suite=99, server=clean_server.url, page_size=7, **FAST)
        assert _content(sqlite_store) == _content(clean)


def test_412_on_one_task_is_one_line_and_the_others_go_on(
    sqlite_store: Store, server: OpenMLServer
) -> None:
    server.faults.errors["task/31"] = (151, "Unknown task")
    summary = harvest_openml(sqlite_store, suite=99, server=server.url, **FAST)
    assert summary.errors == ["task 31: OpenML error 151: Unknown task"]
    assert summary.tasks_added == 2


@pytest.mark.parametrize("status", [404, 500])
def test_data_file_that_cannot_be_downloaded_fails_its_task_only(
    sqlite_store: Store, server: OpenMLServer, status: int
) -> None:
    server.data.datasets[31]["arff"] = random_arff(server.data.datasets[31], 40)
    server.faults.status["/data/v1/download/61/"] = status  # iris's data file
    summary = harvest_openml(
        sqlite_store, tasks=[59, 31], download_data=True, server=server.url, **FAST
    )
    assert server.count("/data/v1/download/61/") == FAST["retries"] + 1
    assert len(summary.errors) == 1 and "\n" not in summary.errors[0]
    assert summary.errors[0].startswith("task 59: data of dataset 61: ")
    assert list(sqlite_store.tasks_frame()["name"]) == ["credit-g-task31"]
    assert summary.tasks_added == 1 and summary.evaluations_added == 50  # SVC 300 included


def test_truncated_xml_reply_is_retried(sqlite_store: Store, server: OpenMLServer) -> None:
    server.faults.truncate = {"evaluation/list": 1, "data/qualities/31": 1}
    summary = harvest_openml(sqlite_store, suite=99, server=server.url, **FAST)
    assert summary.errors == [] and summary.requests_retried == 2
    assert server.faults.truncate == {"evaluation/list": 0, "data/qualities/31": 0}
    credit = (
        sqlite_store.tasks_frame().reset_index().set_index("name").loc["credit-g-task31", "task_id"]
    )
    assert sqlite_store.metafeatures_frame().loc[credit, "NumberOfInstances"] == 1000


def test_flows_without_a_family_are_stored_as_families_of_their_own(
    sqlite_store: Store, server: OpenMLServer
) -> None:
    summary = harvest_openml(sqlite_store, tasks=[59], flows=[300, 400], server=server.url)
    assert summary.unmapped_flows == {"sklearn.svm.classes.SVC": 2}
    assert summary.setups_skipped == 1  # LogisticRegression with an L1 penalty
    assert summary.setups_own_family == 1
    configs = sqlite_store.configurations_frame()
    (svc,) = configs.itertuples()
    assert (svc.family, svc.params, svc.space_version) == (
        "openml:SVC",
        {"C": 1.0, "kernel": "rbf"},
        "openml",
    )
    assert svc.config_hash == generic_config_hash("openml:SVC", svc.params)
    ev = sqlite_store.evaluations_frame()
    assert set(ev["family"]) == {"openml:SVC"} and summary.evaluations_added == len(ev) == 10
    assert inferred_space(sqlite_store, "openml:SVC") == {
        "C": {"type": "float", "min": 1.0, "max": 1.0, "nullable": False},
        "kernel": {"type": "categorical", "values": ["rbf"], "nullable": False},
    }
    again = harvest_openml(sqlite_store, tasks=[59], flows=[300], server=server.url)
    assert again.evaluations_added == 0 and len(sqlite_store.configurations_frame()) == 1


def test_openml_family_names_and_inferred_spaces() -> None:
    assert openml_family("sklearn.svm.classes.SVC") == "openml:SVC"
    pipe = (
        "sklearn.pipeline.Pipeline(imputer=sklearn.impute.SimpleImputer,clf=xgboost.XGBClassifier)"
    )
    assert openml_family(pipe) == "openml:XGBClassifier"
    long = "weka." + "VeryLong" * 10
    family = openml_family(long)
    assert len(family) == 64 and family == openml_family(long) != openml_family(long + "2")
    assert family.startswith("openml:VeryLong") and family[-9] == "-"
    configs = pd.DataFrame(
        {
            "family": ["openml:K"] * 3,
            "params": [
                {"k": 1, "w": "uniform", "p": True, "x": 0.5},
                {"k": 9, "w": "distance", "p": False, "x": 2},
                {"k": 3, "w": None, "p": True},
            ],
        }
    )
    empty = pd.DataFrame()
    space = inferred_space(Snapshot({}, empty, empty, configs, empty), "openml:K")
    assert space == {
        "k": {"type": "int", "min": 1, "max": 9, "nullable": False},
        "p": {"type": "bool", "values": [False, True], "nullable": False},
        "w": {"type": "categorical", "values": ["distance", "uniform"], "nullable": True},
        "x": {"type": "float", "min": 0.5, "max": 2, "nullable": True},
    }


def test_store_verify_export_import_and_info_take_openml_families(
    tmp_path, server: OpenMLServer
) -> None:
    db = tmp_path / "s.db"
    with open_store(db) as store:
        harvest_openml(store, tasks=[59], flows=[RF, 300], server=server.url)
    runner = CliRunner()
    verify = runner.invoke(cli, ["store", "verify", "--store", str(db), "--format", "json"])
    assert verify.exit_code == 0, verify.output
    info = runner.invoke(cli, ["store", "info", "--store", str(db), "--format", "json"])
    assert info.exit_code == 0, info.output
    spaces = json.loads(info.output)["inferred_spaces"]
    assert set(spaces) == {"openml:SVC"} and spaces["openml:SVC"]["C"]["type"] == "float"
    out = tmp_path / "export"
    export = runner.invoke(cli, ["store", "export", str(out), "--store", str(db)])
    assert export.exit_code == 0, export.output
    copy = tmp_path / "copy.db"
    imported = runner.invoke(cli, ["store", "import", str(out), "--store", str(copy)])
    assert imported.exit_code == 0, imported.output
    with open_store(db) as store, open_store(copy) as again:
        assert _snapshot(again) == _snapshot(store)
        assert "openml:SVC" in set(again.configurations_frame()["family"])


def test_translation_rules() -> None:
    assert match_flow(HGB_PIPE).family == "hist_gradient_boosting"
    assert match_flow("sklearn.svm.classes.SVC") is None
    config, clipped = translate(
        "random_forest",
        {"n_estimators": "1000", "max_features": '"sqrt"', "max_depth": "10", "oob_score": "true"},
        "binary",
        16,
    )
    assert clipped and config["n_estimators"] == 256 and config["max_features"] == 0.25
    assert config["max_depth"] in (8, 12)
    lgbm, clipped = translate(
        "lightgbm", {"feature_fraction": "0.5", "reg_alpha": "0"}, "binary", 5
    )
    assert not clipped and lgbm["colsample_bytree"] == 0.5


def test_cli_json_and_user_mistakes(tmp_path, server: OpenMLServer) -> None:
    store = str(tmp_path / "s.db")
    base = ["harvest", "openml", "--server", server.url, "--store", store]
    ok = CliRunner().invoke(cli, [*base, "--task", "59", "--flow", RF, "--format", "json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["evaluations_added"] == 30
    bad = CliRunner().invoke(cli, [*base, "--task", "59", "--function", "f_measure"])
    assert bad.exit_code == 2 and "unknown --function 'f_measure'" in bad.output
    none = CliRunner().invoke(cli, [*base])
    assert none.exit_code == 2 and "--task" in none.output
    data = CliRunner().invoke(cli, [*base, "--task", "59", "--flow", "200", "--download-data"])
    assert data.exit_code == 0, data.output
    flow_alone = CliRunner().invoke(cli, [*base, "--flow", "200", "--max-evaluations", "2"])
    assert flow_alone.exit_code == 0 and "2 OpenML runs read" in flow_alone.output
    flow = CliRunner().invoke(cli, [*base, "--task", "59", "--flow", "no.Such"])
    assert flow.exit_code == 2 and "no flow named 'no.Such'" in flow.output


def test_flow_alone_harvests_every_task_it_ran_on(tmp_path, server: OpenMLServer) -> None:
    server.data.tasks[100] = {"data_id": 61, "target": "class", "type_id": 3}  # learning curve
    server.data.runs.append(Run(9999, 100, 1001, 100, {"area_under_roc_curve": [[0.9] * 10]}))
    with open_store(tmp_path / "flow.db") as alone, open_store(tmp_path / "suite.db") as suite:
        summary = harvest_openml(alone, flows=[RF], server=server.url, page_size=7, **FAST)
        harvest_openml(suite, suite=99, flows=[RF], server=server.url, **FAST)
        assert _content(alone) == _content(suite)
        assert (summary.tasks_added, summary.tasks_skipped, summary.errors) == (3, 1, [])
    with open_store(tmp_path / "few.db") as few:
        bounded = harvest_openml(few, flows=[100], max_evaluations=5, server=server.url, **FAST)
        assert bounded.runs == 5 and bounded.tasks_added == 1


def _snapshot(store: Store) -> dict[str, list[tuple]]:
    """The store's rows by content (names and hashes, not ids)."""
    tasks = store.tasks_frame()
    configs = store.configurations_frame()
    ev = store.evaluations_frame(status=None)
    names, hashes = tasks["name"], configs["config_hash"]
    rows = [
        (names[r.task_id], hashes[r.config_id], r.fold, r.metric, round(r.value, 6), r.status)
        for r in ev.itertuples()
    ]
    return {
        "tasks": sorted(zip(tasks["name"], tasks["fingerprint"], strict=True)),
        "configurations": sorted(zip(configs["family"], configs["config_hash"], strict=True)),
        "evaluations": sorted(rows),
    }


def test_harvest_killed_mid_page_resumes_to_a_clean_harvest(tmp_path, server: OpenMLServer) -> None:
    """``kill -9`` of the command while the second task's page is in flight (its setups
    asked for, its evaluations not yet written); the same command again completes it."""
    db = tmp_path / "killed.db"
    command = [sys.executable, "-m", "autometa", "harvest", "openml", "--suite", "99"]
    command += ["--server", server.url, "--store", str(db), "--quiet"]
    server.faults.delay = 0.15  # each reply waits, so the kill lands while one is awaited
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while server.count("setup/list") < 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "the harvest did not reach its second page"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    with open_store(db) as killed:
        partial = _snapshot(killed)
    server.faults.delay = 0.0
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    with serve(world()) as clean_server, open_store(tmp_path / "clean.db") as clean:
        harvest_openml(clean, suite=99, server=clean_server.url, **FAST)
        expected = _snapshot(clean)
    assert 0 < len(partial["evaluations"]) < len(expected["evaluations"])
    with open_store(db) as resumed:
        result = _snapshot(resumed)
    assert result == expected
    assert all(len(set(rows)) == len(rows) for rows in result.values())  # no duplicates


@pytest.mark.slow  # about 20 s: model auto fits the meta-learners of the stored families
def test_recommend_model_auto_leaves_openml_families_out(tmp_path, server: OpenMLServer) -> None:
    from sklearn.datasets import load_iris

    from autometa import Recommender
    from autometa.spaces import FAMILIES

    db = tmp_path / "svc.db"
    with open_store(db) as store:
        harvest_openml(store, tasks=[59], flows=[300], server=server.url)
        assert set(store.configurations_frame()["family"]) == {"openml:SVC"}
    X, y = load_iris(return_X_y=True, as_frame=True)
    result = Recommender(shipped=True, store=str(db)).recommend(X, y, model="auto", k=1)
    assert result.model in FAMILIES
    assert any(note.startswith("model auto: chose") for note in result.notes)
