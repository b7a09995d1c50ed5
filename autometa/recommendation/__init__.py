"""Recommendation: a validated request (:mod:`~autometa.recommendation.request`) is ranked
by the meta-learner and passed through small ranking steps (saturation, fallback,
feasibility, race: :mod:`~autometa.recommendation.steps`), then explained
(:mod:`~autometa.recommendation.explain`, :mod:`~autometa.recommendation.notes`) and
returned as a :class:`RecommendationResult` (:mod:`~autometa.recommendation.results`).

Names are imported on first use, so that importing the request checks stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "Recommendation": "autometa.recommendation.results",
    "RecommendationResult": "autometa.recommendation.results",
    "TaskSummary": "autometa.recommendation.results",
    "Recommender": "autometa.recommendation.recommender",
    "recommend": "autometa.recommendation.recommender",
}

__all__ = ["Recommendation", "RecommendationResult", "Recommender", "TaskSummary", "recommend"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autometa.recommendation' has no attribute {name!r}")
