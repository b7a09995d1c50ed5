"""The knowledge base the meta-learner and the recommender read: :class:`KnowledgeBase`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd


@runtime_checkable
class KnowledgeBase(Protocol):
    """Prior evaluations with their tasks, meta-features and configurations, as frames.

    Satisfied by a :class:`~autometa.store.snapshot.Snapshot` (the shipped one, or the
    merged view of :func:`~autometa.store.knowledge.knowledge_base`) and by a
    :class:`~autometa.store.sql.Store`, which reads its tables on each access. The frames
    have the Store's shapes. ``isinstance(x, KnowledgeBase)`` checks that every member is
    there; on Python 3.11 it reads each one (a snapshot's lazy evaluations included).
    """

    @property
    def manifest(self) -> Mapping[str, Any]:
        """Where the content comes from: a snapshot's manifest (with its files' sha256s),
        ``{"sources": [...]}`` for a merged view, ``{"source": url}`` for a store."""
        ...

    @property
    def tasks(self) -> pd.DataFrame:
        """Every task: index ``task_id``; name, source, fingerprint, task_type, ..."""
        ...

    @property
    def metafeatures(self) -> pd.DataFrame:
        """Wide meta-features: index ``task_id``, one float column per quality name."""
        ...

    @property
    def configurations(self) -> pd.DataFrame:
        """Every configuration: index ``config_id``; family, params, space_version, hash."""
        ...

    @property
    def evaluations(self) -> pd.DataFrame:
        """Every evaluation row, any status."""
        ...

    def configurations_frame(self, family: str | None = None) -> pd.DataFrame:
        """The configurations, of one ``family`` when given."""
        ...

    def evaluations_frame(
        self,
        *,
        family: str | None = None,
        metric: str | None = None,
        task_type: str | None = None,
        status: str | None = "ok",
    ) -> pd.DataFrame:
        """Long evaluations, filtered (``None`` disables a filter)."""
        ...
