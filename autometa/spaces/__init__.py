"""Search spaces: per model family, Optuna distributions, defaults, designs and estimators.

``get_space(family)`` returns the space; ``FAMILIES`` lists the canonical family names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from autometa.exceptions import SpaceError
from autometa.spaces.base import HASH_LENGTH, TASK_TYPES, SearchSpace
from autometa.spaces.extra_trees import ExtraTreesSpace
from autometa.spaces.hist_gradient_boosting import HistGradientBoostingSpace
from autometa.spaces.lightgbm import LightGBMSpace
from autometa.spaces.linear import LinearSpace
from autometa.spaces.random_forest import RandomForestSpace

_SPACES: dict[str, SearchSpace] = {
    space.family: space
    for space in (
        LightGBMSpace(),
        RandomForestSpace(),
        ExtraTreesSpace(),
        HistGradientBoostingSpace(),
        LinearSpace(),
    )
}
FAMILIES: tuple[str, ...] = tuple(_SPACES)
#: Other accepted spellings; ``get_space`` maps them to the canonical family.
ALIASES: dict[str, str] = {
    "logistic_regression": "linear",
    "ridge": "linear",
    "lgbm": "lightgbm",
    "rf": "random_forest",
    "et": "extra_trees",
    "hgb": "hist_gradient_boosting",
}


def get_space(family: str) -> SearchSpace:
    """The search space of ``family`` (a name in :data:`FAMILIES` or :data:`ALIASES`)."""
    name = ALIASES.get(family, family)
    try:
        return _SPACES[name]
    except (KeyError, TypeError):
        raise SpaceError(
            f"unknown model family {family!r}; valid: {', '.join(FAMILIES)} "
            f"(aliases: {', '.join(sorted(ALIASES))})"
        ) from None


def has_space(family: str) -> bool:
    """Whether ``family`` has an autometa search space (families harvested from OpenML
    flows without one, ``openml:<name>``, do not)."""
    return ALIASES.get(family, family) in _SPACES


def generic_config_hash(family: str, params: Mapping[str, Any]) -> str:
    """Stable id of a configuration of a family without a space: sha256 of the family and
    the params as canonical JSON (sorted keys), first :data:`HASH_LENGTH` hex digits."""
    text = json.dumps(
        {"family": family, "params": dict(params)},
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


__all__ = [
    "ALIASES",
    "FAMILIES",
    "HASH_LENGTH",
    "TASK_TYPES",
    "ExtraTreesSpace",
    "HistGradientBoostingSpace",
    "LightGBMSpace",
    "LinearSpace",
    "RandomForestSpace",
    "SearchSpace",
    "generic_config_hash",
    "get_space",
    "has_space",
]
