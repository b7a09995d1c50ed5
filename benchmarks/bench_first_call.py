"""The first `autometa recommend` of a fresh install against a warm one (docs/meta.md).

    python benchmarks/bench_first_call.py [--repeat 3]

Each repeat: a new, empty cache folder (``XDG_CACHE_HOME``), then `autometa recommend`
on scikit-learn's breast cancer and diabetes tables as fresh processes: the first call
(the shipped stack unpacked), a second (warm) call, a first call with a non-default metric
(its stack fitted), and an unknown metric (refused before the data is read). Medians of
wall-clock seconds; the ratio first/warm is the figure the shipped stacks are for.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def _seconds(args: list[str], cache: Path) -> tuple[float, int]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    start = time.perf_counter()
    done = subprocess.run(["autometa", "recommend", *args], env=env, capture_output=True)
    return time.perf_counter() - start, done.returncode


def main() -> None:
    from sklearn.datasets import load_breast_cancer, load_diabetes

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        tables = {
            "breast_cancer": (load_breast_cancer, "log_loss"),
            "diabetes": (load_diabetes, "mae"),
        }
        for name, (loader, other) in tables.items():
            path = root / f"{name}.csv"
            loader(as_frame=True).frame.to_csv(path, index=False)
            rows: dict[str, list[float]] = {"first": [], "warm": [], other: [], "f1": []}
            for i in range(args.repeat):
                cache = root / f"cache-{name}-{i}"
                base = [str(path), "--target", "target"]
                rows["first"].append(_seconds(base, cache)[0])
                rows["warm"].append(_seconds(base, cache)[0])
                rows[other].append(_seconds([*base, "--metric", other], cache)[0])
                seconds, code = _seconds([*base, "--metric", "f1"], cache)
                assert code == 2, "an unknown metric must be refused"
                rows["f1"].append(seconds)
            med = {k: statistics.median(v) for k, v in rows.items()}
            print(f"{name}: first {med['first']:.2f} s, warm {med['warm']:.2f} s "
                  f"(ratio {med['first'] / med['warm']:.2f}); first --metric {other} "
                  f"{med[other]:.1f} s; --metric f1 refused in {med['f1']:.2f} s "
                  f"(median of {args.repeat})")  # fmt: skip


if __name__ == "__main__":
    main()
