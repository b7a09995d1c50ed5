"""``MetaSampler``: an Optuna sampler that keeps using the knowledge base after the first
trials.

1. **Recommendations first.** Until ``n_startup`` trials exist, each new trial is the
   meta-learner's next-ranked candidate not yet tried.
2. **Adaptation.** Then every stored task is weighted by its prior (meta-feature
   similarity) times how well its stored scores order the configurations this study has
   observed (Kendall's tau over the observed pairs, sharpened by the number of
   observations): ``log w_j = log_prior_j + temperature * n * tau_j``. The next trial is
   the untried candidate with the best weighted mean of the stored normalised scores.
   With ``adapt="neural"`` (a prior carrying a neural meta-model's last layer) the model is
   adapted to the observations instead: Bayesian linear regression of its last layer, in
   closed form (as FSBO's deep-kernel GP and ABLR do), the observed values mapped by rank
   onto the model's own predictions for them; the next trial is the untried candidate with
   the best posterior mean.
3. **Hand-over.** From ``handover`` complete trials on (and whenever every candidate has
   been tried), the ``fallback`` sampler (TPE by default) proposes, seeing every trial of
   the study.

The state is derived from the study's trials on every call, never from the sampler's own
memory, so ``n_jobs``, RDB storage and several worker processes share one search, and a
seeded run repeats. A trial whose parameters were not proposed by the sampler (enqueued by
hand, or TPE's) counts as its nearest candidate in the space's encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from autometa.optuna.prior import TransferPrior

_ACTIVE = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)
#: The adaptation engines (see MetaSampler's ``adapt``).
ADAPT = ("tasks", "neural", "both", "auto")
#: The last layer's prior precision and the observation noise of the neural adaptation.
NEURAL_POSTERIOR = {"prior_precision": 1.0, "noise": 0.1}


class MetaSampler(BaseSampler):
    """Warm-started, transfer-learning sampler over a family's space (see the module).

    Args:
        prior: what the knowledge base knows (:func:`~autometa.optuna.transfer_prior`).
        n_startup: trials that follow the meta-learner's ranking before adapting.
        handover: complete trials after which the fallback sampler takes over (None:
            only once every candidate has been tried).
        temperature: how fast the observations outweigh the meta-feature prior.
        seed: seed of the fallback sampler (the sampler's own choices are deterministic).
        fallback: the sampler for hand-over and for parameters outside the family's
            space (default: ``TPESampler(seed=seed)``).
        adapt: how the observations re-rank the candidates: "tasks" (re-weight the stored
            tasks, above), "neural" (adapt the neural meta-model's last layer; the prior
            must carry it), "both" (the mean of the two predictions) or "auto" ("neural"
            when the prior carries it, else "tasks").
    """

    def __init__(
        self,
        prior: TransferPrior,
        *,
        n_startup: int = 5,
        handover: int | None = None,
        temperature: float = 1.0,
        seed: int | None = None,
        fallback: BaseSampler | None = None,
        adapt: str = "tasks",
    ) -> None:
        if n_startup < 0 or (handover is not None and handover < 0) or temperature < 0:
            raise ValueError("n_startup, handover and temperature must be >= 0")
        if adapt not in ADAPT:
            raise ValueError(f"adapt must be one of {', '.join(ADAPT)}, got {adapt!r}")
        if adapt in ("neural", "both") and prior.phi is None:
            raise ValueError(f"adapt={adapt!r} needs a prior with a neural meta-model's layer")
        if adapt == "auto":
            adapt = "tasks" if prior.phi is None else "neural"
        self.adapt = adapt
        self.prior = prior
        self.n_startup = int(n_startup)
        self.handover = handover
        self.temperature = float(temperature)
        self._fallback = fallback or optuna.samplers.TPESampler(seed=seed)
        self._space = prior.distributions()
        self._nearest: dict[tuple[tuple[str, Any], ...], int] = {}  # memo of a pure function

    def reseed_rng(self) -> None:
        self._fallback.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if self._handed_over(study, trial):
            return self._fallback.infer_relative_search_space(study, trial)
        return dict(self._space)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if self._handed_over(study, trial):
            return self._fallback.sample_relative(study, trial, search_space)
        if not search_space:
            return {}
        choice = self.propose(study, trial)
        if choice is None:
            return {}
        config = self.prior.configs[choice]
        return {k: v for k, v in config.items() if k in search_space}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._fallback.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._fallback.after_trial(study, trial, state, values)

    def propose(self, study: Study, trial: FrozenTrial) -> int | None:
        """The candidate the next trial should try (None: every candidate is tried)."""
        others = [
            t for t in study.get_trials(deepcopy=False, states=_ACTIVE) if t.number != trial.number
        ]
        tried = {self._candidate(t) for t in others if t.params}
        untried = [i for i in self.prior.order if i not in tried]
        if not untried:
            return None
        done = [t for t in others if t.state == TrialState.COMPLETE and t.params]
        if len(others) < self.n_startup or len(done) < 2:
            return untried[0]
        sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        observed = np.array([self._candidate(t) for t in done])
        values = sign * np.array([float(t.value) for t in done])  # type: ignore[arg-type]
        mean = self.predicted(observed, values)
        pick = max(untried, key=lambda i: (np.nan_to_num(mean[i], nan=-1.0), -untried.index(i)))
        return int(pick)

    def task_weights(self, observed: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Each stored task's weight (summing to 1) after observing ``values`` (larger is
        better) on the candidates ``observed``."""
        scores = self.prior.scores[:, observed]  # tasks x observed
        dv = np.sign(values[:, None] - values[None, :])  # observed pairs
        ds = np.sign(scores[:, :, None] - scores[:, None, :])  # tasks x pairs
        counted = (dv != 0)[None] & np.isfinite(ds)
        agree = np.where(counted, ds * dv[None], 0.0).sum(axis=(1, 2))
        pairs = counted.sum(axis=(1, 2))
        tau = np.divide(agree, pairs, out=np.zeros(len(agree)), where=pairs > 0)
        logw = self.prior.log_prior + self.temperature * len(values) * tau
        w = np.exp(logw - logw.max())
        return w / w.sum()

    def predicted(self, observed: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Every candidate's predicted score after the observations: the adapted neural
        model's posterior mean, or the weighted mean stored normalised score (NaN: never
        stored)."""
        if self.adapt == "neural":
            return self.neural_mean(observed, values)
        if self.adapt == "both":
            tasks = self._tasks_mean(observed, values)
            return (np.nan_to_num(tasks, nan=0.0) + self.neural_mean(observed, values)) / 2
        return self._tasks_mean(observed, values)

    def _tasks_mean(self, observed: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Every candidate's mean stored normalised score, the stored tasks weighted by
        :meth:`task_weights` (NaN: never stored)."""
        w = self.task_weights(observed, values)
        scores = self.prior.scores
        known = np.isfinite(scores)
        total = (np.where(known, scores, 0.0) * w[:, None]).sum(axis=0)
        mass = (known * w[:, None]).sum(axis=0)
        return np.divide(total, mass, out=np.full(len(total), np.nan), where=mass > 0)

    def neural_mean(self, observed: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The neural model's posterior mean for every candidate, its last layer adapted
        to the observed values (ranked onto its own predictions at the observed ones)."""
        from autometa.meta.neural import adapt_last_layer

        phi, (w, b) = self.prior.phi, self.prior.head  # type: ignore[misc]
        assert phi is not None
        before = phi[observed] @ w + b
        targets = np.empty(len(values))
        targets[np.argsort(values, kind="stable")] = np.sort(before)
        mean, _ = adapt_last_layer(phi, phi[observed], targets, w, b, **NEURAL_POSTERIOR)
        return mean

    def _handed_over(self, study: Study, trial: FrozenTrial) -> bool:
        if self.handover is None:
            return False
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        return sum(t.number != trial.number for t in done) >= self.handover

    def _candidate(self, trial: FrozenTrial) -> int:
        """The candidate a trial tried: its nearest in the space's encoding, over the
        parameters the trial has (``tune`` leaves the number of trees to early stopping)."""
        params = {k: v for k, v in trial.params.items() if k in self._space}
        key = tuple(sorted(params.items()))
        if key not in self._nearest:
            self._nearest[key] = self.prior.nearest(params)
        return self._nearest[key]
