"""Tests of autometa.metafeatures: OpenML agreement on pinned fixtures, definitions, API."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import load_diabetes, load_iris
from sklearn.metrics import mutual_info_score

from autometa.exceptions import DataError
from autometa.metafeatures import (
    GROUPS,
    compute_metafeatures,
    landmarking,
    landmarking_sample,
    metafeature_names,
    probes,
)
from autometa.metafeatures._base import PreparedData

DATA = Path(__file__).parent / "data"
CHEAP = ["simple", "statistical", "info_theory"]


def load_keel(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    """KEEL .dat: numeric columns float64, text columns (``A11``) category, class last."""
    df = pd.read_csv(path, header=None, skipinitialspace=True)
    X = df.iloc[:, :-1].copy()
    X.columns = [f"a{j}" for j in range(X.shape[1])]
    for c in X.columns:
        if pd.api.types.is_numeric_dtype(X[c]):
            X[c] = X[c].astype(np.float64)
        else:
            X[c] = X[c].astype(str).str.strip().astype("category")
    return X, df.iloc[:, -1].astype(str).str.strip().astype("category")


@pytest.fixture(scope="module")
def openml() -> pd.DataFrame:
    return pd.read_csv(DATA / "openml_qualities_31_54.csv").set_index("openmlid")


@pytest.fixture(scope="module")
def computed() -> dict[int, dict[str, float | None]]:
    out = {}
    for name, oid, task in (("vehicle", 54, "multiclass"), ("german", 31, "binary")):
        X, y = load_keel(DATA / f"{name}.dat")
        out[oid] = compute_metafeatures(X, y, task)
    return out


# ---------------------------------------------------------------- agreement with OpenML
EXACT = ["NumberOfInstances", "NumberOfFeatures", "NumberOfClasses", "NumberOfNumericFeatures",
         "NumberOfSymbolicFeatures", "NumberOfBinaryFeatures", "MajorityClassSize",
         "MinorityClassSize", "MaxNominalAttDistinctValues", "MinNominalAttDistinctValues",
         "NumberOfMissingValues"]  # fmt: skip
MOMENTS = [f"{s}{m}OfNumericAtts" for m in ("Means", "StdDev", "Skewness", "Kurtosis")
           for s in ("Mean", "Min", "Max", "Quartile1", "Quartile2", "Quartile3")]  # fmt: skip


@pytest.mark.parametrize("oid", [54, 31])
def test_counts_match_openml_exactly(computed, openml, oid):
    for q in EXACT:
        assert computed[oid][q] == openml.at[oid, q], q


@pytest.mark.parametrize("oid", [54, 31])
@pytest.mark.parametrize("quality", MOMENTS)
def test_moment_statistics_within_half_percent(computed, openml, oid, quality):
    assert computed[oid][quality] == pytest.approx(openml.at[oid, quality], rel=0.005)


def test_pinned_values(computed):
    vehicle, german = computed[54], computed[31]
    assert vehicle["ClassEntropy"] == pytest.approx(1.999067, abs=1e-6)
    assert german["ClassEntropy"] == pytest.approx(0.881291, abs=1e-6)
    assert vehicle["Quartile1MeansOfNumericAtts"] == pytest.approx(35.846040, rel=1e-7)
    assert vehicle["MaxKurtosisOfNumericAtts"] == pytest.approx(58.375455, rel=1e-7)
    assert german["Quartile1SkewnessOfNumericAtts"] == pytest.approx(-0.272570, rel=1e-5)
    assert german["MeanStdDevOfNumericAtts"] == pytest.approx(407.047619, rel=1e-8)
    assert vehicle["AutoCorrelation"] == pytest.approx(0.257988, abs=1e-6)
    assert german["EquivalentNumberOfAtts"] == pytest.approx(43.593036, rel=1e-6)
    assert german["MeanNoiseToSignalRatio"] == pytest.approx(69.927499, rel=1e-6)


def test_info_theory_matches_openml_on_german(computed, openml):
    names = [c for c in openml.columns if "AttributeEntropy" in c or "MutualInformation" in c]
    assert len(names) == 12
    for q in names:
        assert computed[31][q] == pytest.approx(openml.at[31, q], rel=1e-6), q


def test_undefined_where_openml_is_missing(computed, openml):
    # vehicle has no nominal attribute: OpenML gives NaN, autometa gives None
    for q in ("MeanAttributeEntropy", "MaxMutualInformation", "EquivalentNumberOfAtts"):
        assert math.isnan(openml.at[54, q])
        assert computed[54][q] is None


def test_naive_bayes_landmarker_close_to_weka(computed, openml):
    assert computed[54]["NaiveBayesAUC"] == pytest.approx(openml.at[54, "NaiveBayesAUC"], abs=0.01)
    assert computed[54]["NaiveBayesErrRate"] == pytest.approx(0.5449, abs=0.01)
    assert computed[31]["NaiveBayesErrRate"] == pytest.approx(0.248, abs=0.01)


# ---------------------------------------------------------------- definitions
def _mixed_frame(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "a": rng.normal(size=n),
        "b": rng.exponential(size=n),
        "const": np.full(n, 2.5),
        "c": pd.Categorical(rng.choice(["x", "y", "z"], n), categories=["x", "y", "z", "w"]),
        "d": pd.Categorical(rng.choice(["u", "v"], n)),
    })  # fmt: skip
    X.loc[:9, "a"] = np.nan
    X.loc[5:14, "c"] = np.nan
    y = pd.Series(pd.Categorical(np.where(X["b"] + rng.normal(size=n) > 1, "p", "q")))
    return X, y


def test_simple_counts_include_the_target():
    X, y = _mixed_frame()
    q = compute_metafeatures(X, y, "binary", groups=["simple"])
    assert q["NumberOfFeatures"] == 6 and q["NumberOfNumericFeatures"] == 3
    assert q["NumberOfSymbolicFeatures"] == 3  # c, d and the class
    assert q["NumberOfBinaryFeatures"] == 2  # d and the class; c declares 4 levels
    assert q["NumberOfMissingValues"] == 20
    assert q["NumberOfInstancesWithMissingValues"] == 15
    assert q["PercentageOfMissingValues"] == pytest.approx(100 * 20 / (6 * 300))
    changes = int((y.to_numpy()[1:] != y.to_numpy()[:-1]).sum())
    assert q["AutoCorrelation"] == pytest.approx((299 - changes) / 299)


def test_moments_are_bias_corrected_and_skip_constant_columns():
    X, y = _mixed_frame()
    q = compute_metafeatures(X, y, "binary", groups=["statistical"])
    num = X[["a", "b", "const"]]
    skews = num[["a", "b"]].skew().to_numpy()  # pandas: bias-corrected, NaN skipped
    assert q["MeanSkewnessOfNumericAtts"] == pytest.approx(skews.mean(), rel=1e-10)
    assert q["MaxKurtosisOfNumericAtts"] == pytest.approx(num[["a", "b"]].kurt().max(), rel=1e-10)
    assert q["MinStdDevOfNumericAtts"] == 0.0  # the constant column's sd counts
    sds = num.std().to_numpy()
    assert q["Quartile3StdDevOfNumericAtts"] == pytest.approx(
        np.percentile(sds, 75, method="weibull")
    )
    assert q["MaxNominalAttDistinctValues"] == 3 and q["MinNominalAttDistinctValues"] == 2


def test_quartiles_use_apache_legacy_percentile():
    X = pd.DataFrame({f"x{i}": np.arange(10.0) + 10 * i for i in range(4)})
    y = pd.Series(pd.Categorical(["a", "b"] * 5))
    q = compute_metafeatures(X, y, "binary", groups=["statistical"])
    # column means 4.5, 14.5, 24.5, 34.5: position p (n + 1) = 1.25 -> 4.5 + 0.25 * 10
    assert q["Quartile1MeansOfNumericAtts"] == pytest.approx(7.0)
    assert q["Quartile3MeansOfNumericAtts"] == pytest.approx(32.0)


def test_entropy_and_mutual_information_in_bits():
    X, y = _mixed_frame()
    q = compute_metafeatures(X, y, "binary", groups=["info_theory"])
    seen = X["c"].notna()
    h_c = stats.entropy(X["c"][seen].value_counts(), base=2)
    h_d = stats.entropy(X["d"].value_counts(), base=2)
    assert q["MaxAttributeEntropy"] == pytest.approx(max(h_c, h_d))
    mi_c = mutual_info_score(X["c"][seen], y[seen]) / np.log(2)
    mi_d = mutual_info_score(X["d"], y) / np.log(2)
    assert q["MeanMutualInformation"] == pytest.approx((mi_c + mi_d) / 2, abs=1e-12)
    assert q["ClassEntropy"] == pytest.approx(stats.entropy(y.value_counts(), base=2))


def test_derived_follow_auto_sklearn():
    X, y = _mixed_frame()
    q = compute_metafeatures(X, y, "binary", groups=["derived"])
    assert q["DatasetRatio"] == pytest.approx(5 / 300)
    assert q["LogInverseDatasetRatio"] == pytest.approx(math.log(60))
    assert q["NumberOfFeaturesWithMissingValues"] == 2
    p = y.value_counts(normalize=True).to_numpy()
    assert q["ClassProbabilitySTD"] == pytest.approx(p.std())
    assert (q["SymbolsMin"], q["SymbolsMax"], q["SymbolsSum"]) == (2.0, 3.0, 5.0)
    kurt = [stats.kurtosis(X[c].dropna()) for c in ("a", "b")]  # biased, constant skipped
    assert q["KurtosisMax"] == pytest.approx(max(kurt))
    assert 0 < q["PCAFractionOfComponentsFor95PercentVariance"] <= 1


def test_landmarkers_on_iris_are_sane_and_seeded():
    data = load_iris(as_frame=True)
    y = data.target.astype("category")
    q = compute_metafeatures(data.data, y, "multiclass", groups=["landmarking"])
    assert q == compute_metafeatures(data.data, y, "multiclass", groups=["landmarking"])
    assert q["kNN1NErrRate"] < 0.1 and q["NaiveBayesErrRate"] < 0.1
    assert q["DecisionStumpErrRate"] == pytest.approx(1 / 3, abs=0.02)  # one split, 3 classes
    assert q["REPTreeDepth3AUC"] > 0.9 and q["NaiveBayesKappa"] > 0.85


def test_regression_gets_autometa_landmarkers_and_openml_undefined():
    data = load_diabetes(as_frame=True)
    y = data.target.astype(float)
    q = compute_metafeatures(data.data, y, "regression")
    assert list(q) == metafeature_names("regression")
    assert q["NumberOfClasses"] == 0 and q["MajorityClassSize"] is None
    assert q["ClassEntropy"] is None and q["NaiveBayesAUC"] is None
    assert q["NumberOfNumericFeatures"] == 11  # the numeric target counts, as on OpenML
    assert q["AutoCorrelation"] == pytest.approx((441 - (y.iloc[0] - y.iloc[-1])) / 441)
    assert 0.3 < q["autometa.LinearR2"] < 0.6
    assert q["autometa.TreeDepth3R2"] > q["autometa.DecisionStumpR2"] > 0


def test_lightgbm_landmarkers_say_whether_capacity_pays():
    # an interaction target: 4-leaf trees cannot carve it as well as 31-leaf ones
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(-1, 1, size=(1500, 4)), columns=list("abcd"))
    smooth = np.sin(3 * X["a"]) * np.cos(3 * X["b"]) + X["c"] * X["d"]
    q = compute_metafeatures(X, smooth, "regression", groups=["landmarking"])
    assert q["autometa.GBMHighR2"] > 0.9
    assert q["autometa.GBMGainR2"] == q["autometa.GBMHighR2"] - q["autometa.GBMLowR2"] > 0.02
    # pure noise: the bigger model overfits more
    noise = pd.Series(rng.normal(size=1500))
    q = compute_metafeatures(X, noise, "regression", groups=["landmarking"])
    assert q["autometa.GBMGainR2"] < 0 and q["autometa.GBMLowR2"] < 0.05
    data = load_iris(as_frame=True)
    y = data.target.astype("category")
    q = compute_metafeatures(data.data, y, "multiclass", groups=["landmarking"])
    assert q["autometa.GBMLowAUC"] > 0.95 and q["autometa.GBMHighAUC"] > 0.95
    assert q == compute_metafeatures(data.data, y, "multiclass", groups=["landmarking"])


def test_lightgbm_landmarkers_repeat_on_small_samples_on_folds_of_their_own():
    from autometa.harvest.evaluate import fold_indices

    assert landmarking.gbm_repeats(2000) == 1  # a full subsample: one CV, as before
    assert landmarking.gbm_repeats(1000) == 3
    assert landmarking.gbm_repeats(40) == landmarking.GBM_MAX_REPEATS
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 150)
    X = (rng.normal(size=(300, 3)) + y[:, None] * [1.0, 0.0, 0.0]).astype(np.float32)
    sets = landmarking._gbm_fold_sets(y, 0, False)
    assert len(sets) == landmarking.gbm_repeats(300) == 5
    # never the splits the harvest cross-validates configurations on (repeats seeded 0, 1)
    evaluation = {
        tuple(test) for seed in (0, 1) for _, test in fold_indices(pd.Series(y), "binary", 3, seed)
    }
    tests = [tuple(test) for folds in sets for _, test in folds]
    assert not evaluation & set(tests) and len(set(tests)) == len(tests)
    # the landmarkers average the repeats' scores
    both = landmarking._gbm("binary", X, y, sets, 0)
    each = [landmarking._gbm("binary", X, y, [folds], 0) for folds in sets]
    for name in landmarking.gbm_names("binary")[:2]:
        assert both[name] == pytest.approx(np.mean([e[name] for e in each]))


def test_probes_are_stored_configurations_scored_against_the_defaults_proxy():
    import lightgbm as lgb
    from sklearn.metrics import r2_score

    from autometa.spaces import get_space

    space = get_space("lightgbm")
    design = {space.config_hash(c) for c in space.design("regression", 128)}
    assert all(space.config_hash(p) in design for p in probes.PROBES.values())
    # each gain: pooled out-of-fold R² on the landmarkers' folds minus GBMHigh's
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    q = compute_metafeatures(X, y, "regression", groups=["landmarking"])
    data = PreparedData(X, y, "regression")
    design32 = data.sample_design.astype(np.float32)
    target = data.y_values[data.sample_rows]
    sets = landmarking._gbm_fold_sets(target, 0, True)
    assert len(sets) == 5  # 442 rows: the CV is repeated

    def pooled_r2(params):
        per = []
        for folds in sets:
            pred = np.empty(len(target))
            for train, test in folds:
                model = lgb.LGBMRegressor(
                    **params, max_bin=63, random_state=0, n_jobs=1, verbosity=-1
                ).fit(design32[train], target[train])
                pred[test] = model.predict(design32[test])
            per.append(r2_score(target, pred))
        return np.mean(per)

    for k, params in probes.PROBES.items():
        expected = pooled_r2({**params, "subsample_freq": 1}) - q["autometa.GBMHighR2"]
        assert q[f"autometa.Probe{k}Gain"] == pytest.approx(expected, abs=1e-12)
    gains = [q[f"autometa.Probe{k}Gain"] for k in probes.PROBES]
    assert q["autometa.ProbeMaxGain"] == max(gains) > 0.05  # diabetes: slow, small trees win


def test_probes_on_classes_and_categories():

    X, y = _mixed_frame()
    q = compute_metafeatures(X, y, "binary", groups=["landmarking"])
    gains = [q[n] for n in probes.names()]
    assert all(isinstance(g, float) and -1 < g < 1 for g in gains)
    assert q["autometa.ProbeMaxGain"] == max(gains[:-1])
    data = load_iris(as_frame=True)  # multiclass; 150 rows: probe 2 (86 rows per leaf) can't split
    q = compute_metafeatures(data.data, data.target.astype("category"), "multiclass",
                             groups=["landmarking"])  # fmt: skip
    assert q["autometa.Probe2Gain"] < -0.3 < q["autometa.Probe1Gain"]
    # a constant regression target: no probe can be scored
    q = compute_metafeatures(X, pd.Series(np.ones(len(X))), "regression", groups=["landmarking"])
    assert all(q[n] is None for n in probes.names())


# ---------------------------------------------------------------- API and robustness
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_names_are_stable_and_unique(task):
    names = metafeature_names(task)
    assert len(names) == len(set(names))
    assert names == [n for g in GROUPS for n in metafeature_names(task, groups=[g])]
    ours = [n for n in names if n.startswith("autometa.")]
    assert any("R2" in n for n in ours) == (task == "regression")
    assert [n for n in ours if "GBM" in n] == landmarking.gbm_names(task)
    assert [n for n in ours if "Probe" in n] == probes.names()


def test_same_keys_whatever_the_data():
    X, y = _mixed_frame()
    keys = metafeature_names("binary")
    for frame in (X, X[["a"]], X[["c", "d"]], X.iloc[:, :0], X.iloc[:3]):
        q = compute_metafeatures(frame, y.iloc[: len(frame)], "binary")
        assert list(q) == keys
        assert all(v is None or (isinstance(v, float) and math.isfinite(v)) for v in q.values())


@pytest.mark.parametrize("n", [2, 3, 5])
def test_tiny_regression_gives_all_keys(n):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": [np.nan] * n})
    q = compute_metafeatures(X, pd.Series(rng.normal(size=n)), "regression")
    assert list(q) == metafeature_names("regression")
    assert all(v is None or (isinstance(v, float) and math.isfinite(v)) for v in q.values())


def test_bool_and_text_columns_are_nominal():
    X, y = _mixed_frame()
    X = X.assign(flag=X["a"] > 0, text=X["d"].astype(str).astype(object))
    q = compute_metafeatures(X, y, "binary", groups=["simple"])
    assert q["NumberOfSymbolicFeatures"] == 5


def test_subsample_is_stratified():
    rng = np.random.default_rng(0)
    n = 10_000
    y = pd.Series(pd.Categorical(rng.choice(["a", "b", "c"], n, p=[0.7, 0.25, 0.05])))
    data = PreparedData(pd.DataFrame({"x": rng.normal(size=n)}), y, "multiclass")
    rows = data.sample_rows
    assert len(rows) == 2000 and len(np.unique(rows)) == 2000
    expected = 2000 * np.bincount(data.y_codes) / n
    assert np.all(np.abs(np.bincount(data.y_codes[rows]) - expected) <= 1)


def _wide_mixed(n: int, seed: int = 0) -> pd.DataFrame:
    """Numeric (some missing), text with missing, boolean and a categorical with a level
    rarer than 1 in 2,000: what the landmarking sample must keep as on the whole data."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.normal(size=n),
        "b": rng.choice(np.array(["x", "y", "z", None], dtype=object), size=n),
        "c": rng.random(n) < 0.3,
        "d": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
        "e": pd.Categorical(rng.choice(["p", "q", "r", "s"], n, p=[0.5, 0.3, 0.1995, 0.0005])),
    })  # fmt: skip


@pytest.mark.parametrize(
    ("n", "task", "seed"),
    [(7000, "multiclass", 0), (7000, "binary", 3), (7000, "regression", 0), (600, "binary", 0)],
)
def test_landmarkers_of_the_sample_equal_those_of_the_whole_data(n, task, seed):
    X = _wide_mixed(n, seed)
    rng = np.random.default_rng(seed + 1)
    if task == "regression":
        y = pd.Series(X["a"].to_numpy() * 2 + rng.normal(size=n))
    else:
        labels = ["u", "v", "w"] if task == "multiclass" else ["u", "v"]
        y = pd.Series(rng.choice(labels, n))
    if seed:  # integer column names and a repeated index must not matter either
        X.columns = range(X.shape[1])
        X.index = y.index = np.arange(n) // 2
    whole = compute_metafeatures(X, y, task, groups="landmarking", random_state=seed)
    Xs, ys = landmarking_sample(X, y, task, random_state=seed)
    assert list(Xs.columns) == list(X.columns)
    assert len(Xs) == min(n, 2000) and Xs.index.equals(ys.index)
    assert compute_metafeatures(Xs, ys, task, groups="landmarking", random_state=seed) == whole
    assert any(v is not None for v in whole.values())


def test_groups_other_than_landmarking_need_no_scikit_learn():
    code = (
        "import sys, pandas as pd\n"
        "from autometa.metafeatures import compute_metafeatures, landmarking_sample\n"
        "X = pd.DataFrame({'a': [1.0, 2.0, 3.0, 4.0], 'b': ['x', 'y', 'x', 'y']})\n"
        "y = pd.Series(['p', 'q', 'p', 'q'])\n"
        "groups = ['simple', 'statistical', 'info_theory', 'derived']\n"
        "compute_metafeatures(X, y, 'binary', groups=groups)\n"
        "landmarking_sample(X, y, 'binary')\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'lightgbm') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "call",
    [
        lambda X, y: compute_metafeatures(X, y, "clustering"),
        lambda X, y: compute_metafeatures(X, y.iloc[:5], "binary"),
        lambda X, y: compute_metafeatures(X.to_numpy(), y, "binary"),
        lambda X, y: compute_metafeatures(X, y, "binary", groups=["landmarks"]),
        lambda X, y: compute_metafeatures(X.iloc[:0], y.iloc[:0], "binary"),
        lambda X, y: compute_metafeatures(X, y.astype(object).where(y != "p"), "binary"),
        lambda X, y: compute_metafeatures(X, y, "regression"),
        lambda X, y: compute_metafeatures(X, y, "binary", groups=5),
        lambda X, y: compute_metafeatures(X, y, "binary", groups=[]),
        lambda X, y: compute_metafeatures(X, pd.Series(range(len(y))), "binary"),  # 50 classes
    ],
)
def test_bad_input_raises_data_error(call):
    X, y = _mixed_frame(50)
    with pytest.raises(DataError):
        call(X, y)


def test_groups_may_be_any_iterable() -> None:
    X, y = _mixed_frame(50)
    assert compute_metafeatures(X, y, "binary", groups=iter(["simple"])) == compute_metafeatures(
        X, y, "binary", groups=["simple"]
    )
