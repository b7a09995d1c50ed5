"""autometa: meta-learned hyperparameter recommendations for tabular datasets."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from autometa.exceptions import (
    AutometaError,
    DataError,
    HarvestError,
    MetaModelError,
    SchemaVersionError,
    SpaceError,
    StoreError,
)

try:
    __version__ = version("autometa")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

#: Public names imported on first use, so that `import autometa` (and the CLI) stay fast.
_LAZY = {
    "Dataset": "autometa.data",
    "load_dataset": "autometa.data",
    "compute_metafeatures": "autometa.metafeatures",
    "get_space": "autometa.spaces",
    "open_store": "autometa.store",
    "harvest_local": "autometa.harvest",
    "recommend": "autometa.recommendation.recommender",
    "Recommender": "autometa.recommendation.recommender",
    "RecommendationResult": "autometa.recommendation.recommender",
}

__all__ = [
    "AutometaError",
    "DataError",
    "Dataset",
    "HarvestError",
    "MetaModelError",
    "RecommendationResult",
    "Recommender",
    "SchemaVersionError",
    "SpaceError",
    "StoreError",
    "__version__",
    "compute_metafeatures",
    "get_space",
    "harvest_local",
    "load_dataset",
    "open_store",
    "recommend",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autometa' has no attribute {name!r}")
