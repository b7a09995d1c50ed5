#!/usr/bin/env python
"""Live check: LightGBM hyperparameters on hold-out datasets, side by side.

Every method is scored by the mean of the same 5-fold cross-validation (ROC AUC, one-vs-rest
macro for multiclass; RMSE for regression) in one run:

- ``default``: ``LGBMClassifier()`` / ``LGBMRegressor()`` (library defaults);
- ``flaml``: FLAML's zero-shot ``flaml.default.LGBMClassifier`` / ``LGBMRegressor``
  (hyperparameters picked from each training fold in ``fit``);
- ``single_best``: the knowledge base's best configuration on average (per task kind);
- ``autometa``: the top-1 of ``autometa.recommend(X_train, y_train, model="lightgbm", k=5)``,
  asked on each training fold;
- ``autometa_cautious``: the same with ``default_margin=0.2`` (``--cautious-margin``);
- ``autometa_race``: the same with ``race=5`` (the first five and the default
  cross-validated on the training fold's landmarking sample, ``autometa recommend --race 5``);
- ``tpe``: the best of N (50) trials of cold Optuna TPE, each scored by the same CV.

All LightGBM models get ``verbosity=-1``, ``random_state=seed`` and the same ``n_jobs``.
Results are cached per (dataset, method) cell in a JSON file, TPE per trial, so that an
interrupted run resumes. The library function is ``autometa.benchmark.live.live_check``;
``docs/live_check.md`` has the protocol and the latest table.

    python benchmarks/live_check.py --json live_check.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from autometa.benchmark.live import (
    DEFAULT_DATASETS,
    METHODS,
    LiveSettings,
    live_check,
    versions,
)
from autometa.exceptions import AutometaError

ROOT = Path(__file__).resolve().parents[1]


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autometa" / "live_check.json"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "corpus/holdout_index.csv",
                        help="corpus index CSV (default: corpus/holdout_index.csv)")  # fmt: skip
    parser.add_argument("--datasets", default=",".join(DEFAULT_DATASETS),
                        help="comma-separated names from the index")  # fmt: skip
    parser.add_argument("--methods", default=",".join(METHODS),
                        help=f"comma-separated subset of {','.join(METHODS)}")  # fmt: skip
    parser.add_argument("--trials", type=int, default=50, help="TPE trials")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default: 5)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of folds, subsampling, models and TPE (default: 0)")  # fmt: skip
    parser.add_argument("--n-jobs", type=int, default=1, help="LightGBM threads, all methods")
    parser.add_argument("--max-rows", type=int, default=5000,
                        help="subsample larger datasets (stratified, seeded)")  # fmt: skip
    parser.add_argument("--fit-timeout", type=float, default=300.0,
                        help="seconds per fit; a TPE trial past it fails")  # fmt: skip
    parser.add_argument("--store", default=None,
                        help="store URL merged into the knowledge base (single best)")  # fmt: skip
    parser.add_argument("--cache", type=Path, default=_default_cache(),
                        help="JSON results cache, for resuming (default: %(default)s)")  # fmt: skip
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--json", type=Path, default=None, help="write all results here")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--cautious-margin", type=float, default=LiveSettings.cautious_margin,
                        help="default_margin of the autometa_cautious column")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not 0.0 <= args.cautious_margin <= 1.0:
        raise SystemExit(f"--cautious-margin must be in [0, 1], got {args.cautious_margin}")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    start = time.perf_counter()

    def log(message: str) -> None:
        if not args.quiet:
            stamp = time.strftime("%H:%M:%S")
            print(f"[{stamp} +{time.perf_counter() - start:6.0f}s] {message}", file=sys.stderr)

    settings = LiveSettings(
        n_trials=args.trials, n_folds=args.folds, seed=args.seed, n_jobs=args.n_jobs,
        fit_timeout=args.fit_timeout, max_rows=args.max_rows,
        cautious_margin=args.cautious_margin,
    )  # fmt: skip
    try:
        report = live_check(
            args.index, methods, datasets=names, settings=settings, store=args.store,
            cache=None if args.no_cache else args.cache, log=log,
        )  # fmt: skip
    except AutometaError as exc:
        raise SystemExit(str(exc)) from None
    print(report.to_markdown())
    if args.json is not None:
        payload = {
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "versions": versions(),
            **report.to_dict(),
        }
        args.json.write_text(json.dumps(payload, indent=1, default=str))
    log(f"done in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
