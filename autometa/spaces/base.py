"""The shared :class:`SearchSpace` base: one subclass per model family fills in four hooks."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from optuna.distributions import BaseDistribution

from autometa.exceptions import SpaceError
from autometa.spaces._values import canonical_value, coerce, describe, encode_value, from_unit

TASK_TYPES: tuple[str, ...] = ("binary", "multiclass", "regression")
#: Hex characters kept from the sha256 digest in :meth:`SearchSpace.config_hash`.
HASH_LENGTH = 16


def check_task_type(task_type: str) -> str:
    """Return ``task_type`` if valid, else raise :class:`SpaceError` listing the valid ones."""
    if task_type not in TASK_TYPES:
        raise SpaceError(f"unknown task_type {task_type!r}; valid: {', '.join(TASK_TYPES)}")
    return task_type


def _sobol(d: int, n: int, seed: int) -> np.ndarray:
    """First ``n`` points of a scrambled Sobol' sequence (a prefix of any longer draw)."""
    from scipy.stats import qmc

    try:
        sampler = qmc.Sobol(d, scramble=True, rng=seed)
    except TypeError:  # scipy < 1.15 spells it ``seed``
        sampler = qmc.Sobol(d, scramble=True, seed=seed)
    m = max(0, math.ceil(math.log2(n)))
    return sampler.random_base2(m)[:n]


#: Estimator arguments about running, not the model: left out of reported parameters.
RUNTIME_ARGS = frozenset({"n_jobs", "verbosity"})


class SearchSpace:
    """Search space of one model family: Optuna distributions, defaults, encoding, estimators.

    Subclasses set ``family``/``version`` and implement ``_space``, ``_default``,
    ``_estimator_kwargs`` and ``estimator_class``. All public methods take ``task_type``
    in :data:`TASK_TYPES` and treat configurations as plain dicts of this space's names.
    """

    family: ClassVar[str]
    version: ClassVar[str]
    #: log-scaled penalties whose library default is 0: 0 is accepted as the lower bound,
    #: and the lower bound is passed to the estimator as 0.
    zero_floor: ClassVar[frozenset[str]] = frozenset()
    #: "native" (estimator reads category dtype and NaN), "impute" or "impute_scale".
    preprocessing: ClassVar[str] = "native"

    # ----------------------------------------------------------------- subclass hooks
    def _space(self, task_type: str) -> dict[str, BaseDistribution]:
        raise NotImplementedError

    def _default(self, task_type: str) -> dict[str, Any]:
        raise NotImplementedError

    def _estimator_kwargs(
        self, config: dict[str, Any], task_type: str, random_state: int, n_jobs: int
    ) -> dict[str, Any]:
        raise NotImplementedError

    def estimator_class(self, task_type: str) -> type:
        """The estimator class configured by :meth:`estimator_params`."""
        raise NotImplementedError

    # ------------------------------------------------------------------ public API
    def distributions(self, task_type: str) -> dict[str, BaseDistribution]:
        """Optuna distributions of the tunable parameters, in encoding order."""
        return dict(self._space(check_task_type(task_type)))

    def default(self, task_type: str) -> dict[str, Any]:
        """The library's default configuration, expressed in this space's parameters."""
        return dict(self._default(check_task_type(task_type)))

    def design(self, task_type: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
        """``n`` space-filling configurations (scrambled Sobol'), deterministic for ``seed``.

        The default is not included. ``design(t, n, s)`` is a prefix of ``design(t, m, s)``
        for ``m > n``, so a design can be extended without re-evaluating its start.
        """
        dists = self.distributions(task_type)
        if n < 0:
            raise SpaceError(f"n must be >= 0, got {n}")
        if n == 0:
            return []
        points = _sobol(len(dists), n, seed)
        items = list(dists.items())
        return [
            {name: from_unit(float(u), dist) for (name, dist), u in zip(items, row, strict=True)}
            for row in points
        ]

    def validate(self, params: Mapping[str, Any], task_type: str) -> dict[str, Any]:
        """Coerce and range-check ``params``; return a complete config (defaults filled in)."""
        dists = self.distributions(task_type)
        unknown = sorted(set(params) - set(dists))
        if unknown:
            raise SpaceError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for {self.family} "
                f"({task_type}); valid: {self._ranges(dists)}"
            )
        config = self.default(task_type)
        for name, value in params.items():
            config[name] = coerce(name, value, dists[name], zero_floor=name in self.zero_floor)
        return {name: config[name] for name in dists}

    def encoding_names(self, task_type: str) -> list[str]:
        """Names of the entries of :meth:`encode`'s vector, in order."""
        return list(self.distributions(task_type))

    def encode(self, params: Mapping[str, Any], task_type: str) -> np.ndarray:
        """Numeric vector: log10 for log-scaled, raw for linear, index for categoricals."""
        config = self.validate(params, task_type)
        dists = self.distributions(task_type)
        return np.array([encode_value(config[k], d) for k, d in dists.items()], dtype=float)

    def estimator_params(
        self,
        params: Mapping[str, Any],
        task_type: str,
        *,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> dict[str, Any]:
        """Keyword arguments accepted as-is by ``estimator_class(task_type)``."""
        config = self.validate(params, task_type)
        dists = self.distributions(task_type)
        for name in self.zero_floor & set(config):
            if config[name] == dists[name].low:
                config[name] = 0.0
        return self._estimator_kwargs(config, task_type, random_state, n_jobs)

    def hyperparameters(
        self, params: Mapping[str, Any], task_type: str, *, random_state: int = 0
    ) -> dict[str, Any]:
        """:meth:`estimator_params` less the arguments that say how to run rather than what
        to fit (:data:`RUNTIME_ARGS`): what a recommendation or a search reports."""
        kwargs = self.estimator_params(params, task_type, random_state=random_state)
        return {k: v for k, v in kwargs.items() if k not in RUNTIME_ARGS}

    def make_estimator(
        self,
        params: Mapping[str, Any],
        task_type: str,
        *,
        categorical_columns: Sequence[str] = (),
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> Any:
        """Ready-to-fit estimator for a DataFrame with category-dtype categoricals and NaNs.

        Native families (LightGBM, HistGradientBoosting) read the dtypes themselves; the
        others get a preprocessing Pipeline. ``categorical_columns`` defaults to the
        category/object/string columns of ``X`` at fit time.
        """
        kwargs = self.estimator_params(params, task_type, random_state=random_state, n_jobs=n_jobs)
        estimator = self.estimator_class(task_type)(**kwargs)
        if self.preprocessing == "native":
            return estimator
        from autometa.spaces._preprocessing import tabular_pipeline

        return tabular_pipeline(
            estimator, categorical_columns, scale=self.preprocessing == "impute_scale"
        )

    def canonical(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Sorted, type-normalised, rounded form of ``params`` (hash a complete config)."""
        known: dict[str, BaseDistribution] = {}
        for task_type in TASK_TYPES:
            for name, dist in self._space(task_type).items():
                known.setdefault(name, dist)
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise SpaceError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for {self.family}; "
                f"valid: {', '.join(known)}"
            )
        out = {}
        for name in sorted(params):
            dist = known[name]
            value = coerce(name, params[name], dist, zero_floor=name in self.zero_floor)
            out[name] = canonical_value(value, dist)
        return out

    def config_hash(self, params: Mapping[str, Any], version: str | None = None) -> str:
        """Stable id of a configuration: sha256 of family, version and canonical params.

        ``version`` recomputes the hash a configuration got under another space version
        (used by ``autometa store verify``)."""
        payload = {
            "family": self.family,
            "version": version or self.version,
            "params": self.canonical(params),
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]

    # ------------------------------------------------------------------- helpers
    @staticmethod
    def _ranges(dists: Mapping[str, BaseDistribution]) -> str:
        return "; ".join(f"{name}: {describe(dist)}" for name, dist in dists.items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(family={self.family!r}, version={self.version!r})"
