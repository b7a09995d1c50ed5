"""Train the stack without its noise-dominated tasks? (exploratory)

A task's signal-to-noise ratio: the spread (std) of its configurations' mean scores over
the median standard error of a configuration's mean across folds. In each outer fold of the
benchmark (GroupKFold(10), seed 0, synthetic tables unscored) the default stack is fitted
on all training tasks and on those above the q-quantile of the ratio; every held-out task
is scored either way, and the paired differences are printed.

    python scripts/train_filter.py classification 0.1,0.2
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from _kb_args import add_kind

from autometa.benchmark.loo import outer_folds, score_rankings, scored_task_ids
from autometa.meta.data import build_metadata
from autometa.meta.stack import StackedMetaLearner
from autometa.store.knowledge import knowledge_base

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
add_kind(parser)
parser.add_argument("quantiles", nargs="?", default="0.1,0.2", help="comma-separated, in (0, 1)")
args = parser.parse_args()
kind = args.kind
try:
    drops = [float(x) for x in args.quantiles.split(",")]
except ValueError:
    parser.error(f"quantiles: comma-separated numbers, got {args.quantiles!r}")
if not all(0.0 < q < 1.0 for q in drops):
    parser.error(f"quantiles must be in (0, 1), got {args.quantiles!r}")
kb = knowledge_base(user=False)
data = build_metadata(kb, "lightgbm", kind, None)
scored = set(scored_task_ids(data, "^synthetic/"))
ev = kb.evaluations_frame(family="lightgbm", metric=data.metric)
ev = ev[ev["task_id"].isin(data.task_ids) & ev["config_id"].isin(data.config_ids)]
g = ev.groupby(["task_id", "config_id"])["value"]
per = pd.DataFrame({"mean": g.mean(), "se": g.std(ddof=1) / np.sqrt(g.count())})
snr = per.groupby(level=0).apply(lambda f: f["mean"].std() / max(float(f["se"].median()), 1e-12))
snr = snr.reindex(data.task_ids)
print(snr.describe())
names = data.tasks["name"]
print("lowest:", list(names.loc[snr.nsmallest(12).index]))

res = []
for fold, (train, test) in enumerate(outer_folds(data, 10, 0)):
    variants = {"all": train}
    for q in drops:
        cut = snr.loc[train].quantile(q)
        variants[f"drop{q:g}"] = train[snr.loc[train].to_numpy() > cut]
    for name, ids in variants.items():
        st = StackedMetaLearner().fit(data, ids)
        key = -st.predict_batch(data.metafeatures.loc[test])["order"].astype(float)
        res.append(score_rankings(data, test, key).assign(method=name, fold=fold))
    print("fold", fold, flush=True)
r = pd.concat(res)
r = r[r["task_id"].isin(scored)]
print(r.groupby("method")[["regret_top1", "regret_top5", "worse_than_default"]].mean())
base = r[r.method == "all"].set_index("task_id")
for name in r.method.unique():
    if name == "all":
        continue
    other = r[r.method == name].set_index("task_id").loc[base.index]
    for col in ("regret_top1", "regret_top5"):
        d = other[col] - base[col]
        print(name, col, f"{d.mean():+.4f} +- {d.std(ddof=1) / np.sqrt(len(d)):.4f}")
