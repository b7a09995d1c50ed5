"""The knowledge base: shipped snapshot and user store merged by natural keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from autometa.cli import cli
from autometa.store import (
    EvaluationRecord,
    KnowledgeBase,
    TaskRecord,
    export_snapshot,
    open_store,
    read_snapshot,
)
from autometa.store.knowledge import knowledge_base, shipped_snapshot_dir, snapshot_of


def _fill(url: str, tasks: list[str], configs: list[str]) -> None:
    with open_store(url) as store:
        for name in tasks:
            tid = store.add_task(
                TaskRecord(name=name, source="test", fingerprint=f"fp-{name}",
                           task_type="binary", target="y", n_rows=10, n_features=2)
            )  # fmt: skip
            store.set_metafeatures(tid, {"NumberOfInstances": 10.0})
            for c in configs:
                cid = store.add_configuration("lightgbm", {"n": c}, "lightgbm-1", f"hash-{c}")
                store.add_evaluations(
                    [
                        EvaluationRecord(tid, cid, fold, "roc_auc", 0.5 + fold / 10)
                        for fold in range(3)
                    ]
                )


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite:///{tmp_path / 'ship.db'}"
    _fill(url, ["a", "b"], ["1", "2"])
    with open_store(url) as store:
        export_snapshot(store, tmp_path / "snap", build_command="test")
    monkeypatch.setenv("AUTOMETA_SNAPSHOT", str(tmp_path / "snap"))
    monkeypatch.setenv("AUTOMETA_STORE", f"sqlite:///{tmp_path / 'user.db'}")
    return tmp_path / "snap"


def test_shipped_snapshot_alone(shipped: Path) -> None:
    assert shipped_snapshot_dir() == shipped
    kb = knowledge_base()  # the user store does not exist yet: not created, not read
    assert len(kb.tasks) == 2 and len(kb.evaluations) == 12
    assert not (shipped.parent / "user.db").exists()


def test_a_plain_path_user_store_is_not_created_by_reading(
    shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOMETA_STORE", str(tmp_path / "plain" / "user.db"))  # no scheme
    assert len(knowledge_base().tasks) == 2
    assert not (tmp_path / "plain").exists()


def test_user_store_is_merged_by_natural_keys(shipped: Path, tmp_path: Path) -> None:
    # the user harvested task "b" again (same fingerprint) plus a new task "c" and config "3"
    _fill(f"sqlite:///{tmp_path / 'user.db'}", ["b", "c"], ["2", "3"])
    kb = knowledge_base()
    assert sorted(kb.tasks["name"]) == ["a", "b", "c"]
    assert sorted(kb.configurations["config_hash"]) == ["hash-1", "hash-2", "hash-3"]
    # a: 2 configs, b: configs 1, 2 (shipped) + 3 (user), c: configs 2, 3 -> 7 pairs x 3 folds
    assert len(kb.evaluations) == 21
    assert not kb.evaluations.duplicated(["task_id", "config_id", "fold", "metric"]).any()
    assert set(kb.evaluations["task_id"]) == set(kb.tasks.index)
    assert set(kb.metafeatures.index) == set(kb.tasks.index)
    only_user = knowledge_base(shipped=False)
    assert sorted(only_user.tasks["name"]) == ["b", "c"]


def test_snapshot_and_store_are_knowledge_bases_with_the_same_frames(tmp_path: Path) -> None:
    import pandas as pd

    from autometa.meta.persist import kb_checksum

    url = f"sqlite:///{tmp_path / 'kb.db'}"
    _fill(url, ["a", "b"], ["1", "2"])
    with open_store(url) as store:
        store.add_evaluations([EvaluationRecord(1, 1, 3, "roc_auc", None, status="error")])
        export_snapshot(store, tmp_path / "snap")
        snap = read_snapshot(tmp_path / "snap")
        assert isinstance(snap, KnowledgeBase) and isinstance(store, KnowledgeBase)
        assert store.manifest == {"source": store.url} and snap.manifest["files"]
        for name in ("tasks", "metafeatures", "configurations", "evaluations"):
            pd.testing.assert_frame_equal(getattr(snap, name), getattr(store, name), obj=name)
        assert len(store.evaluations) == 13  # every status
        for family in (None, "lightgbm"):
            pd.testing.assert_frame_equal(
                snap.configurations_frame(family), store.configurations_frame(family)
            )
        for filters in ({}, {"status": None}, {"family": "lightgbm", "metric": "roc_auc"}):
            pd.testing.assert_frame_equal(
                snap.evaluations_frame(**filters), store.evaluations_frame(**filters)
            )
        # a store without file checksums is identified by its content, as its snapshot_of
        assert kb_checksum(store) == kb_checksum(snapshot_of(store))
    assert not isinstance(object(), KnowledgeBase)


def test_store_info_reports_each_part(shipped: Path, tmp_path: Path) -> None:
    _fill(f"sqlite:///{tmp_path / 'user.db'}", ["c"], ["3"])
    result = CliRunner().invoke(cli, ["store", "info", "--format", "json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["shipped"]["tasks"]["total"] == 2
    assert info["user_store"]["tasks"]["total"] == 1
    assert info["knowledge_base"]["tasks"]["total"] == 3
    assert info["knowledge_base"]["evaluations"]["by_metric"] == {"roc_auc": 15}


@pytest.mark.parametrize("loader", ["load_diabetes", "load_wine"])
def test_shipped_metafeatures_match_what_a_query_computes(loader: str) -> None:
    """No train/serve skew: the snapshot's qualities of a shipped dataset are exactly what
    ``compute_metafeatures`` gives for the same data now (a changed definition of any
    quality, e.g. a landmarker, must come with a recomputed snapshot)."""
    import warnings

    import numpy as np
    from sklearn import datasets

    from autometa.data import load_dataset
    from autometa.metafeatures import compute_metafeatures

    data = getattr(datasets, loader)(as_frame=True)
    y = data.target
    if loader != "load_diabetes":  # the corpus stores class names
        y = y.map(dict(enumerate(data.target_names)))
    dataset = load_dataset(data.data, y)
    kb = knowledge_base(user=False)
    task_ids = kb.tasks.index[kb.tasks["fingerprint"] == dataset.fingerprint]
    assert len(task_ids) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = compute_metafeatures(dataset.X, dataset.y, dataset.task_type, random_state=0)
    stored = kb.metafeatures.loc[task_ids[0]]
    for name, value in fresh.items():
        if value is None:
            assert np.isnan(stored.get(name, np.nan)), name
        else:
            assert stored[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
