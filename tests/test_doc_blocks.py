"""Every ```python block of docs/*.md runs as written, in order, one namespace per page.

The pages show the API on the reader's data; this test makes that data: a classification
table ``X``/``y`` with a text column (and its train/test split, ``X_new``, ``df``,
``X_df``/``y_series``, ``X_array``/``y_array``), the files ``adult.csv.gz`` and
``data.csv``, and ``metafeatures`` of ``X``. A block whose first line is ``# not run by the
docs test: <why>`` is skipped (a benchmark of minutes)."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
SKIP = "# not run by the docs test:"
PAGES = sorted((ROOT / "docs").glob("*.md"))


def _blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


def _reader_data(folder: Path) -> dict[str, Any]:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:300, :6].copy()
    y = y.iloc[:300].map({0: "malignant", 1: "benign"})
    X["site"] = np.random.default_rng(0).choice(["north", "south", "east"], len(X))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    df = X.assign(diagnosis=y)
    df.rename(columns={"diagnosis": "income"}).to_csv(folder / "adult.csv.gz", index=False)
    df.rename(columns={"diagnosis": "y"}).to_csv(folder / "data.csv", index=False)
    from autometa import compute_metafeatures, load_dataset

    typed = load_dataset(X, y)
    names = dict(X=X, y=y, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
    return names | dict(
        X_new=X_test.head(1), df=df, X_df=X, y_series=y, X_array=X.iloc[:, :6].to_numpy(),
        y_array=y.to_numpy(),
        metafeatures=compute_metafeatures(typed.X, typed.y, typed.task_type),
        __name__="docs",
    )  # fmt: skip


#: Pages whose blocks fit models for a quarter of a minute or more: with the slow tests.
SLOW_PAGES = {"neural.md", "sklearn.md"}


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(p, marks=pytest.mark.slow) if p.name in SLOW_PAGES else p
        for p in PAGES
        if _blocks(p)
    ],
    ids=lambda p: p.name,
)
def test_python_blocks_run_as_written(page: Path, tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        namespace = _reader_data(tmp_path)
        ran = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the pages' data warnings are expected
            for block in _blocks(page):
                if block.startswith(SKIP):
                    assert len(block.splitlines()[0]) > len(SKIP) + 5, "say why it is not run"
                    continue
                exec(compile(block, str(page.relative_to(ROOT)), "exec"), namespace)
                ran += 1
    finally:
        os.chdir(cwd)
    assert ran >= 1


def test_every_page_block_is_run_or_says_why_not() -> None:
    skipped = [b for p in PAGES for b in _blocks(p) if b.startswith(SKIP)]
    assert len(skipped) <= 2  # benchmarks only; anything else must run
    assert sum(len(_blocks(p)) for p in PAGES) >= 10
