"""How low can best-of-top-5 go? Alternative positions 2-5 from the same fitted stacks.

Exploratory, not a selection procedure: for each outer fold of the leave-group-out benchmark
(GroupKFold(10), seed 0, synthetic tables unscored, as ``bench_loo.py``) one default stack is
fitted, its top pick kept, and positions 2-5 re-chosen several ways; the oracle rows use the
held-out task's own scores and bound what any choice from that pool can reach.

    python scripts/top5_variants.py --kinds classification regression
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from _kb_args import add_kinds

from autometa.benchmark.loo import outer_folds, score_rankings, scored_task_ids
from autometa.meta._level2 import diversified_order
from autometa.meta.data import build_metadata, training_target
from autometa.meta.portfolio import greedy_portfolio
from autometa.meta.stack import StackedMetaLearner
from autometa.store.knowledge import knowledge_base

K = 5


def _fill(first: list[int], priority: np.ndarray) -> np.ndarray:
    """``first`` then every other candidate by priority."""
    rest = np.argsort(-np.nan_to_num(priority, nan=-np.inf), kind="stable")
    taken = set(first)
    return np.asarray(first + [int(c) for c in rest if c not in taken])


def _static(top: int, Y: np.ndarray, w: np.ndarray, pool: np.ndarray) -> list[int]:
    """Top pick, then greedily the pool member raising the weighted mean best score most,
    on raw scores (no recentring on the stack's predictions)."""
    filled = np.nan_to_num(Y, nan=0.0)
    covered, chosen = filled[:, top].copy(), [top]
    for _ in range(K - 1):
        gain = (np.maximum(covered[:, None], filled[:, pool]) * w[:, None]).sum(axis=0)
        gain[np.isin(pool, chosen)] = -np.inf
        c = int(pool[np.argmax(gain)])
        chosen.append(c)
        covered = np.maximum(covered, filled[:, c])
    return chosen


def fold_variants(data, train, test) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """Ranking keys (higher first) per variant for the held-out tasks of one fold."""
    stack = StackedMetaLearner().fit(data, train)
    mf = data.metafeatures.loc[test]
    out = stack.predict_batch(mf)
    priority = out["priority"]
    knn = stack.novelty_model_
    dist, nbrs = knn.kneighbors(knn.transform_.transform(mf), len(knn.X_))
    scale = max(float(np.median(knn.reference_)), 1e-9)
    Y_train = data.normalised[data.rows(train)]
    Y_test = data.normalised[data.rows(test)]
    pools = {n: greedy_portfolio(Y_train, n)[0] for n in (5, 8, 12, 16, 24)}
    n_cands = priority.shape[1]
    in_pool = {n: np.isin(np.arange(n_cands), p) for n, p in pools.items()}
    # the level-2 model's cross-fitted residuals on the training tasks
    residual = training_target(Y_train, stack.target) - stack.oof_level2_
    keys: dict[str, np.ndarray] = {}
    default = data.default_position
    selector = stack.feature_names_.index("selector")
    for t in range(len(test)):
        p, near = priority[t], nbrs[t]
        w = 1.0 / (dist[t] / scale + 0.05)
        flat = np.ones(len(near))
        shipped = np.argsort(out["order"][t])
        top = int(shipped[0])

        def div(samples: np.ndarray, weights: np.ndarray, pool: np.ndarray | None) -> np.ndarray:
            return diversified_order(p, samples, weights, K, pool)  # noqa: B023 (called now)

        by_priority = _fill([], p)
        by_selector = _fill([], out["features"][t, :, selector])
        div8 = div(knn.Y_[near], w, in_pool[8]).tolist()
        y = np.nan_to_num(Y_test[t], nan=-1.0)
        variants = {
            "shipped (pool 8, all tasks, inverse distance)": shipped,
            "by priority, no diversification": by_priority,
            **{f"pool {n}": div(knn.Y_[near], w, in_pool[n]) for n in (5, 12, 16, 24)},
            "every candidate, no pool": div(knn.Y_[near], w, None),
            "uniform weights": div(knn.Y_[near], flat, in_pool[8]),
            "weights squared": div(knn.Y_[near], w**2, in_pool[8]),
            "weights square-rooted": div(knn.Y_[near], np.sqrt(w), in_pool[8]),
            "min-max scores instead of ranks": div(Y_train[near], w, in_pool[8]),
            "level-2 residuals, weighted": div(residual[near], w, in_pool[8]),
            "level-2 residuals, uniform, no pool": div(residual, np.ones(len(residual)), None),
            "static complement (raw scores, uniform)": _fill(
                _static(top, Y_train, np.ones(len(Y_train)), pools[8]), p
            ),
            "static complement (raw scores, weighted)": _fill(
                _static(top, Y_train[near], w, pools[8]), p
            ),
            "pool 8 by priority": _fill(
                [top, *[int(c) for c in by_priority if in_pool[8][c] and c != top][: K - 1]], p
            ),
            "pool 8 by the selector's predicted score": _fill(
                [top, *[int(c) for c in by_selector if in_pool[8][c] and c != top][: K - 1]], p
            ),
            "the library default second, then diversified from the pool": _fill(
                [top, default, *[int(c) for c in div8 if c not in (top, default)][: K - 2]], p
            ),
            "positions 2-3 diversified, 4-5 by priority": _fill(
                [*div8[:3], *[int(c) for c in by_priority if c not in div8[:3]][:2]], p
            ),
            "oracle: top pick + best of pool 8": _fill(
                [top, int(pools[8][np.argmax(y[pools[8]])])], p
            ),
        }
        for name, order in variants.items():
            keys.setdefault(name, np.zeros(priority.shape))[t, order] = -np.arange(len(order))
    return keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_kinds(parser)
    args = parser.parse_args()
    kb = knowledge_base(user=False)
    for kind in args.kinds:
        data = build_metadata(kb, "lightgbm", kind, None)
        scored = set(scored_task_ids(data, "^synthetic/"))
        parts = []
        for fold, (train, test) in enumerate(outer_folds(data, 10, 0)):
            for name, key in fold_variants(data, train, test).items():
                parts.append(score_rankings(data, test, key).assign(method=name))
            print(f"{kind} fold {fold}", file=sys.stderr, flush=True)
        res = pd.concat(parts)
        res = res[res["task_id"].isin(scored)]
        table = res.groupby("method", sort=False)[["regret_top1", "regret_top5"]].mean()
        print(f"\n### {kind} ({len(scored)} tasks)\n\n| positions 2-5 | top-1 | best-of-top-5 |")
        print("|---|---:|---:|")
        for name, row in table.iterrows():
            print(f"| {name} | {row['regret_top1']:.4f} | {row['regret_top5']:.4f} |")


if __name__ == "__main__":
    main()
