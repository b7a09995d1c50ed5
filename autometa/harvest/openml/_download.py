"""``--download-data``: an OpenML task's data downloaded and typed by autometa, so the store
gets autometa's own fingerprint and meta-features (as a local harvest of the table would)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from autometa.harvest.openml._client import Client

if TYPE_CHECKING:
    from autometa.data import Dataset


def download(client: Client, dataset: Any, target: str, task_type: str) -> Dataset:
    """The dataset's rows (ARFF or Parquet, through openml-python and its checksum), less
    its row-id and ignored columns, typed by :func:`autometa.load_dataset` as ``task_type``."""
    import openml

    from autometa.data import load_dataset

    did = int(dataset.dataset_id)
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


__all__ = ["download", "metafeatures"]
