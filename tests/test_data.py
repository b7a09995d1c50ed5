"""Tests for autometa.data: reading, typing, task inference, fingerprint and errors."""

from __future__ import annotations

import dataclasses
import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autometa.data import (
    Dataset,
    DataWarning,
    fingerprint,
    infer_task_type,
    load_dataset,
    read_table,
)
from autometa.exceptions import DataError

ARFF = """% comment
@relation demo
@attribute 'sepal length' numeric
@attribute count integer
@attribute code {0,1,2}
@attribute note string
@attribute day date 'yyyy-MM-dd'
@attribute class {setosa,versicolor}
@data
5.1,1,0,'a b',2020-01-01,setosa
4.9,2,1,'c',2020-01-02,versicolor
4.7,1,2,?,2020-01-03,setosa
4.6,2,0,'d',2020-01-04,versicolor
5.0,1,1,'e',?,setosa
5.4,2,2,'a b',2020-01-06,versicolor
"""


def _frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "num": rng.normal(size=n).round(6),
            "small": rng.integers(0, 4, n),
            "color": rng.choice(["red", "green", "blue"], n),
            "flag": rng.choice(["yes", "no"], n),
            "y": rng.choice(["a", "b"], n),
        }
    )


def _load(*args: object, **kwargs: object) -> Dataset:
    """load_dataset with DataWarnings silenced (they are tested separately)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return load_dataset(*args, **kwargs)  # type: ignore[arg-type]


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "sep"), [(".csv", ","), (".csv", ";"), (".tsv", "\t"), (".txt", "|"), (".dat", ",")]
)
def test_delimiters_are_sniffed(tmp_path: Path, suffix: str, sep: str) -> None:
    df = _frame()
    path = tmp_path / f"d{suffix}"
    df.to_csv(path, sep=sep, index=False)
    ds = _load(path)
    assert list(ds.X.columns) == ["num", "small", "color", "flag"]
    assert ds.X["num"].tolist() == df["num"].tolist()
    assert ds.name == "d"


def test_comma_space_delimiter_and_quotes(tmp_path: Path) -> None:
    rows = ['a, b, "c, d", y'] + [f'{i}.5, x{i % 3}, "q, {i % 2}", {"pq"[i % 2]}' for i in range(8)]
    ds = _load(_write(tmp_path / "s.csv", "\n".join(rows) + "\n"))
    assert list(ds.X.columns) == ["a", "b", "c, d"]
    assert ds.X["a"].iloc[:2].tolist() == [0.5, 1.5]
    assert sorted(ds.X["c, d"].cat.categories) == ["q, 0", "q, 1"]
    assert ds.X["b"].cat.categories.tolist() == ["x0", "x1", "x2"]


def test_gzip_is_detected_by_magic_bytes(tmp_path: Path) -> None:
    df = _frame()
    plain = tmp_path / "plain.csv"
    df.to_csv(plain, index=False)
    disguised = tmp_path / "disguised.csv"
    disguised.write_bytes(gzip.compress(plain.read_bytes()))
    named = tmp_path / "named.csv.gz"
    named.write_bytes(gzip.compress(plain.read_bytes()))
    prints = {_load(p).fingerprint for p in (plain, disguised, named)}
    assert len(prints) == 1
    assert _load(named).name == "named"


@pytest.mark.parametrize("header", ["0,1,2,y", "1990,1991,1992,y", "a,b,2020,y"])
def test_numeric_column_names_are_accepted(tmp_path: Path, header: str) -> None:
    body = "".join(f"{i}.5,{i % 4},{i % 3},{'pq'[i % 2]}\n" for i in range(12))
    ds = _load(_write(tmp_path / "n.csv", f"{header}\n{body}"))
    assert list(ds.X.columns) == header.split(",")[:3] and ds.n_rows == 12


@pytest.mark.parametrize("first", ["38,59,2,negative", "1.5,2,3,p", "A11,6,A34,6"])
def test_headerless_files_are_refused(tmp_path: Path, first: str) -> None:
    body = "".join(f"{i}.5,{i % 4},{i % 3},{'pq'[i % 2]}\n" for i in range(12))
    with pytest.raises(DataError, match=r"looks like data.*header=None"):
        load_dataset(_write(tmp_path / "h.dat", f"{first}\n{body}"))


def test_whitespace_separated_file(tmp_path: Path) -> None:
    text = "a   b  y\n" + "".join(f"{i}.25  x{i % 2}  {'pq'[i % 2]}\n" for i in range(8))
    ds = _load(_write(tmp_path / "w.txt", text))
    assert list(ds.X.columns) == ["a", "b"] and ds.X["a"].iloc[1] == 1.25


def test_gzipped_parquet(tmp_path: Path) -> None:
    df = _frame()
    df.to_parquet(tmp_path / "p.parquet")
    (tmp_path / "p.parquet.gz").write_bytes(gzip.compress((tmp_path / "p.parquet").read_bytes()))
    assert _load(tmp_path / "p.parquet.gz").fingerprint == _load(df).fingerprint


def test_bom_question_mark_missing_and_read_table(tmp_path: Path) -> None:
    text = "\ufeffa,b,y\n1.5,?,p\n2.5,x,q\n?,z,p\n4.5,x,q\n5.5,z,p\n"
    path = _write(tmp_path / "b.csv", text)
    raw = read_table(path)
    assert list(raw.columns) == ["a", "b", "y"]
    assert raw["a"].isna().sum() == 1 and raw["b"].isna().sum() == 1
    ds = _load(path)
    assert np.isnan(ds.X["a"].iloc[2]) and ds.X["b"].isna().tolist()[0]


def test_arff_respects_declared_types(tmp_path: Path) -> None:
    path = _write(tmp_path / "demo.arff", ARFF)
    ds = _load(path, task="classification")
    assert ds.feature_types == {
        "sepal length": "numeric",
        "count": "numeric",  # declared integer: not turned categorical despite 2 values
        "code": "categorical",  # nominal {0,1,2}: categorical, not numeric
        "note": "categorical",
        "day": "datetime",
    }
    assert ds.X["code"].cat.categories.tolist() == ["0", "1", "2"]
    assert ds.X["day"].tolist()[:2] == [18262.0, 18263.0] and np.isnan(ds.X["day"].iloc[4])
    assert ds.task_type == "binary" and ds.y.cat.categories.tolist() == ["setosa", "versicolor"]
    gz = tmp_path / "demo.arff.gz"
    gz.write_bytes(gzip.compress(ARFF.encode()))
    assert _load(gz).fingerprint == ds.fingerprint


def test_parquet_and_dataframe_and_csv_share_fingerprint(tmp_path: Path) -> None:
    df = _frame()
    df["when"] = pd.date_range("2021-03-01", periods=len(df), freq="D").strftime("%Y-%m-%d")
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_parquet(tmp_path / "d.parquet")
    from_csv = _load(tmp_path / "d.csv", target="y")
    from_parquet = _load(tmp_path / "d.parquet", target="y")
    from_frame = _load(df, target="y")
    assert from_csv.fingerprint == from_parquet.fingerprint == from_frame.fingerprint
    assert from_csv.feature_types == from_frame.feature_types
    pd.testing.assert_frame_equal(from_csv.X, from_frame.X)


# --- typing --------------------------------------------------------------------------------


def test_feature_typing_rules() -> None:
    n = 60
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "flt": rng.normal(size=n),
            "int10": np.arange(n) % 10,  # <= 10 distinct integers -> categorical
            "int11": np.arange(n) % 11,  # 11 distinct -> numeric
            "bool": rng.random(n) > 0.5,
            "tf": rng.choice(["True", "FALSE"], n),
            "numstr": [str(v) for v in rng.normal(size=n).round(3)],
            "text": rng.choice(["lo", "mid", "hi"], n),
            "date": pd.date_range("2000-01-01", periods=n).astype(str),
            "stamp": pd.date_range("2001-01-01", periods=n, freq="h"),
            "y": rng.normal(size=n),
        }
    ).astype({"numstr": object})
    ds = _load(df)
    assert ds.feature_types == {
        "flt": "numeric",
        "int10": "categorical",
        "int11": "numeric",
        "bool": "boolean",
        "tf": "boolean",
        "numstr": "numeric",
        "text": "categorical",
        "date": "datetime",
        "stamp": "datetime",
    }
    assert ds.X["int10"].cat.categories.tolist() == [str(i) for i in range(10)]
    assert ds.X["bool"].cat.categories.tolist() == ["False", "True"]
    assert ds.X["tf"].cat.categories.tolist() == ["FALSE", "True"]
    assert ds.X["date"].iloc[0] == 10957.0  # 2000-01-01
    assert ds.X["stamp"].iloc[1] - ds.X["stamp"].iloc[0] == pytest.approx(1 / 24)
    assert all(ds.X[c].dtype == np.float64 for c in ("flt", "int11", "numstr", "date"))
    assert ds.categorical_columns == ["int10", "bool", "tf", "text"]
    assert ds.task_type == "regression" and ds.y.dtype == np.float64


def test_dates_need_95_percent_parsed() -> None:
    n = 40
    good = list(pd.date_range("2020-01-01", periods=n).strftime("%d/%m/%Y"))
    mostly = [*good[:-1], "unknown"]  # 39/40 = 97.5% parse -> datetime, bad value missing
    half = good[:10] * 2 + ["text", "more"] * 10
    df = pd.DataFrame({"mostly": mostly, "half": half, "y": np.arange(n) % 2})
    with pytest.warns(DataWarning, match="do not match the date format"):
        ds = load_dataset(df)
    assert ds.feature_types["mostly"] == "datetime" and np.isnan(ds.X["mostly"].iloc[-1])
    assert ds.X["mostly"].iloc[12] == 18262.0 + 12  # day-first format chosen consistently
    assert ds.feature_types["half"] == "categorical"


def test_mostly_numeric_text_column_warns_and_numeric_override_coerces() -> None:
    n = 40
    values = [str(i % 20 * 1.5) for i in range(n - 1)] + ["n.a."]
    df = pd.DataFrame({"v": values, "y": np.arange(n) % 2})
    with pytest.warns(DataWarning, match=r"numeric=\['v'\]"):
        ds = load_dataset(df)
    assert ds.feature_types["v"] == "categorical"
    with pytest.warns(DataWarning, match="1 non-numeric value"):
        forced = load_dataset(df, numeric=["v"])
    assert forced.feature_types["v"] == "numeric"
    assert forced.X["v"].iloc[3] == 4.5 and np.isnan(forced.X["v"].iloc[-1])


def test_overrides_and_id_like_columns() -> None:
    n = 30
    df = pd.DataFrame(
        {
            "id": np.arange(100, 100 + n),
            "key": [f"k{i}" for i in range(n)],
            "real": np.linspace(0, 1, n),  # unique per row but not integer: kept
            "zip": np.arange(n) % 13 * 7,
            "level": np.arange(n) % 3,
            "y": np.arange(n) % 2,
        }
    )
    with pytest.warns(DataWarning, match="id-like column.*id, key"):
        ds = load_dataset(df)
    assert ds.dropped == {"id": "id-like", "key": "id-like"}
    assert ds.feature_types["real"] == "numeric" and ds.feature_types["level"] == "categorical"
    kept = _load(df, categorical=["zip", "key"], numeric=["level", "id"])
    assert kept.feature_types["zip"] == "categorical" and kept.feature_types["key"] == "categorical"
    assert kept.feature_types["level"] == "numeric" and kept.feature_types["id"] == "numeric"
    assert kept.dropped == {}
    small = _load(df.head(19))  # id-like needs >= 20 rows
    assert "key" in small.feature_types and "id" in small.feature_types


def test_constant_and_missing_columns_are_dropped_and_warned() -> None:
    df = _frame()
    df["const"] = "same"
    df["one_and_nan"] = [1.0] + [np.nan] * (len(df) - 1)
    df["nothing"] = np.nan
    df = df[["const", "one_and_nan", "nothing", *_frame().columns]]
    with pytest.warns(DataWarning) as record:
        ds = load_dataset(df)
    assert ds.dropped == {"const": "constant", "one_and_nan": "constant", "nothing": "all missing"}
    assert [str(w.message) for w in record] == list(ds.warnings)
    assert any("const, one_and_nan" in m for m in ds.warnings)
    assert record[0].filename == __file__  # stacklevel points at the caller


def test_numpy_source_and_dataframe_with_y_are_not_mutated() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = rng.integers(0, 3, 30)
    ds = _load(X, y)
    assert list(ds.X.columns) == ["x0", "x1", "x2"] and ds.target == "target"
    assert ds.task_type == "multiclass" and ds.y.cat.categories.tolist() == ["0", "1", "2"]
    df = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(30) * 3)
    before = df.copy()
    ds2 = _load(df, pd.Series(y, name="label", index=np.arange(30) + 7))
    pd.testing.assert_frame_equal(df, before)
    assert ds2.target == "label" and ds2.y.name == "label" and ds2.n_rows == 30
    assert ds2.y.astype(int).tolist() == y.tolist()


# --- task inference ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["a", "b"] * 10, "binary"),
        (["a", "b", "c"] * 10, "multiclass"),
        ([True, False] * 10, "binary"),
        ([0.5, 1.25, 2.0, 3.0] * 5, "regression"),
        ([0, 1, 2] * 50, "multiclass"),
        ([1, 2] * 4, "binary"),
        (list(range(50)) * 2, "regression"),  # > 20 distinct integers
        (list(range(12)) * 3, "regression"),  # < 5 rows per distinct value
        (list(range(12)) * 5, "multiclass"),
        ([1.0, 2.0, np.nan] * 10, "binary"),  # missing values ignored
    ],
)
def test_infer_task_type(values: list[object], expected: str) -> None:
    assert infer_task_type(pd.Series(values, name="t")) == expected


def test_task_override_and_label_order() -> None:
    n = 40
    df = pd.DataFrame({"x": np.arange(n) * 0.5, "y": np.tile([2, 10, 1, 2], n // 4)})
    ds = _load(df)
    assert ds.task_type == "multiclass"
    assert ds.y.cat.categories.tolist() == ["1", "2", "10"]  # numeric order, not lexical
    assert _load(df, task="regression").y.tolist()[:3] == [2.0, 10.0, 1.0]
    assert _load(df, task="classification").task_type == "multiclass"
    floats = df.assign(y=np.linspace(0, 1, n))
    assert _load(floats, task="CLASSIFICATION").y.nunique() == n
    with pytest.raises(DataError, match="task='binary' but target 'y' has 3 classes"):
        load_dataset(df, task="binary")
    with pytest.raises(DataError, match="Unknown task 'ranking'"):
        load_dataset(df, task="ranking")


def test_missing_target_rows_and_single_row_class_warn() -> None:
    df = _frame(20)
    df.loc[[3, 7], "y"] = np.nan
    df.loc[5, "y"] = "rare"
    with pytest.warns(DataWarning) as record:
        ds = load_dataset(df)
    messages = [str(w.message) for w in record]
    assert any("Dropped 2 row(s) with a missing target 'y'" in m for m in messages)
    assert any("single row: rare" in m for m in messages)
    assert ds.n_rows == 18 and ds.task_type == "multiclass"
    assert ds.X.index.tolist() == list(range(18))


# --- fingerprint and Dataset ---------------------------------------------------------------


def test_fingerprint_ignores_row_and_column_order_but_not_content() -> None:
    ds = _load(_frame())
    shuffled = ds.X.sample(frac=1.0, random_state=1)
    y = ds.y.loc[shuffled.index].reset_index(drop=True)
    X = shuffled[ds.X.columns[::-1]].reset_index(drop=True)
    assert fingerprint(X, y) == ds.fingerprint
    assert len(ds.fingerprint) == 64 and int(ds.fingerprint, 16) >= 0
    changed = ds.X.copy()
    changed.loc[0, "num"] += 1e-9
    assert fingerprint(changed, ds.y) != ds.fingerprint
    assert fingerprint(ds.X, ds.y.rename("other")) != ds.fingerprint
    assert fingerprint(ds.X.rename(columns={"num": "num2"}), ds.y) != ds.fingerprint


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-1e6, 1e6), st.sampled_from(["a", "b", "c"]), st.integers(0, 1)),
        min_size=5,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_fingerprint_is_permutation_invariant(rows: list[tuple], rnd: object) -> None:
    X = pd.DataFrame({"f": [r[0] for r in rows], "c": pd.Categorical([r[1] for r in rows])})
    y = pd.Series([float(r[2]) for r in rows], name="y")
    order = list(range(len(rows)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    permuted = X.iloc[order][["c", "f"]].reset_index(drop=True)
    assert fingerprint(permuted, y.iloc[order].reset_index(drop=True)) == fingerprint(X, y)


def test_dataset_summary_properties_and_frozen() -> None:
    df = _frame()
    df.insert(0, "id", np.arange(len(df)))
    ds = _load(df, name="demo", target="y")
    assert ds.summary() == {
        "name": "demo",
        "rows": 40,
        "features": 4,
        "feature_types": {"numeric": 1, "categorical": 2, "boolean": 1, "datetime": 0},
        "dropped": {"id": "id-like"},
        "task_type": "binary",
        "target": "y",
        "n_classes": 2,
        "fingerprint": ds.fingerprint,
        "warnings": 1,
    }
    assert (ds.n_rows, ds.n_features) == (40, 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.name = "x"  # type: ignore[misc]
    assert load_dataset(ds) is ds
    rebuilt = Dataset(ds.X, ds.y, ds.task_type, ds.target, dict(ds.feature_types))
    assert rebuilt.fingerprint == ds.fingerprint


# --- errors --------------------------------------------------------------------------------


def _csv(tmp_path: Path, text: str, name: str = "e.csv") -> Path:
    return _write(tmp_path / name, text)


GOOD = "a,b,y\n" + "".join(f"{i}.5,{i % 3},{'pq'[i % 2]}\n" for i in range(10))


@pytest.mark.parametrize(
    ("make", "kwargs", "pattern"),
    [
        (lambda p: p / "nope.csv", {}, "File not found"),
        (lambda p: _csv(p, ""), {}, r"empty \(0 bytes\)"),
        (lambda p: _csv(p, "\n\n  \n"), {}, "is empty"),
        (lambda p: _csv(p, "a,b,y\n"), {}, "header but no data rows"),
        (lambda p: _csv(p, "a,b,y\n1,2,p\n"), {}, "1 row.*at least 5"),
        (lambda p: _csv(p, GOOD), {"target": "label"}, r"'label' not found.*'a', 'b', 'y'"),
        (lambda p: _csv(p, GOOD.replace(",q\n", ",p\n")), {}, "single class"),
        (lambda p: _csv(p, "a,b,y\n" + "1,2,7\n" * 6), {}, r"single class \(7(\.0)?\);"),
        (lambda p: _csv(p, "a,b,y\n" + "1,2,\n" * 6), {}, "'y' has no values"),
        (lambda p: _csv(p, GOOD.replace("a,b,y", "a,a,y")), {}, r"duplicate column names \['a'\]"),
        (lambda p: _write(p / "l.csv", GOOD.replace("p\n", "pé\n"), "latin-1"), {}, "latin-1"),
        (lambda p: _csv(p, GOOD.replace("3.5", "inf")), {}, "Column 'a' contains infinite"),
        (lambda p: _csv(p, GOOD), {"task": "regression"}, "is text.*needs numbers"),
        (
            lambda p: _csv(p, GOOD),
            {"max_columns": 2},
            "3 columns, more than the 2 autometa reads; raise max_columns=",
        ),
        (lambda p: _csv(p, GOOD, "d.xlsx"), {}, r"Unsupported file type '\.xlsx'"),
        (lambda p: _csv(p, "PAR1 not really", "d.parquet"), {}, "as Parquet"),
        (lambda p: _csv(p, "@relation x\n@attribute\n", "d.arff"), {}, "not a valid ARFF"),
        (lambda p: _csv(p, "id,y\n" + "".join(f"{i},{i % 2}\n" for i in range(30))), {}, "No feat"),
        (lambda p: _csv(p, "1.5,2,p\n" * 6), {}, "looks like data"),
        (lambda p: _csv(p, "@relation r\n@data\n", "k.dat"), {}, "looks like an ARFF"),
        (lambda p: _csv(p, GOOD), {"categorical": ["zz"]}, "unknown column 'zz'"),
        (lambda p: _csv(p, GOOD), {"numeric": ["b"], "categorical": ["b"]}, "both"),
        (lambda p: _csv(p, GOOD), {"y": [1, 2]}, "y= can only be used"),
        (lambda p: _csv(p, GOOD), {"encoding": "klingon"}, "Unknown encoding"),
        (lambda p: _csv(p, GOOD + "1,2,3,4,5\n"), {}, "Cannot parse.*delimiter and quoting"),
        (lambda p: p, {}, "is not a file"),
    ],
)
def test_user_errors_raise_data_error(
    tmp_path: Path, make: object, kwargs: dict[str, object], pattern: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(DataError, match=pattern):
        _load(path, **kwargs)


def test_latin1_file_loads_with_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path / "l.csv", GOOD.replace("p\n", "pé\n"), "latin-1")
    ds = _load(path, encoding="latin-1")
    assert ds.y.cat.categories.tolist() == ["pé", "q"]


def test_dataframe_errors() -> None:
    with pytest.raises(DataError, match="duplicate column names"):
        load_dataset(pd.DataFrame([[1, 2, 3]] * 6, columns=["a", "a", "y"]))
    with pytest.raises(DataError, match="y has 3 values but the features have 6"):
        load_dataset(pd.DataFrame({"a": range(6)}), [0, 1, 0])
    with pytest.raises(DataError, match="y="):
        load_dataset(np.zeros((6, 2)))
    with pytest.raises(DataError, match="Cannot load a list"):
        load_dataset([[1, 2]])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="is empty"):
        load_dataset(pd.DataFrame({"a": [], "y": []}))
    with pytest.raises(DataError, match="target; set its type with task="):
        load_dataset(_frame(), categorical=["y"])
    with pytest.raises(DataError, match="infinite values"):
        load_dataset(pd.DataFrame({"a": range(6), "y": [1.5, 2, 3, 4, 5, np.inf]}))
