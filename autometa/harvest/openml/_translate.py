"""OpenML flows and setups -> autometa families and configurations.

A flow maps to a family when its estimator (the flow itself, or the last component of a
pipeline) is one of :data:`FLOW_FAMILIES`. A setup's parameter values (JSON text on OpenML)
are translated to the family's space: numbers outside the space's range are clipped to it
(the configuration is marked ``clipped``); a value the space cannot express (a fractional
``min_samples_leaf``, an L1 penalty, per-class weights, a string where a number belongs) makes
the setup untranslatable, and it is skipped. Parameters the space lacks (``random_state``,
``n_jobs``, ``oob_score``, ...) are dropped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from autometa.exceptions import SpaceError
from autometa.spaces import get_space

#: Estimator class name (as it ends an OpenML flow name) -> autometa family.
FLOW_FAMILIES: dict[str, str] = {
    "RandomForestClassifier": "random_forest",
    "RandomForestRegressor": "random_forest",
    "ExtraTreesClassifier": "extra_trees",
    "ExtraTreesRegressor": "extra_trees",
    "HistGradientBoostingClassifier": "hist_gradient_boosting",
    "HistGradientBoostingRegressor": "hist_gradient_boosting",
    "LogisticRegression": "linear",
    "Ridge": "linear",
    "LGBMClassifier": "lightgbm",
    "LGBMRegressor": "lightgbm",
}
#: LightGBM's own spellings of the scikit-learn-API parameter names.
LIGHTGBM_ALIASES = {
    "bagging_fraction": "subsample",
    "feature_fraction": "colsample_bytree",
    "min_data_in_leaf": "min_child_samples",
    "lambda_l1": "reg_alpha",
    "lambda_l2": "reg_lambda",
    "num_iterations": "n_estimators",
}
_CLASS = re.compile(r"[A-Za-z_][\w.]*")


class Untranslatable(ValueError):
    """A setup value the family's space cannot express."""


@dataclass(frozen=True)
class FlowMatch:
    """A flow's family and the estimator class whose parameters configure it."""

    family: str
    estimator: str


def match_flow(flow_name: str) -> FlowMatch | None:
    """The family of an OpenML flow name (``sklearn.pipeline.Pipeline(...,
    clf=sklearn.ensemble.forest.RandomForestClassifier)`` included), or ``None``."""
    names = [n.rsplit(".", 1)[-1] for n in _CLASS.findall(flow_name)]
    for name in reversed(names):
        if name in FLOW_FAMILIES:
            return FlowMatch(FLOW_FAMILIES[name], name)
    return None


def parse_value(text: Any) -> Any:
    """An OpenML parameter value (JSON text) as a Python value; other text as-is."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Untranslatable(f"{value!r} is not a number")
    return float(value)


def _integer(value: Any) -> int:
    number = _number(value)
    if number != int(number):
        raise Untranslatable(f"{value!r} is a fraction, not a count")
    return int(number)


def _max_features(value: Any, task_type: str, n_features: int) -> float:
    n = max(n_features, 1)
    if value is None or (value == "auto" and task_type == "regression"):
        return 1.0
    if value in ("auto", "sqrt"):
        return math.sqrt(n) / n
    if value == "log2":
        return max(math.log2(n), 1.0) / n
    if isinstance(value, int) and not isinstance(value, bool):
        return value / n
    return _number(value)


def _forest(name: str, value: Any, task_type: str, n_features: int) -> Any:
    if name == "max_features":
        return _max_features(value, task_type, n_features)
    if name == "criterion":
        if task_type == "regression":
            return None  # not in the space for regression: dropped
        if value not in ("gini", "entropy", "log_loss"):
            raise Untranslatable(f"criterion {value!r}")
        return "entropy" if value == "log_loss" else value
    if name == "bootstrap":
        if not isinstance(value, bool):
            raise Untranslatable(f"bootstrap {value!r}")
        return value
    if name == "max_depth":
        return None if value is None else _integer(value)
    return _integer(value)


def _linear(name: str, value: Any, task_type: str, n_features: int) -> Any:
    if name == "penalty":
        if value not in ("l2", "deprecated"):
            raise Untranslatable(f"penalty {value!r} (the space is L2 only)")
        return None
    if name == "class_weight":
        if value not in (None, "balanced"):
            raise Untranslatable(f"class_weight {value!r}")
        return value
    return _number(value)


def _lightgbm(name: str, value: Any, task_type: str, n_features: int) -> Any:
    if name == "max_depth":
        depth = _integer(value)
        return -1 if depth <= 0 else depth
    if name in ("n_estimators", "num_leaves", "min_child_samples"):
        return _integer(value)
    return _number(value)


def _hgb(name: str, value: Any, task_type: str, n_features: int) -> Any:
    if name == "max_leaf_nodes" and value is None:
        return math.inf  # unlimited: clipped to the space's largest
    if name in ("max_iter", "max_leaf_nodes", "min_samples_leaf"):
        return _integer(value)
    return _number(value)


_Translator = Callable[[str, Any, str, int], Any]
_TRANSLATORS: dict[str, _Translator] = {
    "random_forest": _forest,
    "extra_trees": _forest,
    "linear": _linear,
    "lightgbm": _lightgbm,
    "hist_gradient_boosting": _hgb,
}
#: Parameters read even though the space has no parameter of that name.
_CHECKED = {"linear": {"penalty"}}


def _fit(value: Any, dist: Any, zero_floor: bool) -> tuple[Any, bool]:
    """``value`` moved into ``dist``; True when it had to move (clipped)."""
    if isinstance(dist, CategoricalDistribution):
        if value in dist.choices:
            return value, False
        finite = [c for c in dist.choices if isinstance(c, int | float) and c not in (-1,)]
        if not isinstance(value, int | float) or not finite:
            raise Untranslatable(f"{value!r} is not one of {dist.choices}")
        return min(finite, key=lambda c: abs(c - value)), True
    assert isinstance(dist, IntDistribution | FloatDistribution)
    if zero_floor and value == 0:
        return dist.low, False
    clipped = min(max(value, dist.low), dist.high)
    if isinstance(dist, IntDistribution):
        clipped = int(clipped)
    return clipped, clipped != value


def translate(
    family: str, raw: Mapping[str, Any], task_type: str, n_features: int
) -> tuple[dict[str, Any], bool]:
    """A complete configuration of ``family`` from OpenML parameter values (JSON text) and
    whether any value was clipped; :class:`Untranslatable` when the setup cannot be."""
    space = get_space(family)
    dists = space.distributions(task_type)
    translator = _TRANSLATORS[family]
    params: dict[str, Any] = {}
    clipped = False
    for name, text in raw.items():
        name = LIGHTGBM_ALIASES.get(name, name) if family == "lightgbm" else name
        if name not in dists and name not in _CHECKED.get(family, set()):
            continue
        value = translator(name, parse_value(text), task_type, n_features)
        if name not in dists or (value is None and name == "criterion"):
            continue
        params[name], moved = _fit(value, dists[name], name in space.zero_floor)
        clipped = clipped or moved
    try:
        return space.validate(params, task_type), clipped
    except SpaceError as exc:
        raise Untranslatable(str(exc)) from None


def estimator_parameters(
    parameters: Iterable[tuple[str, str, Any]], estimator: str
) -> dict[str, Any]:
    """``{name: value}`` of the parameters of (flow name, name, value) triples that belong
    to ``estimator`` (a pipeline's setup lists every component's parameters)."""
    out: dict[str, Any] = {}
    for flow_name, name, value in parameters:
        base = flow_name.split("(", 1)[0].rsplit(".", 1)[-1]
        if base == estimator:
            out[name] = value
    return out


__all__ = [
    "FLOW_FAMILIES",
    "FlowMatch",
    "Untranslatable",
    "estimator_parameters",
    "match_flow",
    "parse_value",
    "translate",
]
