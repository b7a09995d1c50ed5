"""What a warm-started search knows before its first trial: :class:`TransferPrior`.

The candidates are the family's stored configurations; the stored tasks' normalised scores
on them are the evidence a search re-weights as it observes trials; each stored task's
prior weight comes from its meta-feature distance to the new task; the order is the
meta-learner's ranking for the new task. Plain arrays only, so a prior pickles and travels
to worker processes with the sampler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError


@dataclass(frozen=True)
class TransferPrior:
    """The knowledge a :class:`~autometa.optuna.MetaSampler` starts from.

    Attributes:
        family: the model family whose space the candidates live in.
        task_type: binary, multiclass or regression (the space's distributions depend on it).
        configs: the candidate configurations (space parameters), one per column.
        encodings: the candidates' space encodings (candidates x dims), to map any
            trial's parameters to its nearest candidate.
        scores: stored tasks x candidates, normalised per task (1 = the task's best,
            0 = its worst; NaN = not evaluated).
        log_prior: each stored task's log prior weight (meta-feature similarity).
        order: the meta-learner's ranking of the candidates for the new task (indices,
            best first).
        phi: the neural meta-model's last-layer features of the candidates for the new
            task (candidates x dims), or None without one; with ``head`` (its last layer's
            weights and bias) they let the sampler adapt the model to the observed trials
            in closed form (:func:`autometa.meta.neural.adapt_last_layer`).
        head: the neural meta-model's last layer ``(w, b)``, or None.
    """

    family: str
    task_type: str
    configs: tuple[Mapping[str, Any], ...]
    encodings: np.ndarray
    scores: np.ndarray
    log_prior: np.ndarray
    order: tuple[int, ...]
    phi: np.ndarray | None = None
    head: tuple[np.ndarray, float] | None = None

    def __post_init__(self) -> None:
        n = len(self.configs)
        if n == 0:
            raise MetaModelError("a transfer prior needs at least one candidate configuration")
        if self.encodings.shape[0] != n or self.scores.shape[1] != n:
            raise MetaModelError("encodings and scores must have one column per candidate")
        if self.scores.shape[0] != len(self.log_prior):
            raise MetaModelError("log_prior must have one entry per stored task")
        if sorted(self.order) != list(range(n)):
            raise MetaModelError("order must rank every candidate exactly once")
        if (self.phi is None) != (self.head is None):
            raise MetaModelError("phi and head come together (a neural meta-model's)")
        if self.phi is not None and self.phi.shape[0] != n:
            raise MetaModelError("phi must have one row per candidate")

    def distributions(self) -> dict[str, Any]:
        """The family's Optuna distributions for this task type."""
        from autometa.spaces import get_space

        return get_space(self.family).distributions(self.task_type)

    def nearest(self, params: Mapping[str, Any]) -> int:
        """The candidate nearest to ``params`` in the space's encoding, each dimension
        scaled by the candidates' spread, over the parameters ``params`` has (an exact
        match is its own candidate)."""
        from autometa.spaces import get_space

        space = get_space(self.family)
        code = space.encode(params, self.task_type)  # missing ones: the default, unused
        names = space.encoding_names(self.task_type)
        dims = np.array([name in params for name in names])
        return nearest_row(self.encodings, code, dims)


def nearest_row(encodings: np.ndarray, code: np.ndarray, dims: np.ndarray | None = None) -> int:
    """The row of ``encodings`` nearest to ``code``, each dimension scaled by the rows'
    standard deviation (constant dimensions unscaled); only ``dims`` (a mask) count."""
    scale = encodings.std(axis=0)
    scale[scale == 0] = 1.0
    squared = ((encodings - code) / scale) ** 2
    if dims is not None:
        squared = squared[:, dims]
    return int(np.argmin(squared.sum(axis=1)))


def transfer_prior(
    stack: Any,
    data: Any,
    configurations: pd.DataFrame,
    metafeatures: pd.Series,
    task_type: str,
    train_task_ids: Sequence[int] | np.ndarray | None = None,
    ranking: pd.DataFrame | None = None,
    neural: Any = None,
) -> TransferPrior:
    """A prior from a fitted stack and its :class:`~autometa.meta.data.MetaData`:
    candidates are ``data.config_ids`` (params from ``configurations``), stored tasks those
    the stack was trained on (or ``train_task_ids``), the order the stack's ranking for
    ``metafeatures`` (or ``ranking``, e.g. the recommender's served one). ``neural``: a
    fitted :class:`~autometa.meta.NeuralMeta` whose last layer the sampler can adapt
    (default: the stack's own neural base model, if it has one)."""
    from autometa.spaces import get_space

    novelty = stack.novelty_model_
    ids = np.asarray(novelty.train_task_ids_ if train_task_ids is None else train_task_ids)
    neighbours = novelty.neighbours(metafeatures, len(novelty.train_task_ids_))
    distance = neighbours.set_index("task_id")["distance"].reindex(ids)
    scale = max(float(np.median(novelty.reference_)), 1e-12)
    log_prior = -(distance.fillna(distance.max()).to_numpy(dtype=float)) / scale
    if ranking is None:
        ranking = stack.rank(metafeatures)
    column = {int(c): i for i, c in enumerate(data.config_ids)}
    ranked = [column[int(c)] for c in ranking["config_id"] if int(c) in column]
    order = ranked + [i for i in range(len(column)) if i not in set(ranked)]
    configs = tuple(dict(configurations.loc[int(c), "params"]) for c in data.config_ids)
    space = get_space(data.family)
    phi, head = _neural_parts(stack, neural, metafeatures, data.config_ids)
    return TransferPrior(
        family=data.family,
        task_type=task_type,
        configs=configs,
        encodings=np.vstack([space.encode(c, task_type) for c in configs]),
        scores=np.asarray(data.normalised[data.rows(ids)], dtype=float),
        log_prior=log_prior,
        order=tuple(order),
        phi=phi,
        head=head,
    )


def _neural_parts(
    stack: Any, neural: Any, metafeatures: pd.Series, config_ids: np.ndarray
) -> tuple[np.ndarray | None, tuple[np.ndarray, float] | None]:
    """The neural model's candidate features for the new task and its last layer."""
    if neural is None:
        models = getattr(stack, "base_models_", [])
        neural = next((m for m in models if getattr(m, "name", "") == "neural"), None)
    if neural is None:
        return None, None
    phi = neural.phi(metafeatures, np.asarray(config_ids))[0]
    w, b = neural.last_layer()
    return np.asarray(phi, dtype=float), (np.asarray(w, dtype=float), float(b))
