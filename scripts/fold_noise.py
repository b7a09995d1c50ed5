"""How much of the leave-group-out regret is fold noise in the measuring stick?

The default stack's rankings (GroupKFold(10), seed 0, synthetic tables unscored, as
``bench_loo.py``) are scored with each held-out task's scores averaged over every subset of
k of its stored folds (k = 1 .. the number of folds given), and the regrets are
extrapolated to more folds with regret = a + b / k (fold noise adds variance in 1 / k; on the
regression tasks' six stored folds this fits the measured curve to 0.0001, a + b / sqrt(k)
to 0.0005).

    python scripts/fold_noise.py --kinds classification regression [--folds 0,1,2]
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np
from _kb_args import add_kinds

from autometa.benchmark.loo import outer_folds, scored_task_ids
from autometa.benchmark.noise import fold_matrices
from autometa.meta._base import pick_regrets
from autometa.meta.data import build_metadata, minmax_rows
from autometa.meta.stack import StackedMetaLearner
from autometa.store.knowledge import knowledge_base


def _regrets(means: np.ndarray, key: np.ndarray, default: int | None) -> tuple[float, float, float]:
    """Top-1, best-of-top-5 and % worse than the default of rankings ``key`` on ``means``."""
    norm, ok = minmax_rows(means)
    r = pick_regrets(key[ok], norm[ok], default)
    return float(r["top1"].mean()), float(r["topk"].mean()), 100 * float(np.nanmean(r["worse"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_kinds(parser)
    parser.add_argument("--folds", default="0,1,2", help="stored folds to use (default: 0,1,2)")
    args = parser.parse_args()
    folds = [int(f) for f in args.folds.split(",")]
    kb = knowledge_base(user=False)
    for kind in args.kinds:
        data = build_metadata(kb, "lightgbm", kind)
        ids, keys = [], []
        for fold, (train, test) in enumerate(outer_folds(data, 10, 0)):
            out = StackedMetaLearner().fit(data, train).predict_batch(data.metafeatures.loc[test])
            ids.append(test)
            keys.append(-out["order"])
            print(f"{kind} fold {fold}", file=sys.stderr, flush=True)
        task_ids, key = np.concatenate(ids), np.concatenate(keys)
        scored = np.isin(task_ids, scored_task_ids(data, "^synthetic/"))
        task_ids, key = task_ids[scored], key[scored]
        cube = fold_matrices(kb, data, task_ids)  # direction-aware: higher is better
        default = data.default_position
        rows = {}
        for k in range(1, len(folds) + 1):
            per_subset = [
                _regrets(np.mean([cube[f] for f in subset], 0), key, default)
                for subset in itertools.combinations(folds, k)
            ]
            rows[k] = np.mean(per_subset, axis=0)
        print(f"\n### {kind} ({len(task_ids)} tasks)\n")
        print("| folds per score | top-1 | best-of-top-5 | % worse than default |")
        print("|---|---:|---:|---:|")
        for k, (r1, r5, worse) in rows.items():
            print(f"| {k} | {r1:.4f} | {r5:.4f} | {worse:.1f} |")
        if len(rows) >= 2:
            ks = np.array(list(rows))
            design = np.c_[np.ones(len(ks)), 1 / ks]
            fit = np.linalg.lstsq(design, np.array(list(rows.values())), rcond=None)[0]
            for target in (2 * len(folds), np.inf):
                r1, r5, worse = fit[0] + fit[1] / target
                print(f"| {target:g}, extrapolated | {r1:.4f} | {r5:.4f} | {worse:.1f} |")


if __name__ == "__main__":
    main()
