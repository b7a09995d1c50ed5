"""Suggesting a family's parameters inside an Optuna objective."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)


def suggest(trial: optuna.Trial, distributions: Mapping[str, BaseDistribution]) -> dict[str, Any]:
    """Each parameter of ``distributions`` suggested by ``trial`` (``suggest_float``,
    ``suggest_int`` or ``suggest_categorical`` with the distribution's own settings)."""
    params: dict[str, Any] = {}
    for name, d in distributions.items():
        if isinstance(d, FloatDistribution):
            params[name] = trial.suggest_float(name, d.low, d.high, log=d.log, step=d.step)
        elif isinstance(d, IntDistribution):
            params[name] = trial.suggest_int(name, d.low, d.high, log=d.log, step=d.step)
        elif isinstance(d, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, d.choices)
        else:
            raise TypeError(f"{name}: unsupported distribution {d!r}")
    return params
