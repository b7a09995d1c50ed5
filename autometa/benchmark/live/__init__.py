"""The live check: LightGBM hyperparameters chosen several ways, scored side by side on
hold-out tables by the same cross-validation.

Methods (:data:`METHODS`): the library defaults, FLAML's zero-shot choice (optional
``flaml``), the knowledge base's single best configuration, autometa's top-1 asked on each
training fold (plain, with a cautious default margin, with a race) and cold Optuna TPE.
Results are cached per (table, method) cell, TPE per trial, so an interrupted run resumes.

>>> report = live_check("corpus/holdout_index.csv", cache="live.json")  # doctest: +SKIP
>>> print(report.to_markdown())  # doctest: +SKIP
>>> report.to_frame()  # one row per table, one score column per method  # doctest: +SKIP

``benchmarks/live_check.py`` is its command line; ``docs/live_check.md`` the protocol.
"""

from __future__ import annotations

from autometa.benchmark.live.cache import Cache
from autometa.benchmark.live.factories import MethodUnavailable
from autometa.benchmark.live.folds import cross_validate, make_folds
from autometa.benchmark.live.methods import METHODS, LiveSettings, labels
from autometa.benchmark.live.report import LiveReport, versions
from autometa.benchmark.live.run import live_check, run_live_check
from autometa.benchmark.live.single_best import SingleBest, single_best_configs
from autometa.benchmark.live.summary import compare, gain_captured, summarize
from autometa.benchmark.live.tasks import DEFAULT_DATASETS, Task, load_tasks, make_task

__all__ = [
    "DEFAULT_DATASETS",
    "METHODS",
    "Cache",
    "LiveReport",
    "LiveSettings",
    "MethodUnavailable",
    "SingleBest",
    "Task",
    "compare",
    "cross_validate",
    "gain_captured",
    "labels",
    "live_check",
    "load_tasks",
    "make_folds",
    "make_task",
    "run_live_check",
    "single_best_configs",
    "summarize",
    "versions",
]
