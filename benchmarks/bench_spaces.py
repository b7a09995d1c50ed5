"""Fit time of a search space: the default + 32 design points on 2,000 x 20 data, n_jobs=1.

Usage: OMP_NUM_THREADS=1 python benchmarks/bench_spaces.py [FAMILY]   (prints a markdown table)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification, make_regression

from autometa.exceptions import SpaceError
from autometa.spaces import get_space

HEADERS = ("task", "default s", "median s", "p90 s", "max s", "median/default", "p90/default")


def data(task: str) -> tuple[pd.DataFrame, np.ndarray]:
    if task == "regression":
        X, y = make_regression(2000, 20, n_informative=10, noise=10.0, random_state=0)
    else:
        k = 2 if task == "binary" else 3
        X, y = make_classification(2000, 20, n_informative=10, n_classes=k, random_state=0)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(20)]), y


def main(family: str) -> None:
    space = get_space(family)
    print("| " + " | ".join(HEADERS) + " |")
    print("|" + "---|" * len(HEADERS))
    for task in ("binary", "multiclass", "regression"):
        X, y = data(task)
        wall = []
        for cfg in [space.default(task), *space.design(task, 32, seed=0)]:
            estimator = space.make_estimator(cfg, task, n_jobs=1)
            start = time.perf_counter()
            estimator.fit(X, y)
            wall.append(time.perf_counter() - start)
        d, w = wall[0], np.array(wall[1:])
        med, p90 = np.median(w), np.percentile(w, 90)
        cells = (task, d, med, p90, w.max(), med / d, p90 / d)
        print("| " + " | ".join(c if isinstance(c, str) else f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "family", nargs="?", default="lightgbm", help="model family (default: lightgbm)"
    )
    args = parser.parse_args()
    try:
        main(args.family)
    except SpaceError as exc:  # an unknown family: one line, exit 2
        parser.error(str(exc))
