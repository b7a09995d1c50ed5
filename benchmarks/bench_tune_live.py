"""``tune`` on the live check's hold-out tables (never harvested), every method on the live
check's shared 5-fold CV: ``tune --trials 10`` (MetaSampler) and ``tune --sampler tpe`` (the
top five enqueued, 10 trials) against cold TPE with 10 and 50 trials over a broad LightGBM
space written as a user would (:mod:`autometa.benchmark.live.user_space`). The defaults'
scores and cold TPE over autometa's own space come from a live-check run on the same
tables and folds. ``--nested`` instead holds out a fifth of each table's rows, searches the
rest, and scores each method's winner on the held-out rows (the winner's curse).

    python benchmarks/live_check.py --index corpus/holdout_index.csv --json live.json \
        --cache live_cache.json
    python benchmarks/bench_tune_live.py --index corpus/holdout_index.csv --live live.json \
        --cache live_cache.json --state tune_live.json [--nested]

``--state`` keeps every finished cell and each cold-TPE trial: a rerun resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from autometa.benchmark.live.folds import folds_id, make_folds
from autometa.benchmark.live.tasks import Task, load_tasks
from autometa.benchmark.live.tpe import run_tpe
from autometa.metrics import METRIC_DIRECTION

RECOMMENDER: list = []  # one knowledge base for every search


class State:
    """Finished cells and cold-TPE trials, written after each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cells = json.loads(path.read_text()) if path.exists() else {}

    def cell(self, key: str, compute) -> dict:
        if key not in self.cells or "done" not in self.cells[key]:
            self.cells[key] = {**compute(self.cells.get(key, {})), "done": True}
            self.save()
        return self.cells[key]

    def save(self) -> None:
        self.path.write_text(json.dumps(self.cells))


def user_tpe(state: State, key: str, task: Task, folds, n_trials: int, seed: int) -> list:
    """Cold TPE's trials over the user's space, resumed trial by trial."""

    def compute(partial: dict) -> dict:
        trials = partial.setdefault("trials", [])
        state.cells[key] = partial

        def keep(record: dict) -> None:
            trials.append(record)
            state.save()

        run_tpe(task, folds, n_trials, seed=seed, n_jobs=1, done=list(trials), on_trial=keep,
                space="user")  # fmt: skip
        return {"trials": trials}

    return state.cell(key, compute)["trials"]


def tuned(task: Task, folds, sampler: str, n_trials: int, seed: int, **options) -> dict:
    from autometa.optuna.tune import tune
    from autometa.recommendation.recommender import Recommender

    if not RECOMMENDER:
        RECOMMENDER.append(Recommender())
    start = time.perf_counter()
    result = tune(task.X, task.y, cv=folds, n_trials=n_trials, sampler=sampler, seed=seed,
                  recommender=RECOMMENDER[0], **options)  # fmt: skip
    return {"score": result.best_value, "params": result.best_params,
            "seconds": time.perf_counter() - start}  # fmt: skip


def best(trials: list, sign: float, n: int) -> dict:
    done = [t for t in trials[:n] if t.get("score") is not None]
    return max(done, key=lambda t: sign * t["score"])


def cv_row(state: State, task: Task, live_row: dict, cells: dict, seed: int) -> dict:
    folds = make_folds(task, 5, seed)
    if folds_id(folds) != live_row["folds_id"]:
        sys.exit(f"bench_tune_live: {task.name}: not the live run's folds")
    sign = METRIC_DIRECTION[live_row["metric"]]
    user = user_tpe(state, f"{task.name}|user_tpe", task, folds, 50, seed)
    own = cells[f"{task.name}|tpe"]["trials"]
    meta = state.cell(f"{task.name}|meta_10", lambda _: tuned(task, folds, "meta", 10, seed))
    top5 = state.cell(f"{task.name}|tpe_top5_10", lambda _: tuned(task, folds, "tpe", 10, seed))
    stopped = state.cell(
        f"{task.name}|meta_10_holdout",
        lambda _: tuned(task, folds, "meta", 10, seed, early_stopping="holdout"),
    )
    return {
        "table": task.name, "metric": live_row["metric"], "sign": sign,
        "default": live_row["scores"]["default"],
        "tpe_10": best(user, sign, 10)["score"], "tpe_50": best(user, sign, 50)["score"],
        "tpe_top5_10": top5["score"], "meta_10": meta["score"],
        "own_tpe_50": best(own, sign, 50)["score"],
        "meta_trees": meta["params"].get("n_estimators"),
        "meta_es_10": stopped["score"], "meta_es_trees": stopped["params"].get("n_estimators"),
        "tpe_50_trees": best(user, sign, 50)["params"].get("n_estimators"),
        "meta_seconds": meta["seconds"],
    }  # fmt: skip


def nested_row(state: State, task: Task, live_row: dict, seed: int) -> dict:
    """Search on four fifths of the rows; refit each winner there, score the rest."""
    from sklearn.model_selection import train_test_split

    from autometa.benchmark.live.folds import fold_score, predict
    from autometa.benchmark.live.user_space import user_factory
    from autometa.spaces import get_space

    stratify = None if task.kind == "regression" else task.target
    inner, outer = train_test_split(np.arange(len(task.y)), test_size=0.2, random_state=seed,
                                    stratify=stratify)  # fmt: skip
    part = replace(
        task,
        X=task.X.iloc[inner].reset_index(drop=True),
        y=task.y.iloc[inner].reset_index(drop=True),
    )  # typed as the whole table
    folds = make_folds(part, 5, seed)
    sign = METRIC_DIRECTION[live_row["metric"]]
    user = user_tpe(state, f"{task.name}|nested_user_tpe", part, folds, 50, seed)
    meta = state.cell(f"{task.name}|nested_meta_10",
                      lambda _: tuned(part, folds, "meta", 10, seed))  # fmt: skip
    space = get_space("lightgbm")
    winners = {
        "meta_10": (meta["score"], space.estimator_class(task.task_type)(**meta["params"])),
        "tpe_50": (best(user, sign, 50)["score"],
                   user_factory(best(user, sign, 50)["params"], task, seed, 1)(None, None)),
        "tpe_10": (best(user, sign, 10)["score"],
                   user_factory(best(user, sign, 10)["params"], task, seed, 1)(None, None)),
    }  # fmt: skip
    row = {"table": task.name, "metric": live_row["metric"], "sign": sign}
    for name, (cv_score, model) in winners.items():
        model.fit(part.X, part.target)
        held = fold_score(task, task.target[outer], predict(model, task.X.iloc[outer], task))
        row[f"{name}_cv"], row[f"{name}_held_out"] = cv_score, float(held)
    return row


def summary(rows: list[dict]) -> list[str]:
    lines = []
    for method in ("meta_10", "meta_es_10", "tpe_top5_10"):
        for ref in ("tpe_50", "own_tpe_50"):
            wins = sum(r["sign"] * (r[method] - r[ref]) >= 0 for r in rows)
            gains = [(r[method] - r["default"]) / (r[ref] - r["default"])
                     for r in rows if r["sign"] * (r[ref] - r["default"]) > 0]  # fmt: skip
            lines.append(
                f"{method} >= {ref} on {wins}/{len(rows)} tables; gain captured of its gain "
                f"over the defaults: mean {np.mean(gains):.2f}, median {np.median(gains):.2f} "
                f"({len(gains)} tables)"
            )
    return lines


def nested_summary(rows: list[dict]) -> list[str]:
    """How much each winner's CV score flatters it on held-out rows, and who wins there."""
    lines = []
    for m in ("meta_10", "tpe_10", "tpe_50"):
        optimism = [r["sign"] * (r[f"{m}_cv"] - r[f"{m}_held_out"]) / abs(r[f"{m}_held_out"])
                    for r in rows]  # fmt: skip
        lines.append(f"{m}: CV score better than held-out by a mean {np.mean(optimism):+.2%} "
                     f"(median {np.median(optimism):+.2%})")  # fmt: skip
    for where in ("cv", "held_out"):
        wins = sum(r["sign"] * (r[f"meta_10_{where}"] - r[f"tpe_50_{where}"]) >= 0 for r in rows)
        lines.append(f"{where}: meta_10 >= tpe_50 on {wins}/{len(rows)} tables")
    return lines


def table(rows: list[dict], cols: list[str]) -> None:
    print("| table | metric | " + " | ".join(cols) + " |")
    print("|---|---|" + "---:|" * len(cols))
    for r in rows:
        cells = " | ".join(f"{r[c]:.5g}" if isinstance(r[c], float) else str(r[c]) for c in cols)
        print(f"| {r['table']} | {r['metric']} | {cells} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="corpus/holdout_index.csv")
    parser.add_argument("--live", required=True, help="a live check's --json output")
    parser.add_argument("--cache", required=True, help="that run's --cache (TPE's trials)")
    parser.add_argument("--state", required=True, type=Path, help="resumable results")
    parser.add_argument("--nested", action="store_true", help="the winner's-curse check")
    args = parser.parse_args()
    live = json.loads(Path(args.live).read_text())
    cells = json.loads(Path(args.cache).read_text())["cells"]
    seed = int(live["settings"].get("seed", 0))
    rows_live = {r["dataset"]: r for r in live["rows"]}
    tasks = load_tasks(args.index, list(rows_live), max_rows=live["settings"].get("max_rows"),
                       seed=seed)  # fmt: skip
    state, rows = State(args.state), []
    for task in tasks:
        if args.nested:
            rows.append(nested_row(state, task, rows_live[task.name], seed))
        else:
            rows.append(cv_row(state, task, rows_live[task.name], cells, seed))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    if args.nested:
        table(rows, [f"{m}_{s}" for m in ("meta_10", "tpe_10", "tpe_50")
                     for s in ("cv", "held_out")])  # fmt: skip
        print("\n" + "\n".join(nested_summary(rows)))
        return
    table(rows, ["default", "tpe_10", "tpe_top5_10", "meta_10", "tpe_50", "own_tpe_50",
                 "meta_es_10", "meta_trees", "meta_es_trees", "tpe_50_trees"])  # fmt: skip
    print("\n" + "\n".join(summary(rows)))


if __name__ == "__main__":
    main()
