"""Intake: read a table (:mod:`~autometa.data.io`), type its columns
(:mod:`~autometa.data.columns`), resolve the target and infer the task
(:mod:`~autometa.data.target`), and fingerprint it (:mod:`~autometa.data.dataset`).

>>> ds = load_dataset("iris.csv", target="species")  # doctest: +SKIP
>>> ds.task_type, ds.fingerprint  # doctest: +SKIP
"""

from __future__ import annotations

from autometa.data.columns import FeatureType
from autometa.data.dataset import Dataset, DataWarning, fingerprint, load_dataset
from autometa.data.io import read_table
from autometa.data.target import TaskType, infer_task_type

__all__ = [
    "DataWarning",
    "Dataset",
    "FeatureType",
    "TaskType",
    "fingerprint",
    "infer_task_type",
    "load_dataset",
    "read_table",
]
