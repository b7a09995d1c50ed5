"""Exploration behind the LightGBM probes (docs/meta.md, "LightGBM probes"): what do
stored configurations cross-validated on the task itself add to the meta-learner?

``compute``: each corpus table's landmarking sample, the LightGBM landmarkers' folds (seed
+ 7919, repeated on small samples), stored configurations fitted as the harvest fits them
(native categoricals, 255 bins), mean-over-folds ROC AUC or RMSE per configuration, into a
Parquet file (about 6 minutes for six configurations on 2 cores).
``bench``: the default stack's leave-group-out regrets (GroupKFold(10), synthetic tables
unscored) without probe meta-features (the shipped ``autometa.Probe*`` dropped) and with
those from that file: each configuration's gain
over configuration 1 (LightGBM's defaults: AUC difference, relative RMSE reduction), plus
their maximum. ``upper``: the same with the first CV repeat's stored scores of the first
K greedy-portfolio members as the probes, scored on the second repeat (an upper bound).

    python scripts/probe_explore.py compute corpus/index.csv probes.parquet
    python scripts/probe_explore.py bench probes.parquet --use 6,76,89
    python scripts/probe_explore.py upper --members 4
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from autometa.benchmark.loo import outer_folds, scored_task_ids
from autometa.benchmark.noise import fold_matrices
from autometa.exceptions import AutometaError
from autometa.meta._base import pick_regrets
from autometa.meta.data import MetaData, build_metadata, minmax_rows
from autometa.meta.portfolio import greedy_portfolio
from autometa.meta.stack import StackedMetaLearner
from autometa.store.knowledge import knowledge_base

KINDS = ("classification", "regression")
HEADER = "| kind | stack | top-1 | best-of-top-5 | % worse | tasks |\n|---|---|---:|---:|---:|---:|"


def _probe_scores(args: tuple[Any, dict[int, dict[str, Any]], int]) -> dict[str, Any]:
    """One corpus table: each configuration's mean score over the landmarkers' folds."""
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score

    from autometa.harvest.local import _load
    from autometa.metafeatures import landmarking_sample
    from autometa.metafeatures.landmarking import _gbm_fold_sets

    entry, configs, seed = args
    warnings.simplefilter("ignore")
    ds = _load(entry.path, entry.target, entry.task_type)
    Xs, ys = landmarking_sample(ds.X, ds.y, ds.task_type, random_state=seed)
    regression = ds.task_type == "regression"
    if regression:
        y = np.asarray(ys, float)
    else:
        y = np.unique(np.asarray(ys.astype(str)), return_inverse=True)[1]
    make = lgb.LGBMRegressor if regression else lgb.LGBMClassifier
    out: dict[str, Any] = {"name": entry.name}
    for cid, params in configs.items():
        per = []
        try:
            for folds in _gbm_fold_sets(y, seed, regression):
                for train, test in folds:
                    model = make(**params, random_state=seed, n_jobs=1, verbosity=-1)
                    model.fit(Xs.iloc[train], y[train])
                    if regression:
                        per.append(np.sqrt(np.mean((model.predict(Xs.iloc[test]) - y[test]) ** 2)))
                    elif len(model.classes_) == 2:
                        per.append(roc_auc_score(y[test], model.predict_proba(Xs.iloc[test])[:, 1]))
                    else:
                        proba = model.predict_proba(Xs.iloc[test])
                        labels = model.classes_
                        per.append(roc_auc_score(y[test], proba, multi_class="ovr", labels=labels))
            out[f"p{cid}"] = float(np.mean(per))
        except Exception:  # an exploration: a table that cannot be scored is NaN
            out[f"p{cid}"] = np.nan
    return out


def compute(args: argparse.Namespace) -> None:
    from autometa.harvest.corpus import read_corpus

    kb = knowledge_base(user=False)
    frame = kb.configurations_frame(family="lightgbm")
    configs = {c: dict(frame.loc[c, "params"]) for c in args.configs}
    entries = read_corpus(args.index)
    with ProcessPoolExecutor(args.workers) as pool:
        work = [(e, configs, args.seed) for e in entries]
        rows = list(pool.map(_probe_scores, work))
    pd.DataFrame(rows).to_parquet(args.out)
    print(f"{len(rows)} tables -> {args.out}")


def _loo(data: MetaData, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out task ids and the default stack's ranking keys (higher = earlier)."""
    ids, keys = [], []
    for train, test in outer_folds(data, 10, seed):
        out = StackedMetaLearner().fit(data, train).predict_batch(data.metafeatures.loc[test])
        ids.append(test)
        keys.append(-out["order"])
    return np.concatenate(ids), np.concatenate(keys)


def _report(label: str, data: MetaData, ids: np.ndarray, key: np.ndarray, Y: np.ndarray) -> None:
    scored = np.isin(ids, scored_task_ids(data, "^synthetic/"))
    rows = data.rows(ids)
    ok = scored & np.isfinite(Y[rows]).any(axis=1)
    r = pick_regrets(key[ok], Y[rows][ok], data.default_position)
    print(f"| {data.task_kind} | {label} | {r['top1'].mean():.4f} | {r['topk'].mean():.4f} | "
          f"{100 * np.nanmean(r['worse']):.1f} | {ok.sum()} |", flush=True)  # fmt: skip


def _without_probes(data: MetaData) -> MetaData:
    """``data`` less the shipped probes (``autometa.Probe*``): the exploration's baseline."""
    keep = [c for c in data.metafeatures.columns if not str(c).startswith("autometa.Probe")]
    return dataclasses.replace(data, metafeatures=data.metafeatures[keep])


def _with(data: MetaData, gains: dict[str, np.ndarray]) -> MetaData:
    meta = data.metafeatures.copy()
    for name, values in gains.items():
        meta[name] = values
    meta["probe_best"] = np.nanmax(np.c_[tuple(gains.values())], axis=1)
    return dataclasses.replace(data, metafeatures=meta)


def bench(args: argparse.Namespace) -> None:
    kb = knowledge_base(user=False)
    probes = pd.read_parquet(args.probes).set_index("name")
    print(HEADER)
    for kind in KINDS:
        data = _without_probes(build_metadata(kb, "lightgbm", kind))
        P = probes.reindex(data.tasks["name"].astype(str).to_numpy())
        base = P["p1"].to_numpy()
        gains = {}
        for c in args.use:
            v = P[f"p{c}"].to_numpy()
            gains[f"probe{c}"] = v - base if kind == "classification" else (base - v) / base
        for label, d in (("without probes", data), ("with probes", _with(data, gains))):
            _report(label, data, *_loo(d, args.seed), data.normalised)


def upper(args: argparse.Namespace) -> None:
    kb = knowledge_base(user=False)
    print(HEADER)
    for kind in KINDS:
        data = _without_probes(build_metadata(kb, "lightgbm", kind))
        cube = fold_matrices(kb, data, data.task_ids)
        first = np.mean([cube[f] for f in range(3)], axis=0)
        second = np.mean([cube[f] for f in range(3, 6)], axis=0)
        d = data.default_position
        members = [m for m in greedy_portfolio(data.normalised, args.members)[0] if m != d]
        base = first[:, d]
        gains = {}
        for j, m in enumerate(members[: args.members]):
            diff = first[:, m] - base
            gains[f"probe{j}"] = diff if kind == "classification" else diff / np.abs(base)
        scored_on_second, spread = minmax_rows(second)
        scored_on_second[~spread] = np.nan  # a task whose configurations all tie: no regret
        for label, dd in (("without probes", data), ("with probes", _with(data, gains))):
            _report(label, data, *_loo(dd, args.seed), scored_on_second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compute", help="probe scores of stored configurations on the corpus")
    c.add_argument("index", help="corpus index CSV (corpus/index.csv)")
    c.add_argument("out", help="Parquet file to write")
    c.add_argument(
        "--configs",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 34, 6, 76, 89, 68],
        help="stored config ids, 1 (the default) among them (default: 1,34,6,76,89,68)",
    )
    c.add_argument("--seed", type=int, default=0, help="landmarking seed (default: 0)")
    c.add_argument("--workers", type=int, default=2, help="processes (default: 2)")
    b = sub.add_parser("bench", help="leave-group-out without and with probe meta-features")
    b.add_argument("probes", help="the Parquet file of `compute`")
    b.add_argument("--use", type=lambda s: s.split(","), default=["34", "6", "76", "89", "68"],
                   help="config ids to use as probes (gains over config 1)")  # fmt: skip
    b.add_argument("--seed", type=int, default=0, help="GroupKFold seed (default: 0)")
    u = sub.add_parser("upper", help="stored first-repeat scores as probes, second repeat scores")
    u.add_argument("--members", type=int, default=4, help="portfolio members used (default: 4)")
    u.add_argument("--seed", type=int, default=0, help="GroupKFold seed (default: 0)")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        {"compute": compute, "bench": bench, "upper": upper}[args.command](args)
    except AutometaError as exc:  # a bad index or store: one line, exit 2
        parser.error(str(exc))
    except OSError as exc:  # a missing or unreadable file
        parser.error(f"cannot read {exc.filename or exc}: {exc.strerror or type(exc).__name__}")
    print(f"({time.perf_counter() - start:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
