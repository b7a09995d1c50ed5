"""What a recommendation returns: :class:`Recommendation` (one configuration) and
:class:`RecommendationResult` (the answer for a dataset, the CLI's JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError
from autometa.recommendation.explain import Neighbor

#: Most levels a categorical column may have for HistGradientBoosting (its ``max_bins``).
MAX_HGB_LEVELS = 255


@dataclass(frozen=True)
class TaskSummary:
    """What ranking needs to know of a dataset besides its meta-features: small enough to
    send to another process."""

    fingerprint: str
    task_type: str
    n_rows: int
    n_features: int
    target: str
    target_std: float = float("nan")  # regression: population std of y (RMSE anchor)
    warnings: tuple[str, ...] = ()
    #: (column, levels) of categorical columns with more levels than HistGradientBoosting
    #: reads (:data:`MAX_HGB_LEVELS`)
    wide_categoricals: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, dataset: Any) -> TaskSummary:
        """The summary of a :class:`~autometa.data.Dataset`."""
        std = float("nan")
        if dataset.task_type == "regression":
            std = float(np.std(np.asarray(dataset.y, dtype=float)))
        wide = tuple(
            (str(name), len(col.cat.categories))
            for name, col in dataset.X.items()
            if isinstance(col.dtype, pd.CategoricalDtype)
            and len(col.cat.categories) > MAX_HGB_LEVELS
        )
        return cls(
            fingerprint=dataset.fingerprint,
            task_type=dataset.task_type,
            n_rows=dataset.n_rows,
            n_features=dataset.n_features,
            target=dataset.target,
            target_std=std,
            warnings=tuple(dataset.warnings),
            wide_categoricals=wide,
        )

    def task(self) -> dict[str, Any]:
        """The ``task`` entry of the JSON answer."""
        return {
            "fingerprint": self.fingerprint,
            "task_type": self.task_type,
            "n_rows": self.n_rows,
            "n_features": self.n_features,
            "target": self.target,
        }


@dataclass(frozen=True)
class Recommendation:
    """One recommended configuration; ``params`` are the estimator's keyword arguments."""

    rank: int
    model: str
    params: dict[str, Any]
    predicted_score: float | None
    uncertainty: float | None
    neighbors: list[Neighbor] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    source: str = "stack"
    race_score: float | None = (
        None  # the metric on this dataset in a race (autometa.recommendation.race)
    )
    task_type: str | None = None  # of the dataset it was recommended for

    def _task_type(self, task_type: str | None) -> str:
        if task_type is None and self.task_type is None:
            raise MetaModelError("this recommendation does not know its task type: pass it")
        return task_type or str(self.task_type)

    def estimator(self, task_type: str | None = None) -> Any:
        """A fresh, unfitted estimator with these parameters (no preprocessing); the task
        type defaults to the dataset's."""
        from autometa.spaces import get_space

        return get_space(self.model).estimator_class(self._task_type(task_type))(**self.params)

    def pipeline(self, task_type: str | None = None, *, n_jobs: int = -1) -> Any:
        """The estimator as the knowledge base evaluated it: LightGBM and
        HistGradientBoosting as they are (they read category dtype and NaN), the others in
        a scikit-learn Pipeline that one-hot encodes categoricals and imputes (and, for
        ``linear``, scales) numerics. The task type defaults to the dataset's; ``n_jobs``
        to every core."""
        from autometa.spaces import get_space

        random_state = self.params.get("random_state", 0)
        space = get_space(self.model)
        return space.make_estimator(
            self.config, self._task_type(task_type), random_state=random_state, n_jobs=n_jobs
        )


@dataclass(frozen=True)
class RecommendationResult:
    """The answer for one dataset: what the CLI prints as JSON."""

    task: dict[str, Any]
    model: str
    metric: str
    direction: str
    recommendations: list[Recommendation]
    fallback: bool
    warnings: list[str]  #: what may need your attention (data changes, guesses, fallbacks)
    notes: list[str] = field(default_factory=list)  #: what the ranking did, for information

    @property
    def best(self) -> Recommendation:
        return self.recommendations[0]

    def estimator(self, rank: int = 1) -> Any:
        """A fresh, unfitted estimator of the ``rank``-th recommendation for this task
        (``result.estimator().fit(X, y)``); :meth:`Recommendation.pipeline` adds the
        preprocessing the knowledge base used."""
        if not 1 <= rank <= len(self.recommendations):
            raise MetaModelError(f"rank must be 1-{len(self.recommendations)}, got {rank}")
        return self.recommendations[rank - 1].estimator(self.task["task_type"])

    def distributions(self) -> dict[str, Any]:
        """The family's Optuna search space for this task, in the names of ``config``."""
        from autometa.spaces import get_space

        return get_space(self.model).distributions(self.task["task_type"])

    def enqueue(self, study: Any) -> int:
        """Warm-start an Optuna study: queue the recommendations (best first) as its next
        trials. Ask with :meth:`distributions` (``study.ask(result.distributions())``), or
        suggest the same names in an objective, and the first trials are these
        configurations; turn a trial's params into estimator arguments with
        ``get_space(model).estimator_params(params, task_type)``. Returns how many were
        queued (configurations already in the study are skipped).

        Raises:
            MetaModelError: the study is multi-objective or optimises the other way.
        """
        directions = [d.name.lower() for d in study.directions]
        if directions != [self.direction]:
            raise MetaModelError(
                f"the recommendations {self.direction} {self.metric}; this study's direction"
                f"{'s are' if len(directions) > 1 else ' is'} {', '.join(directions)}: create "
                f"it with optuna.create_study(direction={self.direction!r})"
            )
        before = len(study.get_trials(deepcopy=False))
        for rec in self.recommendations:
            study.enqueue_trial(dict(rec.config), skip_if_exists=True)
        return len(study.get_trials(deepcopy=False)) - before

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for rec in out["recommendations"]:
            rec.pop("config", None)
            rec.pop("task_type", None)  # the task's, in out["task"]
        return out
