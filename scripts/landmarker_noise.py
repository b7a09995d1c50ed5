"""How noisy are the LightGBM landmarkers? Recompute them on every corpus task with several
fold seeds (the subsample stays the harvest's) and report, by landmarking sample size, the
spread of ``autometa.GBMGain*`` over seeds and how well one seed agrees with another.

    python scripts/landmarker_noise.py [--seeds 5] [--index corpus/index.csv]

Seeds are 7919 + s (never an evaluation's CV seed). "corr 1 vs 1" is the Spearman
correlation across tasks of the gain under two single seeds; "corr r vs r" of two disjoint
r-seed means (r = seeds // 2), which is what averaging r repeats would give.
"""

from __future__ import annotations

import argparse
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from autometa.exceptions import AutometaError
from autometa.harvest.corpus import CorpusEntry, read_corpus


def gains(entry: CorpusEntry, seeds: int) -> dict[str, object]:
    """The gain landmarker of one task under ``seeds`` fold seeds (NaN where undefined)."""
    from autometa.harvest.local import _load
    from autometa.metafeatures import landmarking as lm
    from autometa.metafeatures._base import PreparedData

    warnings.simplefilter("ignore")
    ds = _load(entry.path, entry.target, entry.task_type)
    data = PreparedData(ds.X, ds.y, ds.task_type)
    rows = data.sample_rows
    kind = "regression" if ds.task_type == "regression" else "binary"
    if kind == "regression":
        y = data.y_values[rows]
    else:
        y = np.unique(data.y_codes[rows], return_inverse=True)[1]
    X = data.sample_design.astype(np.float32)
    out: dict[str, object] = {"name": entry.name, "kind": kind, "n": len(rows)}
    for s in range(seeds):
        folds = lm.gbm_folds(y, lm.GBM_SEED_OFFSET + s, regression=kind == "regression")
        value = lm._gbm(kind, X, y, [folds], 0)[lm.gbm_names(ds.task_type)[2]]
        out[f"s{s}"] = np.nan if value is None else value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=6, help="fold seeds per task (>= 2)")
    parser.add_argument("--index", default="corpus/index.csv", help="the corpus to measure")
    parser.add_argument("--workers", type=int, default=2, help="processes")
    parser.add_argument("--csv", default=None, help="write the per-task values here")
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 (one seed has no spread)")
    try:
        entries = read_corpus(args.index)
    except AutometaError as exc:  # a missing or malformed index: one line, exit 2
        parser.error(str(exc))
    with ProcessPoolExecutor(args.workers) as pool:
        frame = pd.DataFrame(pool.map(gains, entries, [args.seeds] * len(entries), chunksize=4))
    if args.csv:
        frame.to_csv(args.csv, index=False)
    cols = [f"s{s}" for s in range(args.seeds)]
    half = args.seeds // 2
    labels = ["<=250", "251-500", "501-1000", "1001-1999", "2000"]
    frame["bucket"] = pd.cut(frame["n"], [0, 250, 500, 1000, 1999, 2000], labels=labels)
    for kind, part in frame.groupby("kind"):
        print(f"\n{kind}: {len(part)} tasks")
        print("| rows sampled | tasks | sd over seeds (median) | corr 1 vs 1 | "
              f"corr {half} vs {half} |\n|---|---:|---:|---:|---:|")  # fmt: skip
        for bucket, b in [*part.groupby("bucket", observed=True), ("all", part)]:
            v = b[cols].dropna()
            if len(v) < 3:
                continue
            sd = float(v.std(axis=1).median())
            one = float(spearmanr(v["s0"], v["s1"]).statistic)
            first, second = v[cols[:half]].mean(axis=1), v[cols[half : 2 * half]].mean(axis=1)
            many = float(spearmanr(first, second).statistic)
            print(f"| {bucket} | {len(v)} | {sd:.4f} | {one:.3f} | {many:.3f} |")


if __name__ == "__main__":
    main()
