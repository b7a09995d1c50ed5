"""Names and directions of the metrics recorded for each task type (no heavy imports)."""

from __future__ import annotations

CLASSIFICATION_METRICS = ("roc_auc", "log_loss", "accuracy", "balanced_accuracy")
REGRESSION_METRICS = ("rmse", "mae", "r2")
#: +1: larger is better, -1: smaller is better.
METRIC_DIRECTION = {
    "roc_auc": 1,
    "log_loss": -1,
    "accuracy": 1,
    "balanced_accuracy": 1,
    "rmse": -1,
    "mae": -1,
    "r2": 1,
}


def metrics_for(task_type: str) -> tuple[str, ...]:
    """The metrics recorded for a task type."""
    return REGRESSION_METRICS if task_type == "regression" else CLASSIFICATION_METRICS
