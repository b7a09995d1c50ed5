"""WS-CMA-ES (Nomura et al., 2021) warm-started from the nearest stored tasks: Optuna's
``CmaEsSampler(source_trials=...)`` for comparison with MetaSampler."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from optuna.distributions import CategoricalDistribution

from autometa.exceptions import SearchError
from autometa.optuna.prior import TransferPrior

#: How many of the nearest stored tasks lend their evaluations.
SOURCE_TASKS = 5


def ws_cmaes_sampler(
    prior: TransferPrior,
    direction: str,
    seed: int | None = None,
    n_tasks: int = SOURCE_TASKS,
    exclude: frozenset[str] = frozenset(),
) -> Any:
    """A CMA-ES sampler whose initial distribution is fitted to the best stored
    configurations of the ``n_tasks`` stored tasks nearest the new one (highest prior).
    CMA-ES searches the continuous and integer parameters but those in ``exclude`` (not
    searched, e.g. the number of trees under early stopping); categorical ones are sampled
    independently (random search)."""
    import optuna

    try:
        import cmaes  # noqa: F401
    except ImportError as exc:
        raise SearchError("WS-CMA-ES needs the cmaes package: pip install cmaes") from exc
    numeric = {
        k: d
        for k, d in prior.distributions().items()
        if not isinstance(d, CategoricalDistribution) and k not in exclude
    }
    sign = 1.0 if direction == "maximize" else -1.0
    source = []
    for task in np.argsort(-prior.log_prior)[:n_tasks]:
        for i, config in enumerate(prior.configs):
            score = prior.scores[task, i]
            if np.isfinite(score):
                params = {k: config[k] for k in numeric}
                source.append(
                    optuna.trial.create_trial(
                        params=params, distributions=numeric, value=sign * float(score)
                    )
                )
    with warnings.catch_warnings():  # source_trials is marked experimental by Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.CmaEsSampler(
            source_trials=source, seed=seed, warn_independent_sampling=False
        )
