"""Speed of `autometa recommend`: a fresh process on a 100,000 x 50 CSV, and
`Recommender.recommend` on in-memory data, with a same-run peer for scale.

    python benchmarks/bench_recommend.py [--rows 100000] [--cols 50] [--repeat 5] [--json out.json]
                                         [--race N]

The peer is a fresh `python -c "import sklearn, pandas; pandas.read_csv(PATH)"`: the floor
any CSV-reading scikit-learn tool pays. A third row runs the CLI with `AUTOMETA_WORKER=0`
(no helper process: the imports, the stack and the file share one process). The model
cache is warmed first (a first call fits and caches the stack), so the figures are those of
every later call. ``--race N`` adds the same two measurements with ``--race N`` (the
in-task race, :mod:`autometa.recommendation.race`; no target: it is opt-in).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_csv(path: Path, rows: int, cols: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, cols))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(cols)])
    signal = X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(size=rows)
    frame["y"] = (signal > 0).astype(int)
    frame.to_csv(path, index=False)


def wall(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Speed of `autometa recommend`: fresh CLI processes on a "
        "generated CSV against a same-run peer, and Recommender.recommend in memory."
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the generated CSV")
    parser.add_argument("--cols", type=int, default=50, help="numeric feature columns")
    parser.add_argument(
        "--repeat", type=int, default=5, help="interleaved runs of each measurement"
    )
    parser.add_argument("--json", type=Path, help="also write the raw timings here")
    parser.add_argument("--race", type=int, default=0, help="also time --race N (default: 0)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        make_csv(path, args.rows, args.cols)
        cli = [sys.executable, "-m", "autometa", "recommend", str(path), "--format", "json"]
        peer = [sys.executable, "-c", f"import sklearn, pandas; pandas.read_csv({str(path)!r})"]
        alone = {**os.environ, "AUTOMETA_WORKER": "0"}
        wall(cli)  # warm the model cache
        runs: dict[str, list[float]] = {"cli": [], "cli_alone": [], "peer": []}
        raced = [*cli, "--race", str(args.race)]
        if args.race:
            runs["cli_race"] = []
        for _ in range(args.repeat):  # interleaved, so all see the same machine load
            runs["cli"].append(wall(cli))
            runs["cli_alone"].append(wall(cli, alone))
            runs["peer"].append(wall(peer))
            if args.race:
                runs["cli_race"].append(wall(raced))
        from autometa.recommendation.recommender import Recommender

        frame = pd.read_csv(path)
        X, y = frame.drop(columns="y"), frame["y"]
        rec = Recommender()
        rec.recommend(X, y)  # loads the knowledge base and the stack once
        runs["in_memory"] = []
        runs["in_memory_race"] = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            rec.recommend(X, y)
            runs["in_memory"].append(time.perf_counter() - start)
            if args.race:
                start = time.perf_counter()
                rec.recommend(X, y, race=args.race)
                runs["in_memory_race"].append(time.perf_counter() - start)
        if not args.race:
            del runs["in_memory_race"]
    median = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{args.rows:,} x {args.cols} CSV, median of {args.repeat} runs (wall seconds):\n")
    print("| measurement | median s | min s | target |")
    print("|---|---:|---:|---|")
    rows = [
        ("`autometa recommend data.csv` (fresh process)", "cli", "<= 3 s"),
        ("the same without the helper process (`AUTOMETA_WORKER=0`)", "cli_alone", "-"),
        ("peer: fresh `import sklearn, pandas; read_csv`", "peer", "-"),
        ("`Recommender.recommend(X, y)` (in memory, loaded)", "in_memory", "<= 1 s"),
    ]
    if args.race:
        rows += [
            (f"`autometa recommend data.csv --race {args.race}`", "cli_race", "-"),
            (f"`Recommender.recommend(X, y, race={args.race})`", "in_memory_race", "-"),
        ]
    for label, key, target in rows:
        print(f"| {label} | {median[key]:.2f} | {min(runs[key]):.2f} | {target} |")
    print(f"\nCLI / peer: {median['cli'] / median['peer']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "median": median}, indent=2))


if __name__ == "__main__":
    main()
