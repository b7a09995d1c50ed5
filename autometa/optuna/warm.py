"""``meta_sampler``: a :class:`~autometa.optuna.MetaSampler` for a dataset in one call."""

from __future__ import annotations

from typing import Any

import pandas as pd

from autometa.metrics import task_kind
from autometa.optuna.prior import transfer_prior
from autometa.optuna.sampler import MetaSampler


def meta_sampler(
    data: Any,
    y: Any = None,
    *,
    model: str = "lightgbm",
    metric: str | None = None,
    k: int = 5,
    target: str | None = None,
    recommender: Any = None,
    exclude_self: bool = False,
    **options: Any,
) -> tuple[MetaSampler, Any]:
    """A MetaSampler for a dataset (a Dataset, DataFrame, arrays or a path) and the
    recommendation it starts from.

    Its first trials are the recommender's top ``k`` as served (safety steps included),
    then the stack's ranking (``exclude_self``: both without the dataset's own stored
    task group, as ``recommend(exclude_self=True)``); ``options`` go to
    :class:`MetaSampler` (``n_startup``, ``handover``, ``temperature``, ``seed``,
    ``fallback``, ``adapt``: with ``adapt="neural"`` a neural meta-model is fitted on the
    stack's training tasks when the stack has none, a few seconds, PyTorch needed). Create
    the study with ``direction=result.direction`` and suggest ``result.distributions()``.
    """
    from autometa.recommendation.recommender import (
        Recommender,
        as_frame,
        dataset_of,
        quiet_metafeatures,
    )
    from autometa.recommendation.results import TaskSummary

    rec = recommender or Recommender()
    dataset = dataset_of(data, y, target=target)
    metafeatures = as_frame(quiet_metafeatures(dataset))
    summary = TaskSummary.of(dataset)
    result = rec.recommend_summary(
        summary, dict(metafeatures), model=model, metric=metric, k=k, exclude_self=exclude_self
    )
    excluded = rec.groups_of(summary.fingerprint) if exclude_self else frozenset()
    kind = task_kind(dataset.task_type)
    stack, meta = rec.learner(result.model, kind, result.metric, excluded)
    configs = rec.kb.configurations
    served = [_config_id(configs, result.model, r.config) for r in result.recommendations]
    rest = [int(c) for c in stack.rank(metafeatures)["config_id"] if int(c) not in served]
    ranking = pd.DataFrame({"config_id": served + rest})
    neural = _neural(stack, meta) if options.get("adapt") == "neural" else None
    prior = transfer_prior(
        stack, meta, configs, metafeatures, dataset.task_type, ranking=ranking, neural=neural
    )
    options.setdefault("n_startup", k)
    return MetaSampler(prior, **options), result


def _neural(stack: Any, meta: Any) -> Any:
    """A neural model fitted on the stack's training tasks, or None when the stack has its
    own (:func:`transfer_prior` takes that one)."""
    if any(m.name == "neural" for m in stack.base_models_):
        return None
    from autometa.meta.neural import NeuralMeta

    return NeuralMeta().fit(meta, stack.train_task_ids_)


def _config_id(configs: pd.DataFrame, family: str, config: dict[str, Any]) -> int:
    """The stored id of a recommended configuration (matched by its hash)."""
    from autometa.spaces import get_space

    space = get_space(family)
    same = configs.index[configs["config_hash"] == space.config_hash(config)]
    return int(same[0])
