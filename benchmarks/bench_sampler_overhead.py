"""MetaSampler's own time per trial against TPESampler's, in the same run: a study of
``--trials`` trials over the LightGBM space with an instant objective, timing each
``study.ask`` (where the sampler works); the median over the trials around ``--at``.

    python benchmarks/bench_sampler_overhead.py [--trials 110] [--at 100] [--kind classification]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import optuna

from autometa.metrics import DEFAULT_METRICS, TASK_KINDS
from autometa.optuna import MetaSampler, suggest, transfer_prior
from autometa.recommendation.recommender import Recommender


def _timed(sampler: optuna.samplers.BaseSampler, dists: dict, n: int) -> list[float]:
    study = optuna.create_study(direction="maximize", sampler=sampler)
    rng = np.random.default_rng(0)
    seconds = []
    for _ in range(n):
        start = time.perf_counter()
        trial = study.ask()
        suggest(trial, dists)
        seconds.append(time.perf_counter() - start)
        study.tell(trial, float(rng.random()))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=110)
    parser.add_argument("--at", type=int, default=100)
    parser.add_argument("--kind", default="classification", choices=list(TASK_KINDS))
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    recommender = Recommender()
    stack, data = recommender.learner("lightgbm", args.kind, DEFAULT_METRICS[args.kind])
    mf = data.metafeatures.iloc[0]
    task_type = TASK_KINDS[args.kind][0]
    prior = transfer_prior(stack, data, recommender.kb.configurations, mf, task_type)
    dists = prior.distributions()
    window = slice(max(0, args.at - 5), args.at + 5)
    meta = _timed(MetaSampler(prior, seed=0), dists, args.trials)[window]
    tpe = _timed(optuna.samplers.TPESampler(seed=0), dists, args.trials)[window]
    m, t = statistics.median(meta), statistics.median(tpe)
    print(
        f"{len(prior.configs)} candidates, {len(prior.log_prior)} stored tasks; median time per "
        f"trial around trial {args.at}: MetaSampler {1000 * m:.1f} ms, TPESampler "
        f"{1000 * t:.1f} ms (ratio {m / t:.2f})"
    )


if __name__ == "__main__":
    main()
