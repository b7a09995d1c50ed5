"""Leave-group-out benchmark of the in-task race (``autometa recommend --race N``).

``keys``: the default stack's leave-group-out rankings (GroupKFold(10), as
``bench_loo.py``), plain and as served (guarded), for every stored LightGBM task, into an
.npz file (about 10 minutes on 2 cores).
``compute``: for each corpus table, the first ``--candidates`` configurations of both
rankings and the library default, fitted by :func:`autometa.recommendation.race.fold_scores` (the
product's race: the landmarking sample, its repeated 3-fold splits, the harvest's
estimators) on every fold, into a Parquet file (long: name, config_id, fold, value);
resumable, it appends as tables finish.
``holdout``: an out-of-sample check of the same races. Each table is split in halves
(stratified for classes; ``--split-seed``); the race runs on the first half among the
served ranking's first ``--race`` configurations and the default, and the race's pick,
the stack's top-1 and the default are then cross-validated (3 folds) on the second half,
which the race never saw. Paired per task: how often the race's pick
beats the stack's top-1 there, by how much, and how often each is worse than the default.
``bench``: the race re-orders each held-out task's first N candidates and the default by
their mean over the first R repeats; the picks are scored, like every leave-group-out
method, on the task's stored evaluations. Synthetic tables are unscored.

    python benchmarks/bench_race.py keys race_keys.npz
    python benchmarks/bench_race.py compute race_keys.npz race_folds.parquet --candidates 5
    python benchmarks/bench_race.py bench race_keys.npz race_folds.parquet
    python benchmarks/bench_race.py holdout race_keys.npz race_holdout.parquet --race 5
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
import pandas as pd

from autometa.benchmark.baselines import StackRanker
from autometa.benchmark.loo import outer_folds, scored_task_ids
from autometa.exceptions import AutometaError
from autometa.meta._base import first_evaluated, pick_regrets
from autometa.meta.data import build_metadata
from autometa.metrics import DEFAULT_METRICS, METRIC_DIRECTION, task_kind
from autometa.recommendation.race import race_candidates, race_order, run_race
from autometa.store.knowledge import knowledge_base

KINDS = ("classification", "regression")
RANKINGS = ("stack", "stack_guarded")
RACED = ("stack", "race")  # the holdout check's two picks


def keys(args: argparse.Namespace) -> None:
    kb = knowledge_base(user=False)
    out: dict[str, np.ndarray] = {}
    for kind in KINDS:
        data = build_metadata(kb, "lightgbm", kind)
        ids, rows = [], {name: [] for name in RANKINGS}
        for fold, (train, test) in enumerate(outer_folds(data, 10, args.seed)):
            scores = StackRanker().fit(data, train).scores(data.metafeatures.loc[test])
            ids.append(test)
            for name in RANKINGS:
                rows[name].append(scores[name])
            print(f"{kind}: fold {fold}", file=sys.stderr, flush=True)
        out[f"{kind}/task_ids"] = np.concatenate(ids)
        for name in RANKINGS:
            out[f"{kind}/{name}"] = np.concatenate(rows[name])
    np.savez(args.out, **out)


def _scored_tasks(kb: Any, keyfile: Any) -> Iterator[tuple[Any, str, dict[str, np.ndarray]]]:
    """(MetaData, table name, {ranking: its positions, best first}) per scored (not
    synthetic) task of ``keyfile``, evaluated configurations only."""
    for kind in KINDS:
        data = build_metadata(kb, "lightgbm", kind)
        ids = keyfile[f"{kind}/task_ids"]
        Y = data.normalised[data.rows(ids)]
        n = Y.shape[1]
        orders = {r: first_evaluated(keyfile[f"{kind}/{r}"], Y, n) for r in RANKINGS}
        scored = set(scored_task_ids(data, "^synthetic/"))
        for i, task in enumerate(ids):
            if int(task) in scored:
                ranked = {r: o[i][np.isfinite(Y[i, o[i]])] for r, o in orders.items()}
                yield data, str(data.tasks.loc[task, "name"]), ranked


def _candidates(kb: Any, keyfile: Any, n: int) -> list[tuple[str, dict[int, dict]]]:
    """(table name, {config id: config}) per scored task: the first ``n`` of both rankings
    and the default."""
    frame = kb.configurations_frame(family="lightgbm")
    work = []
    for data, name, ranked in _scored_tasks(kb, keyfile):
        pos = {data.default_position} | {int(p) for o in ranked.values() for p in o[:n]}
        cids = sorted(int(data.config_ids[p]) for p in pos)
        work.append((name, {c: dict(frame.loc[c, "params"]) for c in cids}))
    return work


def _fold_rows(args: tuple[Any, dict[int, dict], int]) -> list[dict[str, Any]]:
    import autometa.spaces.lightgbm  # noqa: F401  (imported before the timing starts)
    from autometa.data import load_dataset
    from autometa.metafeatures import landmarking_sample
    from autometa.recommendation.race import fold_scores

    entry, configs, repeats = args
    warnings.simplefilter("ignore")
    ds = load_dataset(entry.path, target=entry.target, task=entry.task_type)
    sample = landmarking_sample(ds.X, ds.y, ds.task_type)
    metric = DEFAULT_METRICS[task_kind(ds.task_type)]
    start = time.perf_counter()
    per = fold_scores(sample, ds.task_type, "lightgbm", configs, metric, repeats=repeats, n_jobs=1)
    seconds = time.perf_counter() - start
    return [
        {"name": entry.name, "config_id": c, "fold": f, "value": v, "seconds": seconds}
        for c, values in per.items()
        for f, v in enumerate(values)
    ]


def compute(args: argparse.Namespace) -> None:
    from autometa.harvest.corpus import read_corpus

    kb = knowledge_base(user=False)
    entries = {e.name: e for e in read_corpus(args.index)}
    done = pd.read_parquet(args.out) if os.path.exists(args.out) else pd.DataFrame()
    have = set(done["name"]) if len(done) else set()
    work = [
        (entries[name], configs, args.repeats)
        for name, configs in _candidates(kb, np.load(args.keys), args.candidates)
        if name not in have
    ]
    print(f"{len(work)} tables to race ({len(have)} done)", file=sys.stderr, flush=True)
    parts = [done] if len(done) else []
    start = time.time()
    with ProcessPoolExecutor(args.workers) as pool:
        futures = [pool.submit(_fold_rows, w) for w in work]
        for n, future in enumerate(as_completed(futures), start=1):
            parts.append(pd.DataFrame(future.result()))
            if n % 10 == 0 or n == len(work):
                pd.concat(parts, ignore_index=True).to_parquet(args.out)
                print(f"{n}/{len(work)} ({time.time() - start:.0f} s)", file=sys.stderr, flush=True)


def _halves(args: tuple[Any, list[int], dict[int, dict], int, int]) -> dict[str, Any]:
    """One table: race on one half, the three picks cross-validated on the other."""
    from sklearn.model_selection import train_test_split

    from autometa.data import load_dataset
    from autometa.harvest.evaluate import evaluate_config, fold_indices
    from autometa.metafeatures import landmarking_sample
    from autometa.recommendation.race import race_scores

    entry, raced, configs, default, seed = args
    warnings.simplefilter("ignore")
    ds = load_dataset(entry.path, target=entry.target, task=entry.task_type)
    regression = ds.task_type == "regression"
    metric = DEFAULT_METRICS[task_kind(ds.task_type)]
    rows = np.arange(len(ds.y))
    a, b = train_test_split(rows, test_size=0.5, random_state=seed,
                            stratify=None if regression else ds.y)  # fmt: skip
    half_a = landmarking_sample(ds.X.iloc[a], ds.y.iloc[a], ds.task_type)
    race = race_scores(half_a, ds.task_type, "lightgbm", configs, metric, n_jobs=1)
    order = race_order(raced, race, METRIC_DIRECTION[metric])
    picks = {"stack": raced[0], "race": order[0], "default": default}
    Xb, yb = landmarking_sample(ds.X.iloc[b], ds.y.iloc[b], ds.task_type)
    folds = fold_indices(yb, ds.task_type, 3, 0)
    out: dict[str, Any] = {
        "name": entry.name,
        "kind": "regression" if regression else "classification",
    }
    for role, cid in picks.items():
        res = evaluate_config(Xb, yb, ds.task_type, "lightgbm", configs[cid], folds=folds)
        values = [r.scores.get(metric) for r in res]
        out[role] = np.nan if None in values else float(np.mean(values))  # type: ignore[arg-type]
        out[f"{role}_id"] = cid
    return out


def holdout(args: argparse.Namespace) -> None:
    from autometa.harvest.corpus import read_corpus

    kb = knowledge_base(user=False)
    entries = {e.name: e for e in read_corpus(args.index)}
    frame = kb.configurations_frame(family="lightgbm")
    work = []
    for data, name, ranked in _scored_tasks(kb, np.load(args.keys)):
        default = int(data.config_ids[data.default_position])
        ids = [int(data.config_ids[p]) for p in ranked["stack_guarded"]]
        raced = race_candidates(ids, args.race, default)  # as the recommender races
        configs = {c: dict(frame.loc[c, "params"]) for c in raced}
        work.append((entries[name], raced, configs, default, args.split_seed))
    print(f"{len(work)} tables", file=sys.stderr, flush=True)
    rows_out = []
    with ProcessPoolExecutor(args.workers) as pool:
        futures = [pool.submit(_halves, w) for w in work]
        for n, future in enumerate(as_completed(futures), start=1):
            rows_out.append(future.result())
            if n % 25 == 0:
                print(f"{n}/{len(work)}", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows_out)
    table.to_parquet(args.out)
    _holdout_report(table)


def _holdout_report(table: pd.DataFrame) -> None:
    print("| kind | tasks | race pick differs | race beats stack / ties / loses | mean gain "
          "over stack | stack worse than default | race worse than default |")  # fmt: skip
    print("|---|---:|---:|---|---:|---:|---:|")
    for kind, t in table.dropna(subset=["stack", "race", "default"]).groupby("kind"):
        sign = -1.0 if kind == "regression" else 1.0  # higher = better
        gain = sign * (t["race"] - t["stack"])
        if kind == "regression":
            gain = gain / t["stack"].abs()  # relative RMSE reduction
        wins, ties = int((gain > 1e-12).sum()), int((gain.abs() <= 1e-12).sum())
        worse = {c: 100 * float((sign * (t[c] - t["default"]) < -1e-12).mean()) for c in RACED}
        unit = "relative RMSE" if kind == "regression" else "AUC"
        print(f"| {kind} | {len(t)} | {int((t['race_id'] != t['stack_id']).sum())} | "
              f"{wins} / {ties} / {len(t) - wins - ties} | {gain.mean():+.4f} {unit} | "
              f"{worse['stack']:.1f} % | {worse['race']:.1f} % |")  # fmt: skip


def bench(args: argparse.Namespace) -> None:
    kb = knowledge_base(user=False)
    keyfile = np.load(args.keys)
    folds = pd.read_parquet(args.folds)
    print("| kind | ranking | race | repeats | top-1 regret | best-of-top-5 | % worse | tasks |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for kind in KINDS:
        data = build_metadata(kb, "lightgbm", kind)
        metric, d = data.metric, data.default_position
        direction = METRIC_DIRECTION[metric]
        ids = keyfile[f"{kind}/task_ids"]
        names = data.tasks.loc[ids, "name"].astype(str).to_numpy()
        ok = np.isin(ids, scored_task_ids(data, "^synthetic/")) & np.isin(names, folds["name"])
        Y = data.normalised[data.rows(ids)]
        ok &= np.isfinite(Y).any(axis=1)
        by_task = {n: g for n, g in folds.groupby("name")}
        for ranking in RANKINGS:
            key = keyfile[f"{kind}/{ranking}"]
            for race in args.races:
                for repeats in args.repeats if race else [0]:
                    new = key.copy()
                    for i in np.flatnonzero(ok) if race else []:
                        new[i] = _raced_key(key[i], Y[i], by_task[names[i]], data, race,
                                            repeats, d, direction)  # fmt: skip
                    r = pick_regrets(new[ok], Y[ok], d)
                    worse = 100 * np.nanmean(r["worse"])
                    print(f"| {kind} | {ranking} | {race} | {repeats or '-'} | "
                          f"{r['top1'].mean():.4f} | {r['topk'].mean():.4f} | "
                          f"{worse:.1f} | {ok.sum()} |", flush=True)  # fmt: skip


def _raced_key(
    key: np.ndarray, y: np.ndarray, rows: pd.DataFrame, data: Any, race: int, repeats: int,
    d: int | None, direction: int,
) -> np.ndarray:  # fmt: skip
    """A task's ranking key with its first ``race`` candidates and the default re-ordered
    by their race score over the first ``repeats`` repeats (3 folds each)."""
    order = first_evaluated(key[None, :], y[None, :], len(y))[0]
    ids = [int(data.config_ids[p]) for p in order if np.isfinite(y[p])]
    mean = rows[rows["fold"] < 3 * repeats].groupby("config_id")["value"]
    scores = {int(c): (None if v.isna().any() else float(v.mean())) for c, v in mean}
    default = int(data.config_ids[d]) if d is not None else None
    new_order, _ = run_race(ids, race, default, lambda raced: scores, direction)
    pos = {int(c): p for p, c in enumerate(data.config_ids)}
    out = np.full(len(key), -np.inf)
    out[[pos[c] for c in new_order]] = -np.arange(len(new_order), dtype=float)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    k = sub.add_parser("keys", help="the stack's leave-group-out rankings")
    k.add_argument("out", help=".npz file to write")
    k.add_argument("--seed", type=int, default=0, help="GroupKFold seed (default: 0)")
    c = sub.add_parser("compute", help="race fold scores of each task's candidates")
    c.add_argument("keys", help="the .npz file of `keys`")
    c.add_argument("out", help="Parquet file to write (resumed if it exists)")
    c.add_argument("--index", default="corpus/index.csv", help="corpus index")
    c.add_argument("--candidates", type=int, default=5, help="first N of each ranking")
    c.add_argument("--repeats", type=int, default=2, help="most race CV repeats (default: 2)")
    c.add_argument("--workers", type=int, default=2, help="processes (default: 2)")
    b = sub.add_parser("bench", help="leave-group-out regrets with races")
    b.add_argument("keys", help="the .npz file of `keys`")
    b.add_argument("folds", help="the Parquet file of `compute`")
    b.add_argument("--races", type=lambda s: [int(x) for x in s.split(",")],
                   default=[0, 1, 2, 3, 5], help="race sizes (0 = no race)")  # fmt: skip
    b.add_argument("--repeats", type=lambda s: [int(x) for x in s.split(",")],
                   default=[1, 2], help="repeats of the 3-fold race CV used")  # fmt: skip
    h = sub.add_parser("holdout", help="race on one half of each table, score on the other")
    h.add_argument("keys", help="the .npz file of `keys`")
    h.add_argument("out", help="Parquet file to write (per-task scores)")
    h.add_argument("--race", type=int, default=5, help="candidates raced (default: 5)")
    h.add_argument("--index", default="corpus/index.csv", help="corpus index")
    h.add_argument("--split-seed", type=int, default=0, help="seed of the halves (default: 0)")
    h.add_argument("--workers", type=int, default=2, help="processes (default: 2)")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        commands = {"keys": keys, "compute": compute, "bench": bench, "holdout": holdout}
        commands[args.command](args)
    except AutometaError as exc:
        parser.error(str(exc))
    except OSError as exc:
        parser.error(f"cannot read {exc.filename or exc}: {exc.strerror or type(exc).__name__}")
    print(f"({time.perf_counter() - start:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
