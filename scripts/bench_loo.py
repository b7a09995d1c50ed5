"""Leave-group-out benchmark of the meta-learner against baselines on the knowledge base.

    python scripts/bench_loo.py                      # shipped snapshot, lightgbm, both kinds
    python scripts/bench_loo.py --store sqlite:///work_store/kb.db --json loo.json

Each fold of a GroupKFold over group_key (10 folds; --splits 0 = leave one group out)
trains every method on the other groups and scores its ranking on the held-out tasks'
stored evaluations. Prints a markdown table per task kind.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from autometa.meta.data import TASK_KINDS
from autometa.meta.evaluation import benchmark_loo
from autometa.store.knowledge import knowledge_base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="lightgbm")
    parser.add_argument("--kinds", nargs="+", default=list(TASK_KINDS), choices=list(TASK_KINDS))
    parser.add_argument("--metric", default=None, help="default: roc_auc / rmse")
    parser.add_argument("--splits", type=int, default=10, help="GroupKFold folds; 0 = LOGO")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--store", default=None, help="read this store instead of the snapshot")
    parser.add_argument("--json", default=None, help="also write the results as JSON here")
    parser.add_argument(
        "--unscored",
        default="^synthetic/",
        help="regex on task names: such tasks train but are not scored ('' scores all)",
    )
    args = parser.parse_args(argv)

    kb = knowledge_base(args.store, shipped=False) if args.store else knowledge_base(user=False)
    start = time.perf_counter()
    report = benchmark_loo(
        kb,
        args.family,
        args.kinds,
        metric=args.metric,
        n_splits=args.splits or None,
        seed=args.seed,
        unscored=args.unscored or None,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    source = args.store or kb.manifest.get("created_at", "shipped snapshot")
    print(f"<!-- knowledge base: {source}; {time.perf_counter() - start:.0f} s -->\n")
    print(report.to_markdown())
    for kind, facts in report.facts.items():
        if "skipped" in facts:
            print(f"{kind}: skipped ({facts['skipped']})")
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
