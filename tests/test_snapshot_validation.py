"""Snapshot content checks: impossible scores and rows that would merge are refused on
import (and on database-free reading), even when the manifest's checksums match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from autometa.cli import cli
from autometa.exceptions import StoreError
from autometa.store import (
    EvaluationRecord,
    Store,
    TaskRecord,
    export_snapshot,
    import_snapshot,
    open_store,
    read_snapshot,
)
from tests.test_store import _rewrite


def _seed(store: Store) -> None:
    """A binary task (roc_auc, log_loss) and a regression task (rmse, r2), 2 configurations
    x 2 folds each: 16 evaluations with the project's real metric names."""
    binary = store.add_task(TaskRecord("b", "keel", "fp-b", "binary", "y", 100, 4))
    regression = store.add_task(TaskRecord("r", "keel", "fp-r", "regression", "y", 80, 3))
    configs = [store.add_configuration("lgbm", {"n": n}, "1", f"h{n}") for n in (1, 2)]
    scores = {binary: {"roc_auc": 0.9, "log_loss": 0.3}, regression: {"rmse": 2.5, "r2": 0.4}}
    rows = [
        EvaluationRecord(task, config, fold, metric, value, fit_seconds=0.1)
        for task, metrics in scores.items()
        for config in configs
        for fold in (0, 1)
        for metric, value in metrics.items()
    ]
    assert store.add_evaluations(rows) == 16


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    with open_store(tmp_path / "source.db") as source:
        _seed(source)
        export_snapshot(source, tmp_path / "snap")
    return tmp_path / "snap"


def _set(metric: str, column: str, value: float, count: int = 1) -> Any:
    """An edit of evaluations.parquet: ``column`` of the first ``count`` rows of ``metric``."""

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        rows = frame.index[frame["metric"] == metric][:count]
        frame.loc[rows, column] = value
        return frame

    return change


def _refused(snap: Path, target_path: Path, *fragments: str) -> str:
    """Import ``snap`` into a new store: StoreError with ``fragments``, nothing written."""
    with open_store(target_path) as target:
        with pytest.raises(StoreError) as err:
            import_snapshot(snap, target)
        counts = target.info()
    assert counts["tasks"]["total"] == counts["evaluations"]["total"] == 0
    message = str(err.value)
    assert len(message.splitlines()) == 1
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.mark.parametrize(
    ("metric", "column", "value", "why"),
    [
        ("rmse", "value", -3e307, "value -3e+307 < 0"),  # a flipped sign/exponent bit
        ("roc_auc", "value", 1.5, "value 1.5 > 1"),
        ("log_loss", "value", -0.2, "value -0.2 < 0"),
        ("r2", "value", 7.0, "value 7 > 1"),
        ("rmse", "value", np.inf, "value inf"),
        ("roc_auc", "fit_seconds", -4.0, "fit_seconds -4 < 0"),
    ],
)
def test_import_refuses_impossible_values(
    snap: Path, tmp_path: Path, metric: str, column: str, value: float, why: str
) -> None:
    _rewrite(snap, "evaluations", _set(metric, column, value, count=2))  # sha256 matches
    message = _refused(snap, tmp_path / "t.db", "2 rows hold impossible values", why)
    assert f"metric {metric}, status ok)" in message


def _with_values(snap: Path, values: list[float | None]) -> None:
    """Rewrite evaluations.parquet's value column through Arrow (pandas would turn NaN
    into a missing value) and re-checksum it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(snap / "evaluations.parquet")
    index = table.column_names.index("value")
    sink = pa.BufferOutputStream()
    pq.write_table(table.set_column(index, "value", pa.array(values, pa.float64())), sink)
    _rewrite(snap, "evaluations", sink.getvalue().to_pybytes())


def test_a_real_nan_is_refused_but_a_missing_value_is_not(snap: Path, tmp_path: Path) -> None:
    values = read_snapshot(snap).evaluations["value"].tolist()
    _with_values(snap, [float("nan"), *values[1:]])  # export never writes a NaN value
    _refused(snap, tmp_path / "t.db", "1 rows hold impossible values", "value nan")
    _with_values(snap, [None, *values[1:]])  # a metric undefined on its fold: stored empty
    with open_store(tmp_path / "ok.db") as target:
        assert import_snapshot(snap, target)["evaluations"] == 16


def test_reading_a_damaged_snapshot_refuses_its_evaluations(snap: Path) -> None:
    _rewrite(snap, "evaluations", _set("rmse", "value", -3e307))
    snapshot = read_snapshot(snap)  # tasks and configurations are fine
    with pytest.raises(StoreError, match="1 rows hold impossible values"):
        snapshot.evaluations_frame()


def test_import_refuses_two_tasks_sharing_a_fingerprint(snap: Path, tmp_path: Path) -> None:
    _rewrite(snap, "tasks", lambda d: d.assign(fingerprint="fp-b"))
    _refused(
        snap,
        tmp_path / "t.db",
        "tasks.parquet: 2 rows share their fingerprint",
        "task_id 1, 2 share fingerprint fp-b",
        "would be merged into one task",
    )
    with pytest.raises(StoreError, match="share their fingerprint"):
        read_snapshot(snap)  # the database-free reader refuses it too


@pytest.mark.parametrize(
    ("table", "change", "fragment"),
    [
        ("tasks", lambda d: d.assign(name="b"), "2 rows share their source/name"),
        ("configurations", lambda d: d.assign(config_hash="h1"), "share their config_hash"),
        ("evaluations", lambda d: d.assign(fold=0), "share their task_id/config_id/fold"),
        ("metafeatures", None, ""),
    ],
)
def test_import_refuses_keys_that_would_merge_silently(
    snap: Path, tmp_path: Path, table: str, change: Any, fragment: str
) -> None:
    if change is None:  # this snapshot has no metafeatures; add a repeated pair
        frame = pd.DataFrame({"task_id": [1, 1], "name": ["n", "n"], "value": [1.0, 2.0]})
        change = lambda _: frame  # noqa: E731
        fragment = "share their task_id/name"
    _rewrite(snap, table, change)
    _refused(snap, tmp_path / "t.db", fragment)


def test_import_refuses_params_that_differ_from_their_checksum(snap: Path, tmp_path: Path) -> None:
    _rewrite(snap, "configurations", lambda d: d.assign(params='{"n": 9}'))
    _refused(snap, tmp_path / "t.db", "differ from their params_checksum", "config_id 1, 2")


def test_import_refuses_a_config_hash_stored_for_other_params(snap: Path, tmp_path: Path) -> None:
    with open_store(tmp_path / "t.db") as target:
        target.add_configuration("lgbm", {"n": 99}, "1", "h1")
        with pytest.raises(StoreError, match=r"stored for other params or family, e\.g\. h1"):
            import_snapshot(snap, target)
        assert target.info()["evaluations"]["total"] == 0


def test_store_import_of_a_damaged_snapshot_is_one_line_exit_2(snap: Path, tmp_path: Path) -> None:
    _rewrite(snap, "evaluations", _set("rmse", "value", -3e307))
    result = CliRunner().invoke(
        cli, ["store", "import", str(snap), "--store", str(tmp_path / "t.db")]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "1 rows hold impossible values" in lines[0]


def test_verify_reports_scores_outside_their_range(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        _seed(store)
        store.add_evaluations([EvaluationRecord(1, 1, 5, "roc_auc", 1.5)])
        report = store.verify()
    assert not report["ok"]
    (problem,) = [p for p in report["problems"] if p["check"] == "out_of_range_values"]
    assert problem["count"] == 1
