"""Concurrent harvests of one store share the units: each is claimed before it runs."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from autometa.harvest import harvest_local, local, read_corpus
from autometa.harvest._claims import owner_is_gone, owner_name
from autometa.store import Claim, EvaluationRecord, TaskRecord, export_snapshot, open_store
from autometa.store import schema as s
from tests.test_harvest import _expected_rows, _write_corpus


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return _write_corpus(tmp_path)


def _claims(url: str) -> list[Any]:
    """The claims rows of the store at ``url``, read past the Store API."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(s.claims)).all())
    finally:
        engine.dispose()


@pytest.mark.slow
def test_two_concurrent_harvests_run_each_unit_once(corpus: Path, store_url: str) -> None:
    families = {"lightgbm": 12}
    command = [
        sys.executable, "-m", "autometa.cli", "harvest", "local", str(corpus), "--store",
        store_url, "--families", "lightgbm=12", "--quiet", "--format", "json",
    ]  # fmt: skip
    processes = [  # one of them with joblib workers, which claim from joblib's result thread
        subprocess.Popen(command + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for extra in ([], ["--workers", "2"])
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err for _, err in outputs]
    summaries = [json.loads(out) for out, _ in outputs]
    units = 3 * families["lightgbm"]
    for summary in summaries:
        assert summary["units_total"] == units, summary["failed_tasks"]
        done_here = summary["units_run"] + summary["units_skipped"]
        assert done_here + summary["units_claimed_elsewhere"] == units
    # no unit ran twice, and both shared the work
    assert sum(summary["units_run"] for summary in summaries) == units
    assert min(summary["units_run"] for summary in summaries) > 0
    assert sum(summary["rows_written"] for summary in summaries) == _expected_rows(families)
    with open_store(store_url) as store:
        frame = store.evaluations_frame(status=None)
    assert len(frame) == _expected_rows(families)
    assert not frame.duplicated(["task_id", "config_id", "fold", "metric"]).any()
    assert _claims(store_url) == []  # each claim went with its unit's rows


def _unit(store: Any) -> tuple[int, int]:
    task = TaskRecord("t", "test", "fp", "regression", "y", 10, 2)
    config = store.add_configuration("linear", {"alpha": 1.0}, "1", "hash")
    return store.add_task(task), config


def test_a_stale_claim_is_taken_over(store: Any) -> None:
    task_id, config_id = _unit(store)
    folds = [0, 1, 2]
    a, b, c = (Claim(task_id, config_id, 0, owner) for owner in ("a", "b", "c"))
    assert store.claim(a, folds, stale_after=3600) == "claimed"
    assert store.claim(a, folds, stale_after=3600) == "claimed"  # its own
    assert store.claim(b, folds, stale_after=3600) == "held"
    time.sleep(0.3)
    assert store.claim(b, folds, stale_after=0.1) == "taken_over"  # a's is 0.3 s old
    assert store.claim(a, folds, stale_after=3600) == "held"
    store.add_evaluations([], release=a)  # a's release leaves b's claim alone
    assert store.claim(c, folds, stale_after=3600) == "held"
    assert store.claim(c, folds, stale_after=3600, reclaim=lambda owner: owner == "b") == (
        "taken_over"
    )
    assert store.release_claims("b") == 0 and store.release_claims("c") == 1
    # a unit whose folds are all stored is done: no claim is kept
    store.add_evaluations([EvaluationRecord(task_id, config_id, f, "rmse", 1.0) for f in folds])
    assert store.claim(a, folds, stale_after=3600) == "done"
    assert store.claim(b, folds, stale_after=3600) == "done"
    assert store.claim(Claim(task_id, config_id, 1, "a"), [3, 4, 5], stale_after=3600) == (
        "claimed"  # repeat 1 is another unit
    )


def test_a_claim_of_a_process_that_is_gone_is_taken_over_at_once() -> None:
    code = "import os; print(os.getpid())"
    ended = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    mine = owner_name()
    assert mine.split("/")[1] == str(os.getpid()) and not owner_is_gone(mine)
    gone = mine.replace(f"/{os.getpid()}/", f"/{ended.stdout.strip()}/", 1)
    assert owner_is_gone(gone)
    elsewhere = gone.rsplit("/", 2)[0] + "/000000000000/abcd1234"  # another machine
    assert not owner_is_gone(elsewhere) and not owner_is_gone("not an owner")


@pytest.mark.filterwarnings("ignore:.*still being processed by the workers:UserWarning")
def test_an_interrupted_harvest_releases_its_claims(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    rows_for, calls = local.rows_for, []

    def interrupted(unit: Any, results: Any) -> list[Any]:
        calls.append(unit)
        if len(calls) == 2:
            assert len(_claims(url)) > 1  # the units in flight are claimed
            raise KeyboardInterrupt
        return rows_for(unit, results)

    monkeypatch.setattr(local, "rows_for", interrupted)
    with open_store(url) as store, pytest.raises(KeyboardInterrupt):
        harvest_local(store, read_corpus(corpus), {"lightgbm": 4}, workers=2, progress=False)
    assert _claims(url) == []
    monkeypatch.setattr(local, "rows_for", rows_for)
    with open_store(url) as store:
        summary = harvest_local(store, read_corpus(corpus), {"lightgbm": 4}, progress=False)
    assert (summary.units_skipped, summary.units_run, summary.units_claimed_elsewhere) == (1, 11, 0)


def test_an_older_store_gets_the_claims_table_and_snapshots_ignore_it(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with open_store(db) as store:
        task_id, config_id = _unit(store)
        store.add_evaluations([EvaluationRecord(task_id, config_id, 0, "rmse", 1.0)])
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE claims")  # a store written before claims existed
    with open_store(db, read_only=True) as store:
        assert len(store.evaluations_frame()) == 1
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "claims" not in tables  # a reader adds nothing
    with open_store(db) as store:
        assert len(store.evaluations_frame()) == 1 and store.tasks_frame().index[0] == task_id
        assert store.claim(Claim(task_id, config_id, 0, "a"), [0, 1], stale_after=60) == "claimed"
        manifest = export_snapshot(store, tmp_path / "snap")
    assert set(manifest["files"]) == {"tasks", "metafeatures", "configurations", "evaluations"}
    assert len(_claims(f"sqlite:///{db}")) == 1
