"""Meta-learning: base meta-models, the stacked meta-learner and its persistence.

>>> data = build_metadata(knowledge_base(), "lightgbm", "classification")  # doctest: +SKIP
>>> stack = StackedMetaLearner().fit(data)  # doctest: +SKIP
>>> stack.rank(metafeatures_of_new_task)  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from autometa.meta._base import (
    MODEL_REGISTRY,
    BasePrediction,
    MetaModel,
    ModelState,
    register_model,
)
from autometa.meta.classifier import PortfolioClassifier
from autometa.meta.data import MetaData, MetaFeatureTransform, build_metadata
from autometa.meta.knn import NearestTasks, Novelty
from autometa.meta.lowrank import LatentFactors
from autometa.meta.neural import NeuralMeta
from autometa.meta.persist import (
    kb_checksum,
    load_or_fit,
    load_or_fit_learner,
    load_stack,
    save_stack,
)
from autometa.meta.portfolio import Portfolio, greedy_portfolio
from autometa.meta.stack import StackedMetaLearner, TaskDiagnostics, default_base_models
from autometa.meta.surrogate import Surrogate
from autometa.metrics import DEFAULT_METRICS, TASK_KINDS, task_kind_of

#: Benchmark names this package used to export; they live in :mod:`autometa.benchmark`,
#: which builds on this package (never the other way round), and are found there on use.
_MOVED = ("LooReport", "benchmark_loo", "in_task_reference", "paired_check", "run_loo", "summarise")

__all__ = [
    "DEFAULT_METRICS",
    "MODEL_REGISTRY",
    "TASK_KINDS",
    "BasePrediction",
    "LatentFactors",
    "MetaData",
    "MetaFeatureTransform",
    "MetaModel",
    "ModelState",
    "NearestTasks",
    "NeuralMeta",
    "Novelty",
    "Portfolio",
    "PortfolioClassifier",
    "StackedMetaLearner",
    "Surrogate",
    "TaskDiagnostics",
    "build_metadata",
    "default_base_models",
    "greedy_portfolio",
    "kb_checksum",
    "load_or_fit",
    "load_or_fit_learner",
    "load_stack",
    "register_model",
    "save_stack",
    "task_kind_of",
]


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import warnings

        warnings.warn(
            f"autometa.meta.{name} moved to autometa.benchmark.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(import_module("autometa.benchmark"), name)
    raise AttributeError(f"module 'autometa.meta' has no attribute {name!r}")
