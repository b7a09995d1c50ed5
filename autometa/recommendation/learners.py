"""The meta-learners of a knowledge base, loaded or fitted once per (family, task kind,
metric) and kept: what every recommendation ranks with."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from autometa.exceptions import MetaModelError
from autometa.store.base import KnowledgeBase

#: Fewest training tasks a stack is fitted on.
MIN_TASKS = 10


_IMPORTS = threading.Lock()


def import_stack() -> None:
    """Import the meta-learning stack and the meta-features (scikit-learn, LightGBM, SciPy)
    under one lock: scikit-learn's package imports are circular, and two threads importing
    it at once (the loader thread and the caller's) can fail with a partially initialised
    module."""
    with _IMPORTS:
        import autometa.meta
        import autometa.metafeatures.landmarking  # noqa: F401


class Learners:
    """A knowledge base and its fitted stacks, each loaded once (thread-safe).

    Args:
        store: URL of the user's store to use beside the shipped snapshot (default: the
            user store, if it exists).
        shipped: use the shipped snapshot.
        kb: an already loaded knowledge base; overrides the two above.
        progress: told (one line each) about slow first-use work, e.g. fitting a stack.
    """

    def __init__(
        self,
        store: str | None = None,
        *,
        shipped: bool = True,
        kb: KnowledgeBase | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.shipped = shipped
        self.progress = progress
        self._kb = kb
        self._learners: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self._metadata: dict[tuple[Any, ...], Any] = {}  # without a fitted stack
        self._trends: dict[str, Any] = {}  # size trends, by family
        self._lock = threading.RLock()  # the knowledge base and each learner load once

    @property
    def kb(self) -> KnowledgeBase:
        with self._lock:
            if self._kb is None:
                from autometa.store.knowledge import knowledge_base

                self._kb = knowledge_base(self.store, shipped=self.shipped)
            return self._kb

    def prefetch(self) -> threading.Thread:
        """Start importing the meta-learning stack and loading the knowledge base in a
        background thread (e.g. while the caller reads a file); errors are left for
        :meth:`recommend` to raise."""
        thread = threading.Thread(target=self._prefetch, name="autometa-prefetch", daemon=True)
        thread.start()
        return thread

    def _prefetch(self) -> None:
        try:
            import_stack()
            self.kb  # noqa: B018
        except Exception:
            pass

    def learner(
        self, family: str, kind: str, metric: str, exclude_groups: frozenset[str] = frozenset()
    ) -> tuple[Any, Any]:
        """The fitted stack and its MetaData for (family, task kind, metric), cached."""
        import_stack()
        key = (family, kind, metric, exclude_groups)
        with self._lock:
            try:
                return self._learners.get(key) or self._fit_learner(key)
            except MetaModelError as exc:
                present = self._families(kind, metric)
                if family in present:
                    raise
                raise MetaModelError(
                    f"{exc}; families with {metric} evaluations on {kind} tasks in this "
                    f"knowledge base: {', '.join(present) or 'none'}"
                ) from exc

    def metadata(self, family: str, kind: str, metric: str) -> Any:
        """The MetaData of (family, task kind, metric) on the whole knowledge base,
        without fitting a stack: from a learner already loaded, the stack cache, or built
        from the evaluations (and kept)."""
        from autometa.meta import build_metadata, persist

        key = (family, kind, metric, frozenset())
        with self._lock:
            if key in self._learners:
                return self._learners[key][1]
            if key not in self._metadata:
                data = persist.cached_metadata(self.kb, family, kind, metric)
                self._metadata[key] = data or build_metadata(self.kb, family, kind, metric)
            return self._metadata[key]

    def size_trend(self, family: str) -> Any:
        """The :class:`~autometa.recommendation.size.SizeTrend` of ``family`` in this
        knowledge base, computed once: from the MetaData of each task kind's default stack
        (loaded with it) when some stored table has two sizes, else an empty trend."""
        from autometa.recommendation import size

        with self._lock:
            if family in self._trends:
                return self._trends[family]
            metadata = []
            if size.has_size_series(self.kb.tasks):
                metadata = size.per_kind(lambda kind, metric: self.learner(family, kind, metric)[1])
            trend = size.trend_of(metadata, self.kb.configurations, family)
            self._trends[family] = trend
            return trend

    def _families(self, kind: str, metric: str) -> list[str]:
        from autometa.metrics import TASK_KINDS
        from autometa.spaces import has_space

        ev = self.kb.evaluations_frame(metric=metric)
        types = self.kb.tasks.loc[self.kb.tasks["task_type"].isin(TASK_KINDS[kind])].index
        return sorted(f for f in set(ev.loc[ev["task_id"].isin(types), "family"]) if has_space(f))

    def _fit_learner(self, key: tuple[Any, ...]) -> tuple[Any, Any]:
        from autometa.meta import StackedMetaLearner, persist

        family, kind, metric, exclude_groups = key
        if not exclude_groups:  # cached stack and meta-data: the evaluations are not read
            stack, data = persist.load_or_fit_learner(
                self.kb,
                family,
                kind,
                metric,
                min_tasks=MIN_TASKS,
                on_fit=self.progress,
                data=self._metadata.pop(key, None),  # built by --model auto's choice
                on_warning=self._warning if self.progress is not None else None,
            )
        else:
            data = self.metadata(family, kind, metric)
            keep = ~data.tasks["group_key"].astype(str).isin(exclude_groups).to_numpy()
            persist.check_task_count(int(keep.sum()), data, MIN_TASKS)
            if self.progress is not None:
                self.progress(
                    f"fitting a one-off {family} meta-learner for {kind} ({metric}) on "
                    f"{int(keep.sum())} stored tasks (exclude_self: not cached)"
                )
            stack = StackedMetaLearner().fit(data, data.task_ids[keep])  # one-off: not cached
        self._learners[key] = (stack, data)
        return self._learners[key]

    def _warning(self, message: str) -> None:
        """A warning on the progress line (e.g. the model cache cannot be written)."""
        if self.progress is not None:
            self.progress(f"warning: {message}")

    def groups_of(self, fingerprint: str) -> frozenset[str]:
        """The stored task groups of the dataset with this fingerprint (none if new)."""
        tasks = self.kb.tasks
        same = tasks[tasks["fingerprint"] == fingerprint]
        return frozenset(same["group_key"].astype(str))
