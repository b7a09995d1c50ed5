"""``tune`` on the stored tasks' own tables, each with its task group left out of the
knowledge base: real CV scores of every trial, so configurations outside the stored ones
(early-stopped trees, fresh proposals) are measured, not mapped to a stored evaluation.

A seeded sample of the corpus' harvested tables (``--per-kind`` classification and as many
regression), each searched by every ``--variants`` entry on the same folds:

- ``meta_es``: ``tune`` (MetaSampler) with the number of trees set by early stopping;
- ``meta_refit``: the same, then refitted on the whole training fold with those trees;
- ``meta_fixed``: the same with the number of trees searched (the space's, up to 1,024);
- ``meta_es_h10``: ``meta_es`` handing over to TPE (seeded with every trial) after 10;
- ``tpe_es``: cold TPE with early stopping (no recommendation enqueued).

One JSON line per (table, variant) in ``--out``; a rerun skips what is there.

    python benchmarks/bench_tune_stored.py --out tune_stored.jsonl --per-kind 16 \
        --trials 20 --variants meta_es,meta_fixed,meta_es_h10
    python benchmarks/bench_tune_stored.py --out tune_stored.jsonl --per-kind 10 \
        --trials 10 --variants meta_refit
    python benchmarks/bench_tune_stored.py --out tune_stored.jsonl --report
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

VARIANTS = {
    "meta_es": {"sampler": "meta", "early_stopping": "holdout"},
    "meta_fixed": {"sampler": "meta", "early_stopping": "off"},
    "meta_es_h10": {"sampler": "meta", "early_stopping": "holdout", "handover": 10},
    "meta_refit": {"sampler": "meta", "early_stopping": "refit"},
    "tpe_es": {"sampler": "tpe", "early_stopping": "holdout", "warm_start": 0},
}
BUDGETS = (1, 3, 5, 10, 20, 50)


def sample(index: Path, per_kind: int, seed: int) -> list[dict]:
    """``per_kind`` classification and ``per_kind`` regression rows of the index, seeded."""
    frame = pd.read_csv(index)
    regression = frame["task_type"] == "regression"
    picked = [
        part.sample(min(per_kind, len(part)), random_state=seed).to_dict("records")
        for part in (frame[~regression], frame[regression])
    ]
    return [row for pair in zip(*picked, strict=False) for row in pair]  # alternating


def run(row: dict, variant: str, args: argparse.Namespace, recommender) -> dict:
    from autometa.harvest.evaluate import evaluate_config, fold_indices
    from autometa.optuna.tune import tune
    from autometa.recommendation.recommender import dataset_of
    from autometa.spaces import get_space

    table = pd.read_parquet(args.index.parent / row["path"])
    dataset = dataset_of(table, target=row["target"])
    if not recommender.groups_of(dataset.fingerprint):
        raise SystemExit(f"{row['name']}: not a stored task (fingerprint unknown)")
    folds = fold_indices(dataset.y, dataset.task_type, args.cv, args.seed)
    start = time.perf_counter()
    result = tune(
        dataset, n_trials=args.trials, cv=folds, seed=args.seed, exclude_self=True,
        recommender=recommender, **{"warm_start": 5, **VARIANTS[variant]},
    )  # fmt: skip
    default = get_space("lightgbm").default(dataset.task_type)
    scores = evaluate_config(dataset.X, dataset.y, dataset.task_type, "lightgbm", default,
                             seed=args.seed, folds=folds)  # fmt: skip
    return {
        "table": row["name"], "variant": variant, "task_type": dataset.task_type,
        "metric": result.metric, "direction": result.direction,
        "default": float(np.mean([s.scores[result.metric] for s in scores])),
        "values": [t["value"] for t in result.trials],
        "trees": [t["params"].get("n_estimators") for t in result.trials],
        "best_trees": result.best_params.get("n_estimators"),
        "seconds": time.perf_counter() - start,
    }  # fmt: skip


def gains(records: list[dict], budget: int) -> pd.DataFrame:
    """Tables x variants: the best of the first ``budget`` trials' relative gain over the
    default configuration (positive: better)."""
    out: dict[str, dict[str, float]] = {}
    for r in records:
        sign = 1.0 if r["direction"] == "maximize" else -1.0
        values = [v for v in r["values"][:budget] if v is not None]
        if values:
            best = sign * max(sign * v for v in values)
            gain = sign * (best - r["default"]) / abs(r["default"])
            out.setdefault(r["variant"], {})[r["table"]] = gain
    return pd.DataFrame(out)


def report(records: list[dict]) -> None:
    variants = {r["variant"] for r in records}
    per_table: dict[str, set[str]] = {}
    for r in records:
        per_table.setdefault(r["table"], set()).add(r["variant"])
    complete = {t for t, v in per_table.items() if v == variants}  # every variant ran
    for regression in (False, True):
        part = [
            r for r in records
            if (r["task_type"] == "regression") == regression and r["table"] in complete
        ]  # fmt: skip
        if not part:
            continue
        tables = {r["table"] for r in part}
        print(f"\n#### {'regression' if regression else 'classification'}: {len(tables)} "
              "tables, mean relative gain over the default\n")  # fmt: skip
        by_budget = {b: gains(part, b) for b in (1, 5, 10, 20)}
        variants = sorted(by_budget[10].columns)
        print("| variant | " + " | ".join(f"{b} trials" for b in by_budget) + " |")
        print("|---|" + "---:|" * len(by_budget))
        for v in variants:
            cells = " | ".join(f"{by_budget[b][v].mean():.4f}" for b in by_budget)
            print(f"| {v} | {cells} |")
        pairs = (("meta_es", "meta_fixed", 10), ("meta_es_h10", "meta_es", 20),
                 ("meta_refit", "meta_fixed", 10))  # fmt: skip
        for a, b, budget in pairs:
            table = by_budget[budget]
            if {a, b} <= set(table):
                both = table[[a, b]].dropna()
                wins = int((both[a] >= both[b]).sum())
                print(f"\n{a} >= {b} at {budget} trials on {wins}/{len(both)} tables")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("corpus/index.csv"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-kind", type=int, default=10)
    parser.add_argument("--variants", default="meta_es,meta_fixed")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    done = [json.loads(line) for line in args.out.open()] if args.out.exists() else []
    if args.report:
        report(done)
        return
    from autometa.recommendation.recommender import Recommender

    recommender = Recommender()
    seen = {(d["table"], d["variant"]) for d in done}
    for row in sample(args.index, args.per_kind, args.seed):
        for variant in args.variants.split(","):
            if (row["name"], variant) in seen:
                continue
            record = run(row, variant, args, recommender)
            with args.out.open("a") as out:
                out.write(json.dumps(record) + "\n")
            values = [v for v in record["values"] if v is not None]
            best = max(values) if record["direction"] == "maximize" else min(values)
            print(f"{row['name']} {variant}: default {record['default']:.5g}, best {best:.5g} "
                  f"in {record['seconds']:.0f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
