"""Harvesting prior evaluations: local cross-validation runs (and, later, OpenML)."""

from __future__ import annotations

from autometa.harvest.corpus import CorpusEntry, entries_from_files, read_corpus
from autometa.harvest.evaluate import FoldResult, evaluate_config, fold_indices
from autometa.harvest.local import DEFAULT_FAMILIES, HarvestSummary, harvest_local
from autometa.metrics import (
    CLASSIFICATION_METRICS,
    METRIC_DIRECTION,
    REGRESSION_METRICS,
    metrics_for,
)

__all__ = [
    "CLASSIFICATION_METRICS",
    "DEFAULT_FAMILIES",
    "METRIC_DIRECTION",
    "REGRESSION_METRICS",
    "CorpusEntry",
    "FoldResult",
    "HarvestSummary",
    "entries_from_files",
    "evaluate_config",
    "fold_indices",
    "harvest_local",
    "metrics_for",
    "read_corpus",
]
