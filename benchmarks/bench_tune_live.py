"""The warm-started search on the live check's hold-out tables: MetaSampler with 10 trials and
TPE with autometa's top five enqueued (10 trials), each trial scored by the live check's
shared 5-fold CV, against the defaults and cold TPE's first 10 and all 50 trials read from
a live-check run on the same tables and folds.

    python benchmarks/live_check.py --index corpus/holdout_index.csv --json live.json \
        --cache live_cache.json
    python benchmarks/bench_tune_live.py --index corpus/holdout_index.csv --live live.json \
        --cache live_cache.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from autometa.benchmark.live.folds import folds_id, make_folds
from autometa.benchmark.live.tasks import load_tasks
from autometa.benchmark.live.tpe import run_tpe
from autometa.metrics import METRIC_DIRECTION


def _row(task, live_row: dict, tpe_trials: list[dict], n_trials: int, seed: int) -> dict:
    import optuna

    from autometa.optuna import meta_sampler

    folds = make_folds(task, 5, seed)
    if folds_id(folds) != live_row["folds_id"]:
        sys.exit(f"bench_tune_live: {task.name}: not the live run's folds")
    sampler, result = meta_sampler(task.X, task.y, k=5, seed=seed)
    queued = [r.config for r in result.recommendations]
    start = time.perf_counter()
    meta = run_tpe(task, folds, n_trials, seed=seed, n_jobs=1, sampler=sampler)
    meta_s = time.perf_counter() - start
    tpe_enq = run_tpe(task, folds, n_trials, seed=seed, n_jobs=1, enqueue=queued,
                      sampler=optuna.samplers.TPESampler(seed=seed))  # fmt: skip
    sign = METRIC_DIRECTION[live_row["metric"]]
    first = [t["score"] for t in tpe_trials[:n_trials] if t.get("score") is not None]
    return {
        "table": task.name, "metric": live_row["metric"], "sign": sign,
        "default": live_row["scores"]["default"], "tpe_10": sign * max(sign * v for v in first),
        "tpe_50": live_row["scores"]["tpe"], "tpe_enqueued_10": tpe_enq["score"],
        "meta_10": meta["score"], "meta_seconds": meta_s,
    }  # fmt: skip


def _summary(rows: list[dict]) -> list[str]:
    wins = sum(r["sign"] * (r["meta_10"] - r["tpe_50"]) >= 0 for r in rows)
    gains = [
        (r["meta_10"] - r["default"]) / (r["tpe_50"] - r["default"])
        for r in rows
        if r["sign"] * (r["tpe_50"] - r["default"]) > 0
    ]
    return [
        f"MetaSampler at 10 trials >= cold TPE at 50 on {wins}/{len(rows)} tables",
        f"mean gain captured of TPE-50's gain over the defaults: "
        f"{sum(gains) / len(gains):.2f} ({len(gains)} tables where TPE-50 beat the defaults)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="corpus/holdout_index.csv")
    parser.add_argument("--live", required=True, help="a live check's --json output")
    parser.add_argument("--cache", required=True, help="that run's --cache (TPE's trials)")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    with open(args.live, encoding="utf-8") as fh:
        live = json.load(fh)
    with open(args.cache, encoding="utf-8") as fh:
        cells = json.load(fh)["cells"]
    seed = int(live["settings"].get("seed", 0))
    rows_live = {r["dataset"]: r for r in live["rows"]}
    tasks = load_tasks(args.index, list(rows_live), max_rows=live["settings"].get("max_rows"),
                       seed=seed)  # fmt: skip
    rows = []
    for task in tasks:
        trials = cells[f"{task.name}|tpe"]["trials"]
        rows.append(_row(task, rows_live[task.name], trials, args.trials, seed))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    cols = ["default", "tpe_10", "tpe_enqueued_10", "meta_10", "tpe_50"]
    print("| table | metric | " + " | ".join(cols) + " |")
    print("|---|---|" + "---:|" * len(cols))
    for r in rows:
        print(f"| {r['table']} | {r['metric']} | " + " | ".join(f"{r[c]:.5g}" for c in cols) + " |")
    print("\n" + "\n".join(_summary(rows)))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh)


if __name__ == "__main__":
    main()
