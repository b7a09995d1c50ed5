"""The one registry of task kinds, task types, metrics, their directions and the default
metric of each kind (no heavy imports: the CLI checks options against it before reading
any data)."""

from __future__ import annotations

from autometa.exceptions import MetaModelError

#: The task types of each task kind, the kind's representative type first.
TASK_KINDS: dict[str, tuple[str, ...]] = {
    "classification": ("binary", "multiclass"),
    "regression": ("regression",),
}
CLASSIFICATION_METRICS = ("roc_auc", "log_loss", "accuracy", "balanced_accuracy")
REGRESSION_METRICS = ("rmse", "mae", "r2")
#: The metrics recorded for each task kind.
KIND_METRICS: dict[str, tuple[str, ...]] = {
    "classification": CLASSIFICATION_METRICS,
    "regression": REGRESSION_METRICS,
}
#: The metric a request uses when it names none.
DEFAULT_METRICS: dict[str, str] = {"classification": "roc_auc", "regression": "rmse"}
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
#: The values each metric can take (inclusive bounds); a score outside is damage, not data.
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "roc_auc": (0.0, 1.0),
    "log_loss": (0.0, float("inf")),
    "accuracy": (0.0, 1.0),
    "balanced_accuracy": (0.0, 1.0),
    "rmse": (0.0, float("inf")),
    "mae": (0.0, float("inf")),
    "r2": (float("-inf"), 1.0),
}


def task_kind(task_type: str) -> str:
    """The task kind ("classification"/"regression") of a task type (lenient: anything
    that is not ``"regression"`` is classification)."""
    return "regression" if task_type == "regression" else "classification"


def task_kind_of(task_type: str) -> str:
    """The task kind a task type belongs to; MetaModelError for an unknown type."""
    for kind, types in TASK_KINDS.items():
        if task_type in types:
            return kind
    raise MetaModelError(f"unknown task type {task_type!r}; valid: binary, multiclass, regression")


def metrics_for(task_type: str) -> tuple[str, ...]:
    """The metrics recorded for a task type."""
    return KIND_METRICS[task_kind(task_type)]


def direction(metric: str) -> str:
    """Optuna's study direction for a metric: ``"maximize"`` or ``"minimize"``."""
    return "maximize" if METRIC_DIRECTION[metric] > 0 else "minimize"
