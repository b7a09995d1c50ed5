"""Warm-started Optuna searches that keep learning from the knowledge base.

>>> sampler, result = meta_sampler(X, y, seed=0)  # doctest: +SKIP
>>> study = optuna.create_study(direction=result.direction, sampler=sampler)  # doctest: +SKIP
>>> study.optimize(objective, n_trials=20)  # doctest: +SKIP

The objective suggests the family's parameters with its distributions
(``prior.distributions()``, or ``get_space(family).distributions(task_type)``); any other
parameter is sampled by the fallback sampler.
"""

from __future__ import annotations

from autometa.optuna.prior import TransferPrior, transfer_prior
from autometa.optuna.sampler import MetaSampler
from autometa.optuna.space import suggest
from autometa.optuna.warm import meta_sampler

__all__ = ["MetaSampler", "TransferPrior", "meta_sampler", "suggest", "transfer_prior"]
