"""Parquet snapshots of a store: database-free reading, export and checked import.

:func:`read_snapshot` and :class:`Snapshot` are here; the file format is
``autometa.store._parquet``, writing ``_export`` and importing ``_import`` (their public
names are importable from here too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from autometa.store import _frames
from autometa.store._export import export_snapshot
from autometa.store._import import import_snapshot
from autometa.store._parquet import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    SCHEMAS,
    read_manifest,
    read_table,
)
from autometa.store._validate import check_tasks


class Snapshot:
    """A read-only snapshot; frames are shaped exactly like the Store's frame methods.

    ``evaluations`` may be given as a zero-argument function: the (largest) table is then
    read on first use, so answering from a cached meta-model never loads it.
    """

    def __init__(
        self,
        manifest: dict[str, Any],
        tasks: pd.DataFrame,
        metafeatures: pd.DataFrame,
        configurations: pd.DataFrame,
        evaluations: pd.DataFrame | Callable[[], pd.DataFrame],
    ) -> None:
        self.manifest = manifest
        self.tasks = tasks
        self.metafeatures = metafeatures
        self.configurations = configurations
        self._evaluations = evaluations
        self._lock = threading.Lock()

    @property
    def evaluations(self) -> pd.DataFrame:
        """Every evaluation row, any status; filter with :meth:`evaluations_frame`."""
        with self._lock:
            if callable(self._evaluations):
                self._evaluations = self._evaluations()
            return self._evaluations

    def __repr__(self) -> str:
        return f"Snapshot({len(self.tasks)} tasks, {len(self.configurations)} configurations)"

    def tasks_frame(self) -> pd.DataFrame:
        """A copy of :attr:`tasks`."""
        return self.tasks.copy()

    def metafeatures_frame(self) -> pd.DataFrame:
        """A copy of :attr:`metafeatures`."""
        return self.metafeatures.copy()

    def configurations_frame(self, family: str | None = None) -> pd.DataFrame:
        """A copy of :attr:`configurations`, of one ``family`` when given."""
        c = self.configurations
        return (c if family is None else c[c["family"] == family]).copy()

    def evaluations_frame(
        self,
        *,
        family: str | None = None,
        metric: str | None = None,
        task_type: str | None = None,
        status: str | None = "ok",
    ) -> pd.DataFrame:
        """Same filters and columns as :meth:`Store.evaluations_frame`."""
        return _frames.filter_evaluations(
            self.evaluations,
            self.tasks,
            family=family,
            metric=metric,
            task_type=task_type,
            status=status,
        )


def read_snapshot(directory: str | Path) -> Snapshot:
    """Read a snapshot (checksums verified) without any database; the evaluations table
    is read (and verified: checksum and possible values) on first use. Two tasks with one
    fingerprint or one (source, name) are refused (StoreError)."""
    root = Path(directory)
    manifest = read_manifest(root)
    raw = {t: read_table(root, manifest, t) for t in SCHEMAS if t != "evaluations"}
    check_tasks(raw["tasks"], root / manifest["files"]["tasks"]["path"])
    configs = _frames.shape_configurations(raw["configurations"])

    def evaluations() -> pd.DataFrame:
        evals = read_table(root, manifest, "evaluations").merge(
            configs[["family"]], left_on="config_id", right_index=True, how="left"
        )
        return _frames.shape_evaluations(evals)

    return Snapshot(
        manifest=manifest,
        tasks=_frames.shape_tasks(raw["tasks"]),
        metafeatures=_frames.shape_metafeatures(raw["metafeatures"]),
        configurations=configs,
        evaluations=evaluations,
    )


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "Snapshot",
    "export_snapshot",
    "import_snapshot",
    "read_snapshot",
]
