"""Robustness of autometa.data: id-like rule, decimal commas, odd cells, target lookup/sanity."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autometa.data import Dataset, DataWarning, load_dataset
from autometa.exceptions import DataError


def _load(*args: object, **kwargs: object) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return load_dataset(*args, **kwargs)  # type: ignore[arg-type]


def _features(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})


# --- 1. id-like columns are counters, not measurements -------------------------------------


def test_distinct_integer_measurements_are_not_id_like() -> None:
    rng = np.random.default_rng(0)
    n = 600
    income = rng.choice(np.arange(20_000, 2_000_000), n, replace=False)  # all distinct
    df = pd.DataFrame({"income": income, "y": rng.integers(0, 2, n)})
    ds = _load(df)
    assert ds.feature_types == {"income": "numeric"} and ds.dropped == {}
    huge = _features(300) * 1e200  # integral as floats, every value distinct
    assert _load(huge.assign(y=np.arange(300) % 2)).dropped == {}


def test_counters_and_unique_text_are_still_id_like() -> None:
    n = 40
    rng = np.random.default_rng(1)
    df = _features(n).assign(
        row=np.arange(1000, 1000 + n),  # a counter
        gaps=rng.permutation(np.arange(0, 2 * n, 2)),  # span 2n-1 <= 2n: half the range used
        wide=rng.permutation(np.r_[np.arange(0, 2 * n - 2, 2), 2 * n]),  # span 2n+1: kept
        key=[f"k{i}" for i in range(n)],
        y=np.arange(n) % 2,
    )
    ds = _load(df)
    assert ds.dropped == {"row": "id-like", "gaps": "id-like", "key": "id-like"}
    assert ds.feature_types["wide"] == "numeric"
    with_missing = df.assign(row=df["row"].where(df.index > 0))  # a missing value: not an id
    assert _load(with_missing).feature_types["row"] == "numeric"


# --- 2. decimal commas -----------------------------------------------------------------------


def test_semicolon_csv_with_decimal_commas(tmp_path: Path) -> None:
    df = _features(50).round(6).assign(c=np.arange(50) % 3, y=np.arange(50) % 2)
    path = tmp_path / "dec.csv"
    df.to_csv(path, sep=";", decimal=",", index=False)
    assert "0," in path.read_text() or "-0," in path.read_text()
    ds = _load(path)
    assert ds.feature_types == {"a": "numeric", "b": "numeric", "c": "categorical"}
    np.testing.assert_allclose(ds.X["a"], df["a"])
    tsv = tmp_path / "dec.tsv"
    df.to_csv(tsv, sep="\t", decimal=",", index=False)
    np.testing.assert_allclose(_load(tsv).X["b"], df["b"])


def test_decimal_points_and_thousands_are_not_read_as_decimal_commas(tmp_path: Path) -> None:
    n = 30
    text = "p;q;y\n" + "".join(f"{i}.5;{i},25;{i % 2}\n" for i in range(n))
    (tmp_path / "mixed.csv").write_text(text)
    ds = _load(tmp_path / "mixed.csv")
    assert ds.feature_types["p"] == "numeric" and ds.X["p"].iloc[1] == 1.5  # "." kept
    thousands = "p\tq\ty\n" + "".join(
        f"{i % 7}\t{i % 5 + 1},{i % 3:03d}\t{i % 2}\n" for i in range(n)
    )
    (tmp_path / "t.tsv").write_text(thousands)
    assert _load(tmp_path / "t.tsv").X["q"].iloc[1] == "2,001"  # "2,001" after a tab: text


# --- 3. unsupported cell types ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "pattern"),
    [
        ([{"k": i % 3} for i in range(30)], r"'t' holds dict values; .*one column per key"),
        ([[i] for i in range(30)], r"'t' holds list values; convert them"),
        (np.arange(30) + 5j, r"'t' holds complex numbers; split it"),  # complex128 dtype
        (list(np.arange(30) + 5j), r"'t' holds complex numbers; split it"),  # object dtype
    ],
)
def test_unsupported_cells_raise_data_error(column: object, pattern: str) -> None:
    t = pd.Series(column, name="t", dtype=None if isinstance(column, np.ndarray) else object)
    with pytest.raises(DataError, match=f"Column {pattern}"):
        load_dataset(_features(30).assign(t=t, y=np.arange(30) % 2))
    with pytest.raises(DataError, match=f"Column {pattern.replace(chr(39) + 't', chr(39) + 'y')}"):
        load_dataset(_features(30), t.rename("y"))


# --- 4. target lookup ------------------------------------------------------------------------


def test_target_lookup_strips_spaces_and_suggests_close_names(tmp_path: Path) -> None:
    df = _features(30).assign(**{f"f{i}": np.arange(30) * i * 0.5 for i in range(1, 12)})
    df[" lead space "] = np.arange(30) % 2
    df["z"] = np.linspace(0, 1, 30)
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    ds = _load(path, target=" lead space ")
    assert ds.target == "lead space" and ds.task_type == "binary"
    assert _load(df, target="lead space").target == " lead space "  # DataFrame names kept
    with pytest.raises(DataError, match=r"'lead spce' not found .*did you mean 'lead space'\?"):
        load_dataset(path, target="lead spce")
    with pytest.raises(DataError, match=r"unknown column 'zz' \(did you mean 'z'\?\)"):
        load_dataset(path, target="z", numeric=["zz"])
    assert _load(path, target="z", categorical=[" lead space "]).feature_types["lead space"] == (
        "categorical"
    )


# --- 5. implausible classification targets ---------------------------------------------------


def test_continuous_target_forced_to_classification_is_refused() -> None:
    n = 300
    y = pd.Series(np.random.default_rng(2).normal(size=n), name="y")
    assert _load(_features(n), y).task_type == "regression"
    for task in ("classification", "multiclass"):
        with pytest.raises(
            DataError,
            match=r"Target 'y' has 300 classes in 300 rows, most of them a single row: "
            r"it looks like a numeric target; use task='regression'",
        ):
            load_dataset(_features(n), y, task=task)


def test_sparse_text_and_date_targets_are_refused() -> None:
    n = 1000
    rng = np.random.default_rng(3)
    text = pd.Series([f"c{v}" for v in rng.integers(0, 400, n)], name="y")
    assert 300 < text.nunique() < 400 and (text.value_counts() == 1).mean() < 0.5
    with pytest.raises(DataError, match=r"rows per class on average: classification needs"):
        load_dataset(_features(n), text)
    dates = pd.Series(pd.date_range("2020-01-01", periods=n, freq="h"), name="y")
    for target in (dates, dates.dt.tz_localize("UTC")):
        for task in (None, "regression"):
            with pytest.raises(DataError, match="'y' holds dates, which cannot be a target"):
                load_dataset(_features(n), target, task=task)
    as_text = dates.dt.strftime("%Y-%m-%d %H:%M")  # text: never repeats, so not classes
    with pytest.raises(DataError, match="1000 classes in 1000 rows, most of them a single row"):
        load_dataset(_features(n), as_text)
    months = pd.Series(np.repeat(["2020-01", "2020-02", "2020-03"], 40), name="y")
    assert load_dataset(_features(120), months).task_type == "multiclass"  # date-like labels


def test_genuine_multiclass_targets_are_accepted() -> None:
    rng = np.random.default_rng(4)
    letters = pd.Series(rng.choice([chr(65 + i) for i in range(26)], 3000), name="y")
    assert _load(_features(3000), letters).task_type == "multiclass"
    iris = pd.Series(np.repeat(["setosa", "versicolor", "virginica"], 50), name="y")
    assert _load(_features(150), iris).y.nunique() == 3
    sixty = pd.Series(np.repeat([f"p{i}" for i in range(60)], 4), name="y")  # 4 rows each
    assert _load(_features(240), sixty).task_type == "multiclass"
    forty = pd.Series(np.linspace(0, 1, 40), name="y")  # <= 50 classes: allowed, with a warning
    assert _load(_features(40), forty, task="classification").y.nunique() == 40
    years = pd.Series(np.repeat(["1990", "1991", "1992"], 10), name="y")  # numbers, not dates
    assert _load(_features(30), years).task_type == "multiclass"


def test_y_as_a_column_vector_is_accepted_and_other_shapes_refused() -> None:
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    assert load_dataset(X, y.reshape(-1, 1)).y.tolist() == load_dataset(X, y).y.tolist()
    for bad, message in ((np.c_[y, y], r"shape \(150, 2\)"), (np.array(3), r"shape \(\)")):
        with pytest.raises(DataError, match=f"y must be one column; got an array of {message}"):
            load_dataset(X, bad)


def test_a_long_text_cell_is_no_date_and_loads_in_linear_time(tmp_path: Path) -> None:
    import time

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "note": ["alpha", "beta"] * 100})
    frame.loc[3, "note"] = "1" * 400_000  # pandas' date guess is quadratic in such a cell
    frame["y"] = [0, 1] * 100
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    start = time.perf_counter()
    ds = load_dataset(path, target="y")
    assert time.perf_counter() - start < 2.0  # 14 s before long cells skipped the guess
    assert ds.feature_types["note"] == "categorical"


def test_odd_targets_and_paths_are_said_plainly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60)})
    with pytest.warns(DataWarning, match=r"reaches [\d.]+e\+300: squared errors overflow"):
        load_dataset(X, pd.Series(rng.normal(size=60) * 1e300 + 2e300))
    labels = pd.Series(rng.choice(["yes", "Yes", "YES", "no", "No"], 60))
    with pytest.warns(DataWarning, match=r"differ only in letter case \('No', 'no'; 'YES'"):
        assert load_dataset(X, labels).task_type == "multiclass"  # kept apart, said once
    loop_a, loop_b = tmp_path / "a.csv", tmp_path / "b.csv"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    with pytest.raises(DataError, match="symbolic link that leads to no file"):
        load_dataset(loop_a, target="y")


def test_the_cli_keeps_library_warnings_off_stderr(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from autometa.cli import cli

    rng = np.random.default_rng(0)
    path = tmp_path / "huge.csv"
    frame = pd.DataFrame({"a": rng.normal(size=80), "y": rng.normal(size=80) * 1e300})
    frame.to_csv(path, index=False)
    done = CliRunner().invoke(cli, ["metafeatures", str(path), "--target", "y"])
    assert done.exit_code == 0, done.output
    lines = done.stderr.strip().splitlines()
    assert lines and all(line.startswith(("warning: ", "note: ")) for line in lines), lines
