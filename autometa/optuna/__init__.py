"""Warm-started Optuna searches that keep learning from the knowledge base.

>>> prior = transfer_prior(stack, data, kb.configurations, metafeatures, "binary")  # doctest: +SKIP
>>> sampler = MetaSampler(prior, seed=0)  # doctest: +SKIP
>>> study = optuna.create_study(direction="maximize", sampler=sampler)  # doctest: +SKIP
>>> study.optimize(objective, n_trials=20)  # doctest: +SKIP

The objective suggests the family's parameters with its distributions
(``prior.distributions()``, or ``get_space(family).distributions(task_type)``); any other
parameter is sampled by the fallback sampler.
"""

from __future__ import annotations

from autometa.optuna.prior import TransferPrior, transfer_prior
from autometa.optuna.sampler import MetaSampler
from autometa.optuna.space import suggest

__all__ = ["MetaSampler", "TransferPrior", "suggest", "transfer_prior"]
