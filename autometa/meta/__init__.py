"""Meta-learning: base meta-models, the stacked meta-learner, persistence and benchmarks.

>>> data = build_metadata(knowledge_base(), "lightgbm", "classification")  # doctest: +SKIP
>>> stack = StackedMetaLearner().fit(data)  # doctest: +SKIP
>>> stack.rank(metafeatures_of_new_task)  # doctest: +SKIP
"""

from __future__ import annotations

from autometa.meta._base import (
    MODEL_REGISTRY,
    BasePrediction,
    MetaModel,
    ModelState,
    register_model,
)
from autometa.meta.classifier import PortfolioClassifier
from autometa.meta.data import (
    DEFAULT_METRICS,
    TASK_KINDS,
    MetaData,
    MetaFeatureTransform,
    build_metadata,
    task_kind_of,
)
from autometa.meta.evaluation import (
    LooReport,
    benchmark_loo,
    in_task_reference,
    paired_check,
    run_loo,
    summarise,
)
from autometa.meta.knn import NearestTasks, Novelty
from autometa.meta.lowrank import LatentFactors
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

__all__ = [
    "DEFAULT_METRICS",
    "MODEL_REGISTRY",
    "TASK_KINDS",
    "BasePrediction",
    "LatentFactors",
    "LooReport",
    "MetaData",
    "MetaFeatureTransform",
    "MetaModel",
    "ModelState",
    "NearestTasks",
    "Novelty",
    "Portfolio",
    "PortfolioClassifier",
    "StackedMetaLearner",
    "Surrogate",
    "TaskDiagnostics",
    "benchmark_loo",
    "build_metadata",
    "default_base_models",
    "greedy_portfolio",
    "in_task_reference",
    "kb_checksum",
    "load_or_fit",
    "load_or_fit_learner",
    "load_stack",
    "paired_check",
    "register_model",
    "run_loo",
    "save_stack",
    "summarise",
    "task_kind_of",
]
