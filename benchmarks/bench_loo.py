"""Leave-group-out benchmark of the meta-learner against baselines on the knowledge base.

    python benchmarks/bench_loo.py                   # shipped snapshot, lightgbm, both kinds
    python benchmarks/bench_loo.py --store sqlite:///work_store/kb.db --json loo.json
    python benchmarks/bench_loo.py --paired-with OLD_SNAPSHOT_DIR  # what a KB change did
    python benchmarks/bench_loo.py --margins 0,0.1,0.2,0.3    # gain vs safety of the margin
    python benchmarks/bench_loo.py --stack-param caution=1    # a stack variant
    python benchmarks/bench_loo.py --candidate-model lowrank  # stack with a new base model

Each fold of a GroupKFold over group_key (10 folds; --splits 0 = leave one group out)
trains every method on the other groups and scores its ranking on the held-out tasks'
stored evaluations. Prints a markdown table per task kind. With --paired-with, the same
benchmark also runs on another snapshot (e.g. the previous commit's, via ``git show``) and a
table gives, per method, the mean over the tasks both score (matched by name) on each side
and the paired difference with its standard error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autometa.benchmark.baselines import default_rankers
from autometa.benchmark.loo import LooReport, benchmark_loo
from autometa.meta import MODEL_REGISTRY
from autometa.meta.stack import StackedMetaLearner
from autometa.metrics import TASK_KINDS
from autometa.store.knowledge import knowledge_base
from autometa.store.snapshot import read_snapshot

MEASURES = ("regret_top1", "regret_top5", "worse_than_default")


def paired_table(old: pd.DataFrame, new: pd.DataFrame) -> str:
    """Markdown: per method and measure, old mean -> new mean (difference +- SE), paired by
    task name; ``old``/``new`` are per-task results with a ``name`` column."""
    both = old.merge(new, on=["name", "method"], suffixes=("_old", "_new"))
    lines = [
        f"Paired over {both['name'].nunique()} tasks scored on both sides (new - old):",
        "",
        "| method | top-1 regret | best-of-top-5 regret | % worse than default |",
        "|---|---|---|---|",
    ]
    for method, rows in both.groupby("method", sort=False):
        cells = []
        for m in MEASURES:
            scale = 100.0 if m == "worse_than_default" else 1.0
            a, b = scale * rows[f"{m}_old"], scale * rows[f"{m}_new"]
            d = b - a
            se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
            digits = 1 if scale == 100.0 else 4
            cells.append(
                f"{a.mean():.{digits}f} -> {b.mean():.{digits}f} "
                f"({d.mean():+.{digits}f} +- {se:.{digits}f})"
            )
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _param(item: str) -> tuple[str, Any]:
    """``"caution=1.5"`` -> ``("caution", 1.5)``, ``"n_splits=5"`` -> 5; other values stay
    text (``level2=lgbm``)."""
    key, sep, value = item.partition("=")
    if not sep:
        raise SystemExit(f"--stack-param expects KEY=VALUE, got {item!r}")
    for kind in (int, float):
        try:
            return key.strip(), kind(value)
        except ValueError:
            pass
    return key.strip(), value.strip()


def _named(report: LooReport, kb: Any, kind: str) -> pd.DataFrame:
    """The report's per-task rows of ``kind`` with each task's name (to pair by)."""
    return report.results[kind].merge(kb.tasks[["name"]], left_on="task_id", right_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="lightgbm", help="model family (default: lightgbm)")
    parser.add_argument(
        "--kinds",
        nargs="+",
        default=list(TASK_KINDS),
        choices=list(TASK_KINDS),
        help="task kinds to evaluate (default: all)",
    )
    parser.add_argument("--metric", default=None, help="default: roc_auc / rmse")
    parser.add_argument("--splits", type=int, default=10, help="GroupKFold folds; 0 = LOGO")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffled group folds")
    parser.add_argument("--store", default=None, help="read this store instead of the snapshot")
    parser.add_argument("--json", default=None, help="also write the results as JSON here")
    parser.add_argument(
        "--margins",
        default="",
        help="comma-separated default margins: adds stack_margin<m> rows (e.g. 0,0.1,0.2)",
    )
    parser.add_argument(
        "--stack-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a StackedMetaLearner parameter for the stack rows, e.g. caution=1 (repeatable)",
    )
    parser.add_argument(
        "--candidate-model",
        action="append",
        default=[],
        metavar="NAME",
        help="a registered base model to try: its own row and a stack+NAME stack (repeatable)",
    )
    parser.add_argument(
        "--paired-with",
        type=Path,
        default=None,
        help="snapshot folder to compare with, task by task (e.g. the previous commit's)",
    )
    parser.add_argument(
        "--unscored",
        default="^synthetic/",
        help="regex on task names: such tasks train but are not scored ('' scores all)",
    )
    args = parser.parse_args(argv)
    margins = [float(m) for m in args.margins.split(",") if m.strip()]
    stack_params = dict(_param(item) for item in args.stack_param)
    try:
        StackedMetaLearner(**stack_params)
    except TypeError as exc:
        raise SystemExit(f"--stack-param: {exc}") from None
    unknown = [n for n in args.candidate_model if n not in MODEL_REGISTRY]
    if unknown:
        raise SystemExit(f"--candidate-model: unknown {unknown}; known: {sorted(MODEL_REGISTRY)}")
    extra = [MODEL_REGISTRY[n]() for n in args.candidate_model]

    kb = knowledge_base(args.store, shipped=False) if args.store else knowledge_base(user=False)
    run = partial(
        benchmark_loo,
        family=args.family,
        task_kinds=args.kinds,
        metric=args.metric,
        n_splits=args.splits or None,
        seed=args.seed,
        rankers=default_rankers(margins, extra, **stack_params),
        unscored=args.unscored or None,
    )
    start = time.perf_counter()
    report = run(kb, progress=lambda line: print(line, file=sys.stderr, flush=True))
    source = args.store or kb.manifest.get("created_at", "shipped snapshot")
    print(f"<!-- knowledge base: {source}; {time.perf_counter() - start:.0f} s -->\n")
    print(report.to_markdown())
    for kind, facts in report.facts.items():
        if "skipped" in facts:
            print(f"{kind}: skipped ({facts['skipped']})")
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    if args.paired_with is not None:
        other = read_snapshot(args.paired_with)
        before = run(other, time_full_fit=False)
        for kind in report.results:
            if kind in before.results:
                print(f"### {kind}: {args.paired_with} -> this knowledge base\n")
                print(paired_table(_named(before, other, kind), _named(report, kb, kind)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
