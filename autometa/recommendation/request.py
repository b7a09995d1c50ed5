"""What a recommendation request asks for: its arguments checked, the metric defaulted by
task kind, and which configurations a dataset's size allows."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autometa.exceptions import MetaModelError
from autometa.metrics import DEFAULT_METRICS, METRIC_DIRECTION, metrics_for, task_kind

#: Minimum-leaf-size parameter of each family: a candidate whose leaves cannot be filled on
#: this dataset is infeasible (FLAML's zero-shot picks min_child_samples=53 for 75 rows).
LEAF_PARAMS = {
    "lightgbm": "min_child_samples",
    "hist_gradient_boosting": "min_samples_leaf",
    "random_forest": "min_samples_leaf",
    "extra_trees": "min_samples_leaf",
}
#: Most candidates a race takes (besides the library default).
MAX_RACE = 20


@dataclass(frozen=True)
class Request:
    """A checked recommendation request for one dataset."""

    kind: str  #: "classification" or "regression"
    metric: str  #: the metric asked for, or the kind's default
    family: str  #: a model family, or "auto" (algorithm selection)
    k: int  #: how many configurations to return
    default_margin: float | None  #: None: the meta-learner's learned margin
    race: int = 0  #: how many of the first configurations to race (0: none)
    excluded: frozenset[str] = frozenset()  #: task groups left out of the knowledge base
    notes: tuple[str, ...] = ()  #: what preparing the request did (e.g. what it excluded)


def feasible(family: str, config: Mapping[str, Any], n_rows: int) -> bool:
    """Whether a configuration can grow a useful model on ``n_rows`` rows."""
    name = LEAF_PARAMS.get(family)
    if name is None or name not in config:
        return True
    return int(config[name]) <= max(2, n_rows // 10)


def check_integer(name: str, value: Any) -> int:
    """``value`` as an int; MetaModelError for a bool, a float or anything else."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise MetaModelError(f"{name} must be an integer, got {value!r}")
    return int(value)


def check_race(race: int) -> int:
    """Validate a request's race size (0 = no race)."""
    race = check_integer("race", race)
    if not 0 <= race <= MAX_RACE:
        raise MetaModelError(f"race must be 0-{MAX_RACE} candidates, got {race}")
    return int(race)


def make_request(
    task_type: str,
    model: str,
    metric: str | None,
    k: int,
    default_margin: float | None,
    race: int = 0,
) -> Request:
    """A :class:`Request` from a task type and the caller's arguments, each checked."""
    kind, metric, family = check_request(task_type, model, metric, k, default_margin)
    return Request(kind, metric, family, int(k), default_margin, check_race(race))


def check_request(
    task_type: str, model: str, metric: str | None, k: int, default_margin: float | None
) -> tuple[str, str, str]:
    """Validate a request's arguments for a task type: ``(task kind, metric, family)``,
    where the metric defaults by kind and the family may be ``"auto"``."""
    check_integer("k", k)
    if k < 1:
        raise MetaModelError(f"k must be >= 1, got {k}")
    if default_margin is not None and (
        isinstance(default_margin, bool) or not isinstance(default_margin, numbers.Real)
    ):
        raise MetaModelError(f"default_margin must be a number, got {default_margin!r}")
    if default_margin is not None and not 0.0 <= default_margin <= 1.0:
        raise MetaModelError(f"default_margin must be in [0, 1], got {default_margin}")
    kind = task_kind(task_type)
    metric = metric or DEFAULT_METRICS[kind]
    if metric not in METRIC_DIRECTION:
        raise MetaModelError(
            f"unknown metric {metric!r}; choose one of {', '.join(METRIC_DIRECTION)}"
        )
    if metric not in metrics_for(task_type):
        raise MetaModelError(
            f"metric {metric!r} does not apply to a {task_type} target; choose "
            f"one of {', '.join(metrics_for(task_type))}"
        )
    return kind, metric, check_model(model)


def check_model(model: str) -> str:
    from autometa.spaces import get_space

    if model == "auto":
        return model
    try:
        return get_space(model).family
    except Exception as exc:
        raise MetaModelError(str(exc)) from exc
