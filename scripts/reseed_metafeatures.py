"""Recompute every corpus task's meta-features with the current code and a seed, into a store
(a copy of the working store: the values are overwritten). The landmarkers' folds and
subsample follow the seed (0 is the harvest's). ``--gbm-row-budget`` overrides how many
times the LightGBM landmarkers repeat their CV (``landmarking.GBM_ROW_BUDGET``; 1 = once).

    cp work_store/kb.db work_store/reseeded.db
    python scripts/reseed_metafeatures.py sqlite:///work_store/reseeded.db --seed 1000
    python benchmarks/bench_loo.py --store sqlite:///work_store/reseeded.db

A table is matched by fingerprint, else by name (a synthetic table regenerated with other
last bits); tasks matching neither are left as they are (listed).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

from autometa.data import load_dataset
from autometa.exceptions import AutometaError
from autometa.harvest.corpus import CorpusEntry, read_corpus
from autometa.store import open_store


def describe(seed: int, budget: int | None, entry: CorpusEntry) -> tuple[str, str, dict[str, Any]]:
    """(name, fingerprint, meta-features) of one corpus table at ``seed``."""
    from autometa.metafeatures import compute_metafeatures, landmarking

    warnings.simplefilter("ignore")
    if budget is not None:
        landmarking.GBM_ROW_BUDGET = budget
    ds = load_dataset(entry.path, target=entry.target, task=entry.task_type)
    values = compute_metafeatures(ds.X, ds.y, ds.task_type, random_state=seed)
    return entry.name, ds.fingerprint, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store", help="store URL to overwrite (a copy)")
    parser.add_argument(
        "--seed", type=int, default=1000, help="meta-feature seed (0 = the harvest's)"
    )
    parser.add_argument(
        "--index", default="corpus/index.csv", help="corpus index CSV (default: %(default)s)"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes (default: 2)")
    parser.add_argument(
        "--gbm-row-budget",
        type=int,
        default=None,
        help="override landmarking.GBM_ROW_BUDGET (1 = the LightGBM landmarkers' CV once)",
    )
    args = parser.parse_args()
    try:
        store = open_store(args.store)
        entries = read_corpus(args.index)
    except AutometaError as exc:  # a bad URL or index: one line, exit 2
        parser.error(str(exc))
    start, done, missing = time.perf_counter(), 0, []
    with ProcessPoolExecutor(args.workers) as pool:
        work = partial(describe, args.seed, args.gbm_row_budget)
        for name, fingerprint, values in pool.map(work, entries, chunksize=4):
            # a synthetic table regenerated in other last bits on this numpy: match by name
            task = store.get_task(fingerprint=fingerprint) or store.get_task(name=name)
            if task is None or task.id is None:
                missing.append(name)
                continue
            store.set_metafeatures(task.id, values)
            done += 1
            if done % 50 == 0:
                print(f"{done} tasks, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    seconds = time.perf_counter() - start
    print(f"updated {done} tasks in {seconds:.0f} s; not in the store: {missing}")


if __name__ == "__main__":
    main()
