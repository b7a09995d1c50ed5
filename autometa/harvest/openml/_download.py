"""``--download-data``: an OpenML task's data downloaded and typed by autometa, so the store
gets autometa's own fingerprint and meta-features (as a local harvest of the table would)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from autometa.exceptions import HarvestError
from autometa.harvest.openml._client import Client

if TYPE_CHECKING:
    from autometa.data import Dataset


class DataUnavailable(HarvestError):
    """A task's data file could not be downloaded (its retries ran out): that task fails,
    the harvest goes on."""


def download(client: Client, task: Any, dataset: Any, task_type: str) -> Dataset:
    """The dataset's rows (ARFF or Parquet, through openml-python and its checksum), less
    its row-id and ignored columns, typed by :func:`autometa.load_dataset` as ``task_type``.

    :class:`DataUnavailable` (one line, naming the task) when the file cannot be had."""
    import openml

    from autometa.data import load_dataset

    did, target = int(dataset.dataset_id), str(task.target_name)
    try:
        full = client.call(
            f"data of dataset {did}",
            openml.datasets.get_dataset,
            did,
            download_data=True,
            download_qualities=False,
            download_features_meta_data=True,
        )
        X, y, _, _ = client.call(
            f"data of dataset {did}", full.get_data, target=target, dataset_format="dataframe"
        )
    except HarvestError as exc:
        raise DataUnavailable(f"task {task.task_id}: {exc}") from None
    frame = X.assign(**{target: y})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset(frame, target=target, task=task_type, name=str(dataset.name))


def metafeatures(data: Dataset) -> dict[str, float | None]:
    """autometa's meta-features of the downloaded data (warnings silenced)."""
    from autometa.metafeatures import compute_metafeatures

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dict(compute_metafeatures(data.X, data.y, data.task_type))


__all__ = ["DataUnavailable", "download", "metafeatures"]
