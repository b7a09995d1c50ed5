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
from _kb_args import parse_kb_args
from _repeats import FOLDS_PER_REPEAT, fit_and_score, print_grid, print_paired, repeat_view

from autometa.benchmark.loo import scored_task_ids
from autometa.meta.data import MetaData, build_metadata
from autometa.store.snapshot import Snapshot


def complete_tasks(kb: Snapshot, data: MetaData) -> np.ndarray:
    """Tasks where every configuration evaluated in repeat 0 has all folds of repeat 1."""
    ev = kb.evaluations_frame(family=data.family, metric=data.metric)
    ev = ev[ev["task_id"].isin(data.task_ids)]
    n = ev.groupby(["task_id", "config_id"])["fold"].nunique()
    full = n.groupby(level=0).min() >= 2 * FOLDS_PER_REPEAT
    return full.index[full].to_numpy()


def main() -> None:
    args, kb = parse_kb_args(__doc__, "store URL holding both repeats (default: shipped)")
    old_kb = repeat_view(kb, 0)
    for kind in args.kinds:
        new, old = build_metadata(kb, "lightgbm", kind), build_metadata(old_kb, "lightgbm", kind)
        if np.setdiff1d(old.task_ids, new.task_ids).size:
            sys.exit("a task of the first repeat is missing from the view with both repeats")
        # a task whose configurations all tie on repeat 0 enters only with both repeats:
        # left out of both, so the folds and training tasks are the first repeat's
        extra = np.setdiff1d(new.task_ids, old.task_ids)
        scored = np.intersect1d(scored_task_ids(old, "^synthetic/"), complete_tasks(kb, old))
        res = fit_and_score({"repeat 0": old, "both repeats": new}, old)
        res = res[res["task_id"].isin(scored)]
        print(f"\n### {kind} ({len(scored)} scored tasks with both repeats)\n")
        if extra.size:
            names = ", ".join(new.tasks.loc[extra, "name"].astype(str))
            print(f"Left out (all configurations tie on the first repeat): {names}.\n")
        print_grid(res)
        print_paired(res, "repeat 0", ("both repeats",))


if __name__ == "__main__":
    main()
