"""Intake: read a table (:mod:`~autometa.data.io`), type its columns
(:mod:`~autometa.data.columns`), resolve the target and infer the task
(:mod:`~autometa.data.target`), and fingerprint it (:mod:`~autometa.data.dataset`).
:class:`~autometa.data.typer.TableTyper` is the typing as a fitted transformer, for rows to
predict.

>>> ds = load_dataset("iris.csv", target="species")  # doctest: +SKIP
>>> ds.task_type, ds.fingerprint  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from autometa.data.columns import FeatureType
from autometa.data.dataset import Dataset, DataWarning, fingerprint, load_dataset
from autometa.data.io import read_table
from autometa.data.target import TaskType, infer_task_type

__all__ = [
    "DataWarning",
    "Dataset",
    "FeatureType",
    "TableTyper",
    "TaskType",
    "fingerprint",
    "infer_task_type",
    "load_dataset",
    "read_table",
]


def __getattr__(name: str) -> Any:
    """``TableTyper`` on first use (it imports scikit-learn)."""
    if name == "TableTyper":
        from autometa.data.typer import TableTyper

        return TableTyper
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
