"""Benchmarks of configuration recommenders on the knowledge base.

- :mod:`~autometa.benchmark.loo`: the leave-group-out harness. Any ranker with
  ``fit(data, train_task_ids)`` and ``scores(metafeatures)`` plugs in
  (:class:`~autometa.benchmark.baselines.Ranker`).
- :mod:`~autometa.benchmark.baselines`: the rankers it compares (defaults, single best,
  FLAML-style nearest neighbour, each base model, the stack).
- :mod:`~autometa.benchmark.noise`: fold noise of the stored scores (the 2-SE check and the
  in-task reference).
- :mod:`~autometa.benchmark.selection`: algorithm selection (``--model auto``) scored the
  same way, against always-LightGBM and each task's best family.
- :mod:`autometa.benchmark.live`: the live check on hold-out tables outside the knowledge
  base (defaults, FLAML, single best, autometa, TPE).

>>> report = benchmark_loo(knowledge_base(), "lightgbm")  # doctest: +SKIP
>>> print(report.table())  # doctest: +SKIP
"""

from __future__ import annotations

from autometa.benchmark.baselines import Ranker, default_rankers
from autometa.benchmark.loo import (
    LooReport,
    benchmark_loo,
    outer_folds,
    run_loo,
    score_rankings,
    scored_task_ids,
    summarise,
)
from autometa.benchmark.noise import in_task_reference, paired_check
from autometa.benchmark.selection import SelectionReport, benchmark_selection

__all__ = [
    "LooReport",
    "Ranker",
    "SelectionReport",
    "benchmark_loo",
    "benchmark_selection",
    "default_rankers",
    "in_task_reference",
    "outer_folds",
    "paired_check",
    "run_loo",
    "score_rankings",
    "scored_task_ids",
    "summarise",
]
