"""An OpenML task as a store task, with OpenML's data qualities as its meta-features."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from autometa.exceptions import HarvestError
from autometa.harvest.openml._client import Client, NoResult

if TYPE_CHECKING:
    from autometa.store.sql import Store

#: OpenML task type ids harvested: supervised classification and regression.
TASK_TYPE_IDS = {1: "classification", 2: "regression"}
SOURCE = "openml"


class NotSupervised(HarvestError):
    """An OpenML task of a type autometa does not harvest (clustering, learning curve, ...)."""


@dataclass(frozen=True)
class OpenMLTask:
    """A stored OpenML task: its store id, type and what translation needs."""

    task_id: int
    openml_task_id: int
    task_type: str
    n_features: int


def fingerprint(dataset_id: int, target: str) -> str:
    """The store fingerprint of OpenML data not downloaded: its dataset id and target (a
    local harvest of the downloaded data has a content fingerprint instead)."""
    return f"openml-dataset:{dataset_id}:{target}"[:128]


def stored_tasks(store: Store) -> dict[int, OpenMLTask]:
    """The OpenML tasks the store holds, by OpenML task id."""
    frame = store.tasks_frame()
    out: dict[int, OpenMLTask] = {}
    for task_id, row in frame[frame["source"] == SOURCE].iterrows():
        tid = (row["provenance"] or {}).get("openml_task_id")
        if tid is not None:
            out[int(tid)] = OpenMLTask(
                int(task_id), int(tid), row["task_type"], int(row["n_features"])
            )
    return out


def _task_type(task: Any, qualities: dict[str, float]) -> str:
    kind = TASK_TYPE_IDS.get(int(getattr(task.task_type_id, "value", task.task_type_id)))
    if kind is None:
        raise NotSupervised(
            f"OpenML task {task.task_id} is a {task.task_type} task; only supervised "
            "classification and regression tasks are harvested"
        )
    if kind == "regression":
        return "regression"
    n_classes = qualities.get("NumberOfClasses")
    if n_classes is None or math.isnan(n_classes):
        n_classes = len(getattr(task, "class_labels", None) or ())
    return "binary" if n_classes == 2 else "multiclass"


def _n_features(dataset: Any, target: str) -> int:
    return sum(
        1
        for f in dataset.features.values()
        if f.name != target
        and f.name not in (dataset.ignore_attribute or [])
        and f.name != dataset.row_id_attribute
    )


def fetch_task(client: Client, openml_task_id: int) -> tuple[Any, Any]:
    """An OpenML task and its dataset (description and features, not the data).

    ``get_task`` asks for the task, the data description and (for class labels) the
    features, and drops only its task cache when one fails; the dataset's cache is kept
    when the features are not part of ``get_dataset``'s own call. So each retry of it asks
    only for what is not cached yet, and a server failing every Nth request cannot fail
    every retry. The features are then read as a call of their own."""
    import openml

    task = client.call(
        f"task {openml_task_id}",
        openml.tasks.get_task,
        openml_task_id,
        download_splits=False,
        download_data=False,
        download_qualities=False,
        download_features_meta_data=False,
    )
    dataset = client.call(
        f"dataset {task.dataset_id}",
        openml.datasets.get_dataset,
        task.dataset_id,
        download_data=False,
        download_qualities=False,
        download_features_meta_data=False,
    )
    client.call(f"features of dataset {task.dataset_id}", lambda: dataset.features)
    return task, dataset


def register(
    store: Store,
    client: Client,
    openml_task_id: int,
    *,
    server: str,
    names: list[str],
    download: bool = False,
) -> OpenMLTask:
    """Download an OpenML task's description, features and qualities and store it, with
    the qualities of ``names`` as meta-features (null where OpenML has none). With
    ``download``, the data itself is downloaded instead of the qualities: the task gets
    autometa's fingerprint, sizes and meta-features of it (the same task as a local
    harvest of that table)."""
    task, dataset = fetch_task(client, openml_task_id)
    if download:
        return _register_downloaded(store, client, task, dataset, server)
    try:  # a dataset OpenML has no qualities for answers code 362
        found = client.call(
            f"qualities of dataset {dataset.dataset_id}",
            lambda: dataset.qualities,
            empty_codes=(362,),
        )
    except NoResult:
        found = None
    qualities = {k: float(v) for k, v in (found or {}).items()}
    record = _record(task, dataset, qualities, server, missing=found is None)
    local = local_twin(store, record)
    if local is not None:  # this dataset harvested locally: its evaluations join that task
        return OpenMLTask(local, openml_task_id, record.task_type, record.n_features)
    task_id = store.add_task(record)
    values: dict[str, float | None] = {}
    for name in names:
        value = qualities.get(name)
        values[name] = None if value is None or math.isnan(value) else value
    store.set_metafeatures(task_id, values)
    return OpenMLTask(task_id, openml_task_id, record.task_type, record.n_features)


def local_twin(store: Store, record: Any) -> int | None:
    """The id of a task a local harvest stored for this OpenML dataset (source ``openml``,
    source_id its dataset id, the same target and task type), or None."""
    tasks = store.tasks_frame().reset_index()
    same = tasks[
        (tasks["source"] == SOURCE)
        & (tasks["source_id"].astype(str) == str(record.source_id))
        & (tasks["target"] == record.target)
        & (tasks["task_type"] == record.task_type)
        & (tasks["fingerprint"] != record.fingerprint)
    ]
    return int(same["task_id"].iloc[0]) if len(same) else None


def _register_downloaded(
    store: Store, client: Client, task: Any, dataset: Any, server: str
) -> OpenMLTask:
    from autometa.harvest.openml._download import download, metafeatures

    data = download(client, task, dataset, _task_type(task, {}))
    record = _record(task, dataset, {}, server, missing=True)
    record = replace(
        record,
        fingerprint=data.fingerprint,
        task_type=data.task_type,
        n_rows=data.n_rows,
        n_features=data.n_features,
        provenance={**record.provenance, "qualities_missing": False, "data_downloaded": True},
    )
    task_id = store.add_task(record)  # a task stored with this fingerprint keeps its id
    store.set_metafeatures(task_id, metafeatures(data))
    return OpenMLTask(task_id, int(task.task_id), record.task_type, record.n_features)


def _record(
    task: Any, dataset: Any, qualities: dict[str, float], server: str, *, missing: bool
) -> Any:
    from autometa.store import TaskRecord

    target = str(task.target_name)
    n_rows = qualities.get("NumberOfInstances")
    params = (getattr(task, "estimation_procedure", None) or {}).get("parameters") or {}
    return TaskRecord(
        name=f"{dataset.name}-task{task.task_id}",
        source=SOURCE,
        source_id=str(dataset.dataset_id),
        fingerprint=fingerprint(int(dataset.dataset_id), target),
        group_key=f"openml:{dataset.name}".lower(),
        task_type=_task_type(task, qualities),
        target=target,
        n_rows=0 if n_rows is None or math.isnan(n_rows) else int(n_rows),
        n_features=_n_features(dataset, target),
        provenance={
            "openml_task_id": int(task.task_id),
            "openml_dataset_id": int(dataset.dataset_id),
            "dataset_name": dataset.name,
            "dataset_version": int(dataset.version),
            "openml_task_type": task.task_type,
            "folds": _int_or_none(params.get("number_folds")),
            "repeats": _int_or_none(params.get("number_repeats")),
            "server": server,
            "harvested_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "qualities_missing": missing,
        },
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


__all__ = ["SOURCE", "NotSupervised", "OpenMLTask", "fingerprint", "register", "stored_tasks"]
