"""Registering a corpus dataset as a store task, and loading it (once per file version)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from autometa.exceptions import HarvestError
from autometa.harvest.corpus import CorpusEntry

if TYPE_CHECKING:
    from autometa.store.sql import Store


def _load(path: str, target: str | None, task_type: str | None) -> Any:
    """Load a corpus dataset, once per worker process for each version of the file (its
    size and modification time are part of the cache key, so an edited file is reread)."""
    try:
        stat = os.stat(path)
        version: tuple[int, ...] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    except OSError:
        version = ()  # load_dataset says what is wrong with the path
    return _load_version(path, target, task_type, version)


@lru_cache(maxsize=4)
def _load_version(
    path: str, target: str | None, task_type: str | None, version: tuple[int, ...]
) -> Any:
    from autometa.data import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset(path, target=target, task=task_type)


def register_task(
    store: Store, entry: CorpusEntry, *, seed: int, described: Mapping[int, set[str]]
) -> tuple[int, str, str]:
    """Add a corpus entry and its meta-features to the store; returns (task id, task type,
    fingerprint).

    ``described``: the quality names already stored per task id. A stored task gets only
    the qualities it lacks (e.g. a landmarker added in a later release); values already
    stored are kept as they are. Data whose (source, name) is stored with another
    fingerprint (the file changed) is refused with HarvestError.
    """
    from autometa.metafeatures import compute_metafeatures, metafeature_names

    dataset = _load(entry.path, entry.target, entry.task_type)
    existing = store.get_task(fingerprint=dataset.fingerprint)
    twin = None if existing is not None else _openml_twin(store, entry, dataset)
    existing = existing or twin
    if existing is not None and existing.id is not None:
        task_id = existing.id
    else:
        task_id = _add_task(store, entry, dataset, seed)
    known = described.get(task_id, set())
    if twin is not None:  # OpenML's qualities: fill in those OpenML did not compute
        stored = store.metafeatures_frame()
        row = stored.loc[task_id] if task_id in stored.index else None
        known = set() if row is None else {k for k in known if k in row and row[k] == row[k]}
    missing = set(metafeature_names(dataset.task_type)) - known
    if missing:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = compute_metafeatures(
                dataset.X, dataset.y, dataset.task_type, random_state=seed
            )
        store.set_metafeatures(task_id, {k: v for k, v in values.items() if k in missing})
    return task_id, dataset.task_type, dataset.fingerprint


def _openml_twin(store: Store, entry: CorpusEntry, dataset: Any) -> Any:
    """The task an OpenML harvest stored for this entry's data without downloading it (by
    OpenML dataset id and target), when the entry says it is OpenML's dataset
    (source ``openml``, source_id its dataset id); None otherwise."""
    from autometa.harvest.openml._tasks import SOURCE, fingerprint

    if entry.source != SOURCE or not str(entry.source_id or "").isdigit():
        return None
    twin = store.get_task(fingerprint=fingerprint(int(entry.source_id), dataset.target))
    return twin if twin is not None and twin.task_type == dataset.task_type else None


def _add_task(store: Store, entry: CorpusEntry, dataset: Any, seed: int) -> int:
    """Store a new task for ``entry``; HarvestError when its name holds other data."""
    from autometa.store import TaskRecord

    stored = store.get_task(name=entry.name, source=entry.source)
    if stored is not None and stored.id is not None and stored.fingerprint == dataset.fingerprint:
        return stored.id  # a concurrent harvest registered it since our look-up
    if stored is not None:
        raise HarvestError(
            f"{entry.path} changed since it was harvested as task {entry.name!r} "
            f"(source {entry.source}, id {stored.id}): fingerprint {stored.fingerprint} in the "
            f"store, {dataset.fingerprint} now. Its new evaluations cannot join the old ones; to "
            "keep both, harvest it under another name (rename the file, or its name in the "
            "corpus index), or into another --store"
        )
    provenance = {**entry.provenance, "path": entry.path, "cv_seed": seed}
    if dataset.dropped:
        provenance["dropped_columns"] = dataset.dropped
    return store.add_task(
        TaskRecord(
            name=entry.name,
            source=entry.source,
            source_id=entry.source_id,
            fingerprint=dataset.fingerprint,
            group_key=entry.group or entry.name,
            task_type=dataset.task_type,
            target=dataset.target,
            n_rows=dataset.n_rows,
            n_features=dataset.n_features,
            provenance=provenance,
        )
    )
