"""Does a second CV repeat in the knowledge base help the meta-learner, on the same stick?

For each outer fold of the leave-group-out benchmark (GroupKFold(10), seed 0, synthetic
tables unscored, as ``bench_loo.py``) two default stacks are fitted on the same training
tasks: one on the scores of the first CV repeat only (folds 0-2, the knowledge base before
the second repeat) and one on the mean over every stored fold. Both rankings are scored on
both measuring sticks (repeat 0's means; every fold's means); the difference is paired per
held-out task, with its standard error. Tasks whose second repeat is incomplete are left
out of the scoring (they still train both stacks); a task that only the mean over both
repeats separates (all configurations tie on the first) is left out of both.

    python scripts/repeat_check.py [--store sqlite:///work_store/kb.db] [--kinds regression]
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from _kb_args import parse_kb_args

from autometa.meta.data import MetaData, build_metadata
from autometa.meta.evaluation import _scored_ids, outer_folds, score_rankings
from autometa.meta.stack import StackedMetaLearner
from autometa.store.snapshot import Snapshot

FOLDS_PER_REPEAT = 3


def first_repeat(kb: Snapshot) -> Snapshot:
    """The same knowledge base with only the first repeat's folds."""
    ev = kb.evaluations
    return Snapshot(
        kb.manifest,
        kb.tasks,
        kb.metafeatures,
        kb.configurations,
        ev[ev["fold"] < FOLDS_PER_REPEAT].reset_index(drop=True),
    )


def complete_tasks(kb: Snapshot, data: MetaData) -> np.ndarray:
    """Tasks where every configuration evaluated in repeat 0 has all folds of repeat 1."""
    ev = kb.evaluations_frame(family=data.family, metric=data.metric)
    ev = ev[ev["task_id"].isin(data.task_ids)]
    n = ev.groupby(["task_id", "config_id"])["fold"].nunique()
    full = n.groupby(level=0).min() >= 2 * FOLDS_PER_REPEAT
    return full.index[full].to_numpy()


def main() -> None:
    args, kb = parse_kb_args(__doc__, "store URL holding both repeats (default: shipped)")
    old_kb = first_repeat(kb)
    for kind in args.kinds:
        new, old = build_metadata(kb, "lightgbm", kind), build_metadata(old_kb, "lightgbm", kind)
        if np.setdiff1d(old.task_ids, new.task_ids).size:
            sys.exit("a task of the first repeat is missing from the view with both repeats")
        # a task whose configurations all tie on repeat 0 enters only with both repeats:
        # left out of both, so the folds and training tasks are the first repeat's
        extra = np.setdiff1d(new.task_ids, old.task_ids)
        scored = np.intersect1d(_scored_ids(old, "^synthetic/"), complete_tasks(kb, old))
        parts = []
        for fold, (train, test) in enumerate(outer_folds(old, 10, 0)):
            mf = old.metafeatures.loc[test]
            for trained, data in (("repeat 0", old), ("both repeats", new)):
                key = -StackedMetaLearner().fit(data, train).predict_batch(mf)["order"]
                for stick, sdata in (("repeat 0", old), ("both repeats", new)):
                    part = score_rankings(sdata, test, key)
                    parts.append(part.assign(trained=trained, stick=stick))
            print(f"{kind} fold {fold}", file=sys.stderr, flush=True)
        res = pd.concat(parts)
        res = res[res["task_id"].isin(scored)]
        print(f"\n### {kind} ({len(scored)} scored tasks with both repeats)\n")
        if extra.size:
            names = ", ".join(new.tasks.loc[extra, "name"].astype(str))
            print(f"Left out (all configurations tie on the first repeat): {names}.\n")
        print("| trained on | scored on | top-1 | best-of-top-5 | % worse than default |")
        print("|---|---|---:|---:|---:|")
        for (trained, stick), g in res.groupby(["trained", "stick"], sort=False):
            print(
                f"| {trained} | {stick} | {g['regret_top1'].mean():.4f} | "
                f"{g['regret_top5'].mean():.4f} | {100 * g['worse_than_default'].mean():.1f} |"
            )
        print("\nPaired (both repeats - repeat 0 training), mean +- SE:\n")
        for stick, g in res.groupby("stick", sort=False):
            wide = g.pivot_table(
                index="task_id", columns="trained", values=["regret_top1", "regret_top5"]
            )
            for col in ("regret_top1", "regret_top5"):
                d = wide[(col, "both repeats")] - wide[(col, "repeat 0")]
                se = d.std(ddof=1) / np.sqrt(len(d))
                print(f"- scored on {stick}, {col}: {d.mean():+.4f} +- {se:.4f}")


if __name__ == "__main__":
    main()
