"""Exception hierarchy: every error autometa raises on purpose derives from AutometaError."""

from __future__ import annotations


class AutometaError(Exception):
    """Base class of all autometa errors."""


class DataError(AutometaError, ValueError):
    """The user's dataset cannot be read or is unusable (missing file, bad target, ...)."""


class StoreError(AutometaError):
    """The metadata store cannot be opened, read or written."""


class SchemaVersionError(StoreError):
    """The store was written by another schema version; the message says what to run."""


class SpaceError(AutometaError, ValueError):
    """A configuration does not belong to a model family's search space."""


class HarvestError(AutometaError):
    """Harvesting prior evaluations failed (bad corpus entry, unreachable server, ...)."""


class MetaModelError(AutometaError):
    """A meta-model cannot be trained or used (e.g. the store holds too little data)."""


class SearchError(AutometaError, ValueError):
    """A search cannot start or continue (e.g. a stored study of another dataset)."""


class CacheWarning(UserWarning):
    """The fitted-model cache cannot be written: the answer stands, the fit is not kept."""


__all__ = [
    "AutometaError",
    "CacheWarning",
    "DataError",
    "HarvestError",
    "MetaModelError",
    "MissingDependencyWarning",
    "SchemaVersionError",
    "SearchError",
    "SpaceError",
    "StoreError",
]


class MissingDependencyWarning(UserWarning):
    """An optional part is left out because a package it needs is not installed."""
