"""Plain records that cross the store API; database rows never leave the store."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autometa.exceptions import StoreError

#: Version of the store schema (tables, columns, keys); snapshots record it.
SCHEMA_VERSION = 1
#: Columns identifying one evaluation row (its unique key).
EVALUATION_KEY: tuple[str, ...] = ("task_id", "config_id", "fold", "metric", "source")

TASK_TYPES: tuple[str, ...] = ("binary", "multiclass", "regression")
STATUSES: tuple[str, ...] = ("ok", "error", "timeout")


def _json_default(value: Any) -> Any:
    """Turn numpy scalars/arrays (anything with ``item``/``tolist``) into JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(value: Mapping[str, Any]) -> str:
    """Canonical JSON text of a mapping: sorted keys, numpy scalars as Python numbers."""
    try:
        return json.dumps(dict(value), sort_keys=True, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"value is not JSON serialisable: {exc}") from exc


def normalise_json(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """Round-trip a mapping through canonical JSON so it equals what the database returns."""
    return json.loads(canonical_json(value or {}))


def params_checksum(params: Mapping[str, Any]) -> str:
    """sha256 hex digest of ``json.dumps(params, sort_keys=True)`` (stored for ``verify``)."""
    return hashlib.sha256(canonical_json(params).encode("utf-8")).hexdigest()


def finite_or_none(value: float | None) -> float | None:
    """``None`` for missing values and NaN; other floats (including ±inf) unchanged."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class TaskRecord:
    """One dataset + target: the unit prior evaluations are attached to."""

    name: str
    source: str
    fingerprint: str
    task_type: str
    target: str
    n_rows: int
    n_features: int
    group_key: str | None = None
    source_id: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def __post_init__(self) -> None:
        if self.task_type not in TASK_TYPES:
            raise StoreError(f"task_type must be one of {TASK_TYPES}, got {self.task_type!r}")
        for name in ("name", "source", "fingerprint", "target"):
            if not getattr(self, name):
                raise StoreError(f"TaskRecord.{name} must be a non-empty string")


@dataclass(frozen=True)
class EvaluationRecord:
    """One score of one configuration on one fold of one task."""

    task_id: int
    config_id: int
    fold: int
    metric: str
    value: float | None
    fit_seconds: float | None = None
    status: str = "ok"
    message: str | None = None
    source: str = "local"

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise StoreError(f"status must be one of {STATUSES}, got {self.status!r}")
        if not self.metric or not self.source:
            raise StoreError("EvaluationRecord.metric and .source must be non-empty")

    def as_row(self) -> dict[str, Any]:
        """Column values for an INSERT (NaN stored as NULL)."""
        return {
            "task_id": int(self.task_id),
            "config_id": int(self.config_id),
            "fold": int(self.fold),
            "metric": self.metric,
            "value": finite_or_none(self.value),
            "fit_seconds": finite_or_none(self.fit_seconds),
            "status": self.status,
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True)
class Claim:
    """A harvest's hold on one unit: a configuration on a task for one repeat of the CV.

    ``owner`` names the harvest holding it (unique per harvest run)."""

    task_id: int
    config_id: int
    repeat: int
    owner: str

    def key(self) -> dict[str, int]:
        """The unit's key columns."""
        return {
            "task_id": int(self.task_id),
            "config_id": int(self.config_id),
            "repeat": int(self.repeat),
        }


__all__ = [
    "STATUSES",
    "TASK_TYPES",
    "Claim",
    "EvaluationRecord",
    "TaskRecord",
    "canonical_json",
    "finite_or_none",
    "normalise_json",
    "params_checksum",
]
