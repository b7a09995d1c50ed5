"""Benchmark autometa's meta-features; prints markdown tables.

1. All groups on a large synthetic dataset (default 100,000 rows x 50 numeric + 5
   categorical columns, binary target): wall time of ``compute_metafeatures`` and the
   incremental time of each group on one shared prepared dataset. Target: <= 2 s.
2. pymfe ``MFE(groups=["general", "statistical", "info-theory"])`` fit + extract against
   autometa's simple + statistical + info_theory groups on a 10,000 x 30 dataset (27 numeric
   + 3 categorical columns), measured side by side in the same run. Target: ratio >= 10.

    python benchmarks/bench_metafeatures.py            # full sizes
    python benchmarks/bench_metafeatures.py --quick    # smaller sizes, a few seconds
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from importlib import import_module

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from autometa.metafeatures import GROUPS, PreparedData, compute_metafeatures

CHEAP_GROUPS = ["simple", "statistical", "info_theory"]


def synthetic(n_rows: int, n_numeric: int, n_categorical: int, seed: int = 0):
    """Numeric normal/lognormal columns with 1 % missing, categoricals with 3..30 levels,
    binary target depending on a few columns."""
    rng = np.random.default_rng(seed)
    num = rng.normal(size=(n_rows, n_numeric))
    num[:, ::3] = np.exp(num[:, ::3])  # some skewed columns
    num[rng.random(num.shape) < 0.01] = np.nan
    X = pd.DataFrame(num, columns=[f"x{j}" for j in range(n_numeric)])
    for j in range(n_categorical):
        levels = 3 + (27 * j) // max(n_categorical - 1, 1)
        X[f"c{j}"] = pd.Categorical.from_codes(rng.integers(0, levels, n_rows), range(levels))
    signal = np.nan_to_num(num[:, 0]) - np.nan_to_num(num[:, 1]) + rng.normal(size=n_rows)
    y = pd.Series(pd.Categorical(np.where(signal > 0, "pos", "neg")), name="target")
    return X, y


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Minimum wall time of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def group_times(X: pd.DataFrame, y: pd.Series, repeats: int) -> dict[str, float]:
    """Incremental time of preparing the data and of each group on the shared preparation."""
    best: dict[str, float] = {}
    for _ in range(repeats):
        start = time.perf_counter()
        data = PreparedData(X, y, "binary")
        times = {"(prepare)": time.perf_counter() - start}
        with threadpool_limits(limits=1, user_api="blas"):
            for g in GROUPS:
                start = time.perf_counter()
                import_module(f"autometa.metafeatures.{g}").compute(data)
                times[g] = time.perf_counter() - start
        best = {k: min(v, best.get(k, np.inf)) for k, v in times.items()}
    return best


def run_pymfe(X: pd.DataFrame, y: pd.Series) -> float | None:
    """Wall time of pymfe fit + extract, or None if pymfe is not installed."""
    try:
        from pymfe.mfe import MFE
    except ImportError:
        return None
    cat_cols = [j for j, c in enumerate(X.columns) if isinstance(X[c].dtype, pd.CategoricalDtype)]
    arr = X.astype(object).to_numpy()
    target = y.cat.codes.to_numpy()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mfe = MFE(groups=["general", "statistical", "info-theory"], random_state=0)
        mfe.fit(arr, target, cat_cols=cat_cols, suppress_warnings=True)
        mfe.extract(suppress_warnings=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Run both benchmarks and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller datasets")
    parser.add_argument("--repeats", type=int, default=3, help="best-of repeats (autometa)")
    parser.add_argument("--no-pymfe", action="store_true", help="skip the pymfe comparison")
    args = parser.parse_args(argv)
    big_rows, mfe_rows = (20_000, 2_000) if args.quick else (100_000, 10_000)

    X, y = synthetic(big_rows, 50, 5)
    total = best_of(lambda: compute_metafeatures(X, y, "binary"), args.repeats)
    parts = group_times(X, y, args.repeats)
    print(f"### All groups, {big_rows:,} x 55 (50 numeric + 5 categorical), binary\n")
    print("| step | seconds |\n|---|---|")
    for step, seconds in parts.items():
        print(f"| {step} | {seconds:.3f} |")
    print(f"| **compute_metafeatures, all groups** | **{total:.3f}** (target <= 2 s) |\n")

    Xs, ys = synthetic(mfe_rows, 27, 3, seed=1)
    ours = best_of(lambda: compute_metafeatures(Xs, ys, "binary", groups=CHEAP_GROUPS),
                   args.repeats)  # fmt: skip
    ours_all = best_of(lambda: compute_metafeatures(Xs, ys, "binary"), args.repeats)
    theirs = None if args.no_pymfe else run_pymfe(Xs, ys)
    print(f"### autometa vs pymfe, {mfe_rows:,} x 30 (27 numeric + 3 categorical), binary\n")
    print("| measurement | seconds |\n|---|---|")
    print(f"| autometa simple + statistical + info_theory | {ours:.4f} |")
    print(f"| autometa all groups | {ours_all:.4f} |")
    if theirs is None:
        print("| pymfe general + statistical + info-theory | not run |")
    else:
        print(f"| pymfe general + statistical + info-theory (fit + extract) | {theirs:.3f} |")
        print(f"| **ratio pymfe / autometa (same groups)** | **{theirs / ours:.0f}x** "
              "(target >= 10x) |")  # fmt: skip


if __name__ == "__main__":
    main()
