"""The knowledge base: the shipped snapshot and the user's own store, used side by side.

A fresh install reads the shipped snapshot (Parquet files in ``metadata_store/snapshot``)
directly: no network, no database, no build step. Evaluations the user harvests go to a
writable store (``open_store()``) and are merged in by natural keys — tasks by content
fingerprint, configurations by config hash — so the two never clash on ids.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from autometa.exceptions import StoreError
from autometa.store._url import resolve_url, sqlite_file
from autometa.store.base import KnowledgeBase
from autometa.store.snapshot import Snapshot, read_snapshot

#: Environment variable naming another snapshot folder to use as the shipped one.
SNAPSHOT_ENV = "AUTOMETA_SNAPSHOT"
EVALUATION_KEY = ["task_id", "config_id", "fold", "metric", "source"]


def shipped_snapshot_dir() -> Path | None:
    """The shipped snapshot: $AUTOMETA_SNAPSHOT, the source tree, or the installed copy."""
    candidates = []
    if os.environ.get(SNAPSHOT_ENV):
        candidates.append(Path(os.environ[SNAPSHOT_ENV]))
    candidates.append(Path(__file__).resolve().parents[2] / "metadata_store" / "snapshot")
    candidates.append(Path(sys.prefix) / "share" / "autometa" / "snapshot")
    for path in candidates:
        if (path / "manifest.json").is_file():
            return path
    return None


def knowledge_base(
    store_url: str | None = None, *, shipped: bool = True, user: bool = True
) -> Snapshot:
    """The merged view the meta-learner trains on.

    ``store_url`` names the user's store (default: the user store, read only if it exists;
    a named SQLite file must exist); ``shipped``/``user`` switch either source off. Raises
    StoreError when nothing is left.
    """
    sources: list[Snapshot] = []
    if shipped and (path := shipped_snapshot_dir()) is not None:
        sources.append(read_snapshot(path))
    if user and (store_url is not None or user_store_exists()):
        from autometa.store.sql import open_store

        # Read only: a mistyped --store must not create an empty store and hide the typo,
        # and a file that is not a store is refused, never written to.
        with open_store(store_url, read_only=True) as store:
            sources.append(snapshot_of(store))
    if not sources:
        raise StoreError(
            "no knowledge base found: the shipped snapshot is missing and no user store "
            f"exists; set {SNAPSHOT_ENV} or pass --store URL"
        )
    return sources[0] if len(sources) == 1 else merge(sources)


def user_store_exists() -> bool:
    """Whether the default user store (or $AUTOMETA_STORE) is there to be read."""
    path = sqlite_file(resolve_url(None))  # a plain path in $AUTOMETA_STORE too
    return path is None or path.is_file()


def snapshot_of(kb: KnowledgeBase) -> Snapshot:
    """Read a knowledge base (a store) into memory, as a snapshot."""
    return Snapshot(
        manifest=dict(kb.manifest),
        tasks=kb.tasks,
        metafeatures=kb.metafeatures,
        configurations=kb.configurations,
        evaluations=kb.evaluations,
    )


def merge(sources: Sequence[Snapshot]) -> Snapshot:
    """Union of snapshots keyed by fingerprint and config hash; earlier sources win."""
    task_ids = _new_ids([s.tasks["fingerprint"] for s in sources])
    config_ids = _new_ids([s.configurations["config_hash"] for s in sources])
    tasks, metafeatures, configurations, evaluations = [], [], [], []
    for source, tmap, cmap in zip(sources, task_ids, config_ids, strict=True):
        tasks.append(source.tasks.rename(index=tmap))
        metafeatures.append(source.metafeatures.rename(index=tmap))
        configurations.append(source.configurations.rename(index=cmap))
        ev = source.evaluations.copy()
        ev["task_id"] = ev["task_id"].map(tmap)
        ev["config_id"] = ev["config_id"].map(cmap)
        evaluations.append(ev)
    return Snapshot(
        manifest={"sources": [s.manifest for s in sources]},
        tasks=_first(pd.concat(tasks)),
        metafeatures=_first(pd.concat(metafeatures)),
        configurations=_first(pd.concat(configurations)),
        evaluations=pd.concat(evaluations, ignore_index=True).drop_duplicates(EVALUATION_KEY),
    )


def _new_ids(keys_per_source: Sequence[pd.Series]) -> list[dict[int, int]]:
    """For each source, a map old id -> merged id, equal keys sharing one merged id."""
    merged: dict[str, int] = {}
    maps = []
    for keys in keys_per_source:
        mapping = {}
        for old_id, key in keys.items():
            mapping[int(old_id)] = merged.setdefault(str(key), len(merged) + 1)
        maps.append(mapping)
    return maps


def _first(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[~frame.index.duplicated(keep="first")].sort_index()


def info(snapshot: Snapshot) -> dict[str, Any]:
    """Counts like ``Store.info`` for an in-memory snapshot or knowledge base."""
    tasks, configs, evals = snapshot.tasks, snapshot.configurations, snapshot.evaluations

    def counts(series: pd.Series) -> dict[str, int]:
        return {str(k): int(v) for k, v in series.value_counts().sort_index().items()}

    return {
        "tasks": {
            "total": len(tasks),
            "by_task_type": counts(tasks["task_type"]),
            "by_source": counts(tasks["source"]),
        },
        "metafeatures": {
            "values": int(snapshot.metafeatures.notna().sum().sum()),
            "tasks": len(snapshot.metafeatures),
        },
        "configurations": {"total": len(configs), "by_family": counts(configs["family"])},
        "evaluations": {
            "total": len(evals),
            "by_family": counts(evals["family"]),
            "by_metric": counts(evals["metric"]),
            "by_source": counts(evals["source"]),
            "by_status": counts(evals["status"]),
        },
    }
