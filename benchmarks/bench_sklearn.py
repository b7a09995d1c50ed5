"""The scikit-learn estimators measured (docs/sklearn.md).

    python benchmarks/bench_sklearn.py live --index corpus/holdout_index.csv \
        --live live.json --state sklearn_live.json
    python benchmarks/bench_sklearn.py overhead
    python benchmarks/bench_sklearn.py tiny

``live``: ``MetaLGBMClassifier``/``MetaLGBMRegressor`` (``n_trials`` 0 and 10; ``--early-stopping``
as the estimators' option) cross-validated
on the live check's hold-out tables and folds, against the defaults and FLAML's zero-shot
estimator of a live-check run on the same folds; resumable through ``--state``.
``overhead``: the estimator's fit time on a 10,000 x 20 table against the chosen LightGBM
model's own fit. ``tiny``: 30- and 75-row samples of iris and breast cancer, the estimator
against LightGBM's defaults on the same folds, with the fold noise.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def live(args: argparse.Namespace) -> None:
    from autometa.benchmark.live.folds import cross_validate, folds_id, make_folds
    from autometa.benchmark.live.tasks import load_tasks
    from autometa.metrics import METRIC_DIRECTION
    from autometa.sklearn import MetaLGBMClassifier, MetaLGBMRegressor

    run = json.loads(Path(args.live).read_text())
    rows_live = {r["dataset"]: r for r in run["rows"]}
    seed = int(run["settings"].get("seed", 0))
    state = json.loads(args.state.read_text()) if args.state.exists() else {}
    stop = args.early_stopping
    suffix = "" if stop == "off" else f"_{stop}"
    names = [n for n in rows_live if not args.only or n in args.only.split(",")]
    tasks = load_tasks(args.index, names, max_rows=run["settings"].get("max_rows"), seed=seed)
    rows = []
    for task in tasks:
        folds = make_folds(task, 5, seed)
        live_row = rows_live[task.name]
        assert folds_id(folds) == live_row["folds_id"], "not the live run's folds"
        cls = MetaLGBMRegressor if task.kind == "regression" else MetaLGBMClassifier
        for trials in (0, 10):
            key = f"{task.name}|meta_{trials}{suffix}"
            if key not in state:
                result = cross_validate(
                    lambda X, y, n=trials, c=cls: c(n_trials=n, early_stopping=stop), task, folds
                )
                state[key] = {"score": result["score"], "seconds": result["seconds"]}
                args.state.write_text(json.dumps(state))
            print(key, state[key], flush=True)
        scores = live_row["scores"]
        rows.append({
            "table": task.name, "metric": live_row["metric"],
            "sign": METRIC_DIRECTION[live_row["metric"]],
            "default": scores["default"], "flaml": scores["flaml"],
            "meta_0": state[f"{task.name}|meta_0{suffix}"]["score"],
            "meta_10": state[f"{task.name}|meta_10{suffix}"]["score"],
            "seconds_0": state[f"{task.name}|meta_0{suffix}"]["seconds"],
            "seconds_10": state[f"{task.name}|meta_10{suffix}"]["seconds"],
        })  # fmt: skip
    cols = ["default", "flaml", "meta_0", "meta_10", "seconds_0", "seconds_10"]
    print("| table | metric | " + " | ".join(cols) + " |\n|---|---|" + "---:|" * len(cols))
    for r in rows:
        print(f"| {r['table']} | {r['metric']} | " + " | ".join(f"{r[c]:.5g}" for c in cols) + " |")
    for method in ("meta_0", "meta_10"):
        for ref in ("default", "flaml"):
            wins = sum(r["sign"] * (r[method] - r[ref]) > 0 for r in rows)
            print(f"{method} beats {ref} on {wins}/{len(rows)} tables")


def overhead(args: argparse.Namespace) -> None:
    import lightgbm

    from autometa.sklearn import MetaLGBMClassifier

    def table(seed: int) -> tuple[pd.DataFrame, pd.Series]:
        rng = np.random.default_rng(seed)
        X = pd.DataFrame(rng.normal(size=(10_000, 20)), columns=[f"f{i}" for i in range(20)])
        return X, (X["f0"] + X["f1"] * X["f2"] + rng.normal(size=len(X)) > 0).astype(int)

    X, y = table(1000)
    MetaLGBMClassifier().fit(X.iloc[:500], y.iloc[:500])  # loads the knowledge base once
    totals, own = [], []
    for i in range(args.repeat):
        rows, target = table(i)  # new rows each time: nothing cached describes them
        start = time.perf_counter()
        model = MetaLGBMClassifier().fit(rows, target)
        totals.append(time.perf_counter() - start)
        start = time.perf_counter()
        lightgbm.LGBMClassifier(**model.best_params_).fit(rows, target)
        own.append(time.perf_counter() - start)
    print(f"MetaLGBMClassifier().fit on 10,000 x 20: median {np.median(totals):.2f} s; the "
          f"chosen LGBMClassifier's own fit {np.median(own):.2f} s; autometa's overhead "
          f"{np.median(np.subtract(totals, own)):.2f} s ({args.repeat} runs)")  # fmt: skip


def tiny(args: argparse.Namespace) -> None:
    import lightgbm
    from sklearn.datasets import load_breast_cancer, load_iris
    from sklearn.model_selection import StratifiedKFold, train_test_split

    from autometa.sklearn import MetaLGBMClassifier

    print("| table | rows | default accuracy | autometa accuracy | difference | 2 x its SE |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, loader in (("iris", load_iris), ("breast_cancer", load_breast_cancer)):
        X, y = loader(return_X_y=True, as_frame=True)
        for n in (30, 75):
            part, _, target, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=0)
            diffs, base, ours = [], [], []
            for train, test in StratifiedKFold(3, shuffle=True, random_state=0).split(part, target):
                a = lightgbm.LGBMClassifier(verbosity=-1).fit(part.iloc[train], target.iloc[train])
                b = MetaLGBMClassifier().fit(part.iloc[train], target.iloc[train])
                base.append(a.score(part.iloc[test], target.iloc[test]))
                ours.append(b.score(part.iloc[test], target.iloc[test]))
                diffs.append(ours[-1] - base[-1])
            se = np.std(diffs, ddof=1) / np.sqrt(len(diffs))
            print(f"| {name} | {n} | {np.mean(base):.3f} | {np.mean(ours):.3f} | "
                  f"{np.mean(diffs):+.3f} | {2 * se:.3f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("live")
    p.add_argument("--index", required=True)
    p.add_argument("--live", required=True, help="a live check's --json output")
    p.add_argument("--state", type=Path, required=True)
    p.add_argument("--only", help="comma-separated table names (default: all)")
    p.add_argument(
        "--early-stopping",
        default="off",
        choices=("off", "holdout", "refit"),
        help="the estimators' early_stopping (results kept under its own keys)",
    )
    p = sub.add_parser("overhead")
    p.add_argument("--repeat", type=int, default=3)
    sub.add_parser("tiny")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    {"live": live, "overhead": overhead, "tiny": tiny}[args.what](args)


if __name__ == "__main__":
    main()
