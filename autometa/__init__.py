"""autometa: meta-learned hyperparameter recommendations for tabular datasets."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

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

__all__ = [
    "AutometaError",
    "DataError",
    "HarvestError",
    "MetaModelError",
    "SchemaVersionError",
    "SpaceError",
    "StoreError",
    "__version__",
]
