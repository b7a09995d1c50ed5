"""autometa.data.TableTyper: the training table's typing, fitted once and applied to any
later rows (one row included), and load_dataset saying when it guesses the target."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from autometa.data import DataWarning, TableTyper, load_dataset


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 120
    return pd.DataFrame({
        "num": rng.normal(size=n),
        "small_int": rng.integers(0, 4, n),
        "text": rng.choice([" a", "b ", "c"], n),
        "flag": rng.choice([True, False], n),
        "date": pd.date_range("2020-01-01", periods=n).strftime("%d/%m/%Y"),
        "id": np.arange(n),
        "const": 1,
        "digits": rng.choice(["1", "2", "3"], n),
    })  # fmt: skip


def _quiet_fit(typer: TableTyper, X: pd.DataFrame) -> TableTyper:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return typer.fit(X)


def test_training_rows_are_typed_as_load_dataset_types_them(table) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        ds = load_dataset(table, np.arange(len(table)) % 2)
    typer = _quiet_fit(TableTyper(), table)
    pd.testing.assert_frame_equal(typer.transform(table), ds.X)
    assert typer.feature_types_ == ds.feature_types and typer.dropped_ == ds.dropped
    assert list(typer.get_feature_names_out()) == list(ds.X.columns)
    one = typer.transform(table.iloc[[7]])  # a single row keeps every column's dtype
    pd.testing.assert_frame_equal(one, ds.X.iloc[[7]].reset_index(drop=True))


def test_later_rows_unseen_values_and_wrong_columns(table) -> None:
    typer = _quiet_fit(TableTyper(), table)
    rows = table.iloc[:3].copy()
    rows.loc[0, "text"], rows.loc[1, "small_int"], rows.loc[2, "num"] = "new", 9, np.nan
    rows.loc[2, "date"] = "not a date"
    out = typer.transform(rows)
    assert pd.isna(out.loc[0, "text"]) and pd.isna(out.loc[1, "small_int"])
    assert np.isnan(out.loc[2, "num"]) and np.isnan(out.loc[2, "date"])
    assert out.loc[1, "date"] == pytest.approx(18263.0)  # 2 Jan 2020, day first as in fit
    assert list(out["text"].cat.categories) == ["a", "b", "c"]  # stripped as in training
    with pytest.raises(ValueError, match=r"lack the training column.*'text'"):
        typer.transform(table.drop(columns=["text"]))
    assert typer.transform(table.drop(columns=["id"])).shape == (len(table), 6)  # dropped


def test_overrides_arrays_clone_pickle_and_pipeline(table) -> None:
    typer = _quiet_fit(TableTyper(categorical=["num"], numeric=["digits"]), table)
    assert typer.feature_types_["num"] == "categorical"
    assert typer.feature_types_["digits"] == "numeric"
    assert clone(typer).get_params() == {"categorical": ["num"], "numeric": ["digits"]}
    again = pickle.loads(pickle.dumps(typer))
    pd.testing.assert_frame_equal(again.transform(table), typer.transform(table))
    values = np.random.default_rng(1).normal(size=(30, 3))
    pipe = make_pipeline(TableTyper())
    out = pipe.fit_transform(values)
    assert list(out.columns) == ["x0", "x1", "x2"]
    assert np.allclose(pipe.transform(values[:1]).to_numpy(), values[:1])


def test_load_dataset_says_when_it_takes_the_last_column_as_target(table) -> None:
    with pytest.warns(
        DataWarning, match="No target given: took the last column 'digits' as the target"
    ):
        load_dataset(table)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        load_dataset(table[["num", "text", "digits"]], target="digits")


def test_fit_transform_gives_the_training_rows_as_transform_does(table) -> None:
    typer = TableTyper()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        typed = typer.fit_transform(table)
    pd.testing.assert_frame_equal(typed, typer.transform(table))
