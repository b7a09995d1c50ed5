"""Do the meta-features share fold noise with the stored scores they are judged on?

The LightGBM landmarkers are cross-validated on the same seeded 3-fold splits as the first
CV repeat of every stored evaluation (seed 0), so a task's meta-features and its repeat-0
scores share split luck; the second repeat (seed 1) shares none. For each outer fold of the
leave-group-out benchmark (GroupKFold(10), seed 0, synthetic tables unscored) the default
stack is fitted three times on the same training tasks, on the scores of repeat 0, of
repeat 1 and of both, and each ranking is scored on each of the three sticks. Only tasks
with distinct scores in all three views take part (training and scoring).

    python scripts/split_coupling.py [--store URL] [--kinds classification regression]
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from _kb_args import parse_kb_args

from autometa.meta.data import build_metadata
from autometa.meta.evaluation import _scored_ids, outer_folds, score_rankings
from autometa.meta.stack import StackedMetaLearner
from autometa.store.snapshot import Snapshot

FOLDS_PER_REPEAT = 3


def repeat_view(kb: Snapshot, repeat: int | None) -> Snapshot:
    """The knowledge base with only one CV repeat's folds (``None``: every fold)."""
    ev = kb.evaluations
    if repeat is not None:
        ev = ev[ev["fold"] // FOLDS_PER_REPEAT == repeat].reset_index(drop=True)
    return Snapshot(kb.manifest, kb.tasks, kb.metafeatures, kb.configurations, ev)


def main() -> None:
    args, kb = parse_kb_args(__doc__, "store URL holding both repeats (default: shipped)")
    views = {"repeat 0": 0, "repeat 1": 1, "both repeats": None}
    for kind in args.kinds:
        data = {k: build_metadata(repeat_view(kb, r), "lightgbm", kind) for k, r in views.items()}
        common = data["repeat 0"].task_ids
        for d in data.values():
            common = np.intersect1d(common, d.task_ids)
        scored = np.intersect1d(_scored_ids(data["repeat 0"], "^synthetic/"), common)
        parts = []
        for fold, (train, test) in enumerate(outer_folds(data["repeat 0"], 10, 0)):
            train, test = np.intersect1d(train, common), np.intersect1d(test, common)
            mf = data["repeat 0"].metafeatures.loc[test]
            for trained, tdata in data.items():
                key = -StackedMetaLearner().fit(tdata, train).predict_batch(mf)["order"]
                for stick, sdata in data.items():
                    part = score_rankings(sdata, test, key)
                    parts.append(part.assign(trained=trained, stick=stick))
            print(f"{kind} fold {fold}", file=sys.stderr, flush=True)
        res = pd.concat(parts)
        res = res[res["task_id"].isin(scored)]
        print(f"\n### {kind} ({len(scored)} scored tasks)\n")
        print("| trained on | scored on | top-1 | best-of-top-5 | % worse than default |")
        print("|---|---|---:|---:|---:|")
        for (trained, stick), g in res.groupby(["trained", "stick"], sort=False):
            print(
                f"| {trained} | {stick} | {g['regret_top1'].mean():.4f} | "
                f"{g['regret_top5'].mean():.4f} | {100 * g['worse_than_default'].mean():.1f} |"
            )
        print("\nPaired against training on repeat 0, mean +- SE:\n")
        for stick, g in res.groupby("stick", sort=False):
            wide = g.pivot_table(
                index="task_id", columns="trained", values=["regret_top1", "regret_top5"]
            )
            for other in ("repeat 1", "both repeats"):
                for col in ("regret_top1", "regret_top5"):
                    d = wide[(col, other)] - wide[(col, "repeat 0")]
                    se = d.std(ddof=1) / np.sqrt(len(d))
                    what = f"scored on {stick}, trained on {other}, {col}"
                    print(f"- {what}: {d.mean():+.4f} +- {se:.4f}")


if __name__ == "__main__":
    main()
