"""Recommendations: a dataset in, a short ranked and diverse list of configurations out."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError
from autometa.metrics import METRIC_DIRECTION
from autometa.metrics import direction as metric_direction
from autometa.recommendation import notes as _notes
from autometa.recommendation.explain import (
    default_estimate,
    default_ratio,
    default_scores,
    finite,
    predicted_metric,
    reference_scores,
    supporting,
)
from autometa.recommendation.race import MIN_ROWS as RACE_MIN_ROWS
from autometa.recommendation.race import race_note
from autometa.recommendation.request import check_request, feasible
from autometa.recommendation.results import Recommendation, RecommendationResult, TaskSummary

__all__ = ["Recommendation", "RecommendationResult", "Recommender", "TaskSummary", "recommend"]

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


@contextmanager
def _warning_filters_kept() -> Iterator[None]:
    """Put the process's warning filters back as they were on exit. Two threads entering
    ``warnings.catch_warnings`` (the meta-features do, and so does pandas) can restore each
    other's filters in the wrong order and leave, e.g., every warning silenced."""
    saved = list(warnings.filters)
    try:
        yield
    finally:
        if warnings.filters != saved:
            warnings.filters[:] = saved
            mutated = getattr(warnings, "_filters_mutated", None)  # CPython's cache reset
            if mutated is not None:
                mutated()


def _quiet_metafeatures(dataset: Any) -> dict[str, float | None]:
    import_stack()
    from autometa.metafeatures import compute_metafeatures

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compute_metafeatures(dataset.X, dataset.y, dataset.task_type)


def as_frame(values: Mapping[str, float | None]) -> pd.Series:
    return pd.Series({k: (np.nan if v is None else float(v)) for k, v in values.items()})


class Recommender:
    """Loads the knowledge base once and answers many datasets.

    Args:
        store: URL of the user's store to use beside the shipped snapshot (default: the
            user store, if it exists).
        shipped: use the shipped snapshot.
        kb: an already loaded knowledge base (Snapshot-like); overrides the two above.
        progress: told (one line each) about slow first-use work, e.g. fitting a stack.
    """

    def __init__(
        self,
        store: str | None = None,
        *,
        shipped: bool = True,
        kb: Any = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.shipped = shipped
        self.progress = progress
        self._kb = kb
        self._learners: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self._metadata: dict[tuple[Any, ...], Any] = {}  # without a fitted stack
        self._lock = threading.RLock()  # the knowledge base and each learner load once

    @property
    def kb(self) -> Any:
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

    def _families(self, kind: str, metric: str) -> list[str]:
        from autometa.metrics import TASK_KINDS

        ev = self.kb.evaluations_frame(metric=metric)
        types = self.kb.tasks.loc[self.kb.tasks["task_type"].isin(TASK_KINDS[kind])].index
        return sorted(set(ev.loc[ev["task_id"].isin(types), "family"]))

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
            )
        else:
            data = self.metadata(family, kind, metric)
            keep = ~data.tasks["group_key"].astype(str).isin(exclude_groups).to_numpy()
            persist.check_task_count(int(keep.sum()), data, MIN_TASKS)
            if self.progress is not None:
                self.progress(
                    f"fitting a one-off {family} meta-learner for {kind} ({metric}) on "
                    f"{int(keep.sum())} stored tasks (--exclude-self: not cached)"
                )
            stack = StackedMetaLearner().fit(data, data.task_ids[keep])  # one-off: not cached
        self._learners[key] = (stack, data)
        return self._learners[key]

    def recommend(
        self,
        data: Any,
        y: Any = None,
        *,
        model: str = "lightgbm",
        metric: str | None = None,
        k: int = 5,
        exclude_self: bool = False,
        target: str | None = None,
        task: str | None = None,
        default_margin: float | None = None,
        race: int = 0,
    ) -> RecommendationResult:
        """Ranked recommendations for a dataset (a Dataset, DataFrame, arrays or a path).

        ``default_margin`` (0-1, default: the meta-learner's learned margin) is how much
        the library default's predicted normalised score is raised before ranking: larger
        values put the default first more often, trading expected gain for fewer
        recommendations worse than the default (docs/meta.md has the measured trade-off).
        ``race`` (0-20, default 0: off) cross-validates the first ``race`` configurations
        and the library default on a sample of the dataset (:mod:`autometa.recommendation.race`) and
        puts them in the order of that score: seconds more; measured out of sample, about
        0.5-1 % lower RMSE for regression and no gain for classification (docs/recommend.md).
        """
        from autometa.data import load_dataset

        dataset = data if y is None and target is None and _is_dataset(data) else None
        if dataset is None:
            dataset = load_dataset(data, y, target=target, task=task)
        return self._answer(
            TaskSummary.of(dataset),
            lambda: _quiet_metafeatures(dataset),
            model=model,
            metric=metric,
            k=k,
            exclude_self=exclude_self,
            default_margin=default_margin,
            race=race,
            sample=lambda: _race_sample(dataset),  # taken only when racing
        )

    def recommend_summary(
        self,
        summary: TaskSummary,
        metafeatures: Mapping[str, float | None] | Callable[[], Mapping[str, float | None]],
        *,
        model: str = "lightgbm",
        metric: str | None = None,
        k: int = 5,
        exclude_self: bool = False,
        default_margin: float | None = None,
        race: int = 0,
        sample: tuple[pd.DataFrame, pd.Series] | None = None,
    ) -> RecommendationResult:
        """:meth:`recommend` for a dataset given by its summary and its meta-features (all
        of :func:`~autometa.metafeatures.compute_metafeatures`' keys), or a function that
        computes them (called while the meta-learner loads): e.g. the CLI's helper
        process, which gets them from the process that read the file. A race needs the
        dataset's :func:`~autometa.metafeatures.landmarking_sample` as ``sample``."""
        compute = metafeatures if callable(metafeatures) else lambda: metafeatures
        if race and sample is None:
            raise MetaModelError("a race needs the dataset's landmarking sample")
        return self._answer(
            summary,
            compute,
            model=model,
            metric=metric,
            k=k,
            exclude_self=exclude_self,
            default_margin=default_margin,
            race=race,
            sample=lambda: sample,
        )

    def _answer(
        self,
        summary: TaskSummary,
        compute: Callable[[], Mapping[str, float | None]],
        *,
        model: str,
        metric: str | None,
        k: int,
        exclude_self: bool,
        default_margin: float | None,
        race: int = 0,
        sample: Callable[[], tuple[pd.DataFrame, pd.Series] | None] = lambda: None,
    ) -> RecommendationResult:
        from autometa.recommendation.race import check_race

        kind, metric, family = check_request(summary.task_type, model, metric, k, default_margin)
        race = check_race(race)
        excluded = self._groups_of(summary.fingerprint) if exclude_self else frozenset()
        from autometa.metafeatures import slow_note

        note = slow_note(summary.n_features)
        if note is not None and self.progress is not None:
            self.progress(note)
        with ThreadPoolExecutor(1) as pool, _warning_filters_kept():
            # load the learner while describing the data
            first = "lightgbm" if family == "auto" else family
            loading = pool.submit(self.learner, first, kind, metric, excluded)
            metafeatures = as_frame(compute())
            loading.result()
        return self._recommend(
            summary, metafeatures, family, kind, metric, k, excluded, default_margin, race, sample
        )

    def _recommend(
        self,
        summary: TaskSummary,
        metafeatures: pd.Series,
        family: str,
        kind: str,
        metric: str,
        k: int,
        excluded: frozenset[str],
        default_margin: float | None,
        race: int = 0,
        sample: Callable[[], tuple[pd.DataFrame, pd.Series] | None] = lambda: None,
    ) -> RecommendationResult:
        from autometa.spaces import get_space

        notes: list[str] = list(summary.warnings)
        unreadable = {"hist_gradient_boosting"} if summary.wide_categoricals else set()
        if family == "auto":
            family, reason = self._select_family(
                kind, metric, metafeatures, excluded, skip=unreadable
            )
            notes.append(reason + (_notes.left_out_of_auto() if unreadable else ""))
        if family in unreadable:
            notes.append(_notes.wide_categoricals(summary.wide_categoricals))
        stack, meta = self.learner(family, kind, metric, excluded)
        from autometa.meta._fallback import guard_margin, offered_fallback, soft_fallback
        from autometa.meta.stack import SATURATION_FEATURE

        space = get_space(family)
        feats = stack.level2_features(metafeatures)  # the base models run once
        ranking = stack.rank(metafeatures, default_margin=default_margin, features=feats)
        diag = stack.diagnose(metafeatures, n_neighbours=10, ranking=ranking)
        if stack.saturated(metafeatures)[0]:
            notes.append(_notes.saturated(metafeatures[SATURATION_FEATURE], stack.saturation))
        fallback = bool(diag.fallback)
        if fallback:  # towards the library default: at least the cautious margin
            margin = guard_margin(stack.default_margin_, default_margin)
            ranking = stack.rank(metafeatures, default_margin=margin, features=feats)
        ranking = ranking[ranking["config_id"] >= 0]
        configs = self.kb.configurations
        feasible_mask = [
            feasible(family, configs.loc[c, "params"], summary.n_rows) for c in ranking["config_id"]
        ]
        if not all(feasible_mask):
            ranking = ranking[feasible_mask]
            notes.append(_notes.infeasible(summary.n_rows))
        safe: set[int] = set()
        if fallback:
            order = stack.fallback_order(metafeatures)
            ids = [int(c) for c in ranking["config_id"]]
            new = soft_fallback(ids, order)
            safe = set(offered_fallback(ids, order))
            first = next((c for c in order if c != meta.default_config_id), None)
            names = {first: "the robust portfolio's first configuration"}
            names[meta.default_config_id] = "the library default"
            after = [names.get(c, "robust portfolio") for c in new[1:] if c in safe]
            notes.append(_notes.fallback(diag, margin, after, raced=bool(race)))
            ranking = _in_order(ranking, new)
        raced: dict[int, float | None] = {}
        race_sample = sample() if race else None
        if race_sample is not None and len(race_sample[0]) < RACE_MIN_ROWS:
            notes.append(_notes.not_raced(len(race_sample[0]), RACE_MIN_ROWS))
            race_sample = None
        if race_sample is not None:
            ranking, raced = self._race(
                ranking, race, meta.default_config_id, family, summary.task_type, metric,
                race_sample,
            )  # fmt: skip
            notes.append(race_note(raced, race, metric, race_sample, summary.task_type))
        lightgbm_meta = lambda: self.metadata("lightgbm", kind, metric)  # noqa: E731
        mae_per_rmse = lambda: default_ratio(  # noqa: E731
            default_scores(self.metadata("lightgbm", kind, "mae")),
            default_scores(self.metadata("lightgbm", kind, "rmse")),
            diag.neighbours["task_id"],
        )
        anchor = default_estimate(metric, metafeatures, summary.target_std, mae_per_rmse)
        reference = reference_scores(family, meta, lightgbm_meta, anchor)
        picks = ranking.head(k)
        if len(picks) < k:
            notes.append(_notes.fewer_than_asked(len(picks), family, k))
        recs = []
        for rank, row in enumerate(picks.itertuples(index=False), start=1):
            config_id = int(row.config_id)
            config = dict(configs.loc[config_id, "params"])
            recs.append(
                Recommendation(
                    rank=rank,
                    model=family,
                    params=space.estimator_params(config, summary.task_type, random_state=0),
                    predicted_score=predicted_metric(
                        meta, diag.neighbours, config_id, row.score, anchor, reference
                    ),
                    uncertainty=finite(getattr(row, "uncertainty", None)),
                    neighbors=supporting(meta, diag.neighbours, config_id),
                    config=config,
                    source=_source(config_id, meta.default_config_id, safe),
                    race_score=raced.get(config_id),
                )
            )
        return RecommendationResult(
            task=summary.task(),
            model=family,
            metric=metric,
            direction=metric_direction(metric),
            recommendations=recs,
            fallback=fallback,
            warnings=notes,
        )

    def _race(
        self,
        ranking: pd.DataFrame,
        race: int,
        default_id: int | None,
        family: str,
        task_type: str,
        metric: str,
        sample: tuple[pd.DataFrame, pd.Series],
    ) -> tuple[pd.DataFrame, dict[int, float | None]]:
        """``ranking`` with its first ``race`` rows and the default re-ordered by a race."""
        from autometa.recommendation.race import race_scores, run_race

        configs = self.kb.configurations

        def score(raced: list[int]) -> dict[int, float | None]:
            chosen = {c: configs.loc[c, "params"] for c in raced}
            if self.progress is None:
                return race_scores(sample, task_type, family, chosen, metric)
            self.progress(
                f"racing {len(raced)} configuration{'s' * (len(raced) != 1)} on "
                f"{len(sample[0]):,} rows of the data"
            )
            with _fit_bar() as on_fit:
                return race_scores(sample, task_type, family, chosen, metric, on_fit=on_fit)

        ids = [int(c) for c in ranking["config_id"]]
        order, scores = run_race(ids, race, default_id, score, METRIC_DIRECTION[metric])
        return _in_order(ranking, order), scores

    def _groups_of(self, fingerprint: str) -> frozenset[str]:
        tasks = self.kb.tasks
        same = tasks[tasks["fingerprint"] == fingerprint]
        return frozenset(same["group_key"].astype(str))

    def _select_family(
        self,
        kind: str,
        metric: str,
        metafeatures: pd.Series,
        excluded: frozenset[str],
        skip: set[str] | frozenset[str] = frozenset(),
    ) -> tuple[str, str]:
        """Algorithm selection: the family whose best configurations did best on the
        nearest stored tasks (scores normalised per task across all families), among
        those not in ``skip`` (families that cannot read the data)."""
        stack, _ = self.learner("lightgbm", kind, metric, excluded)
        neighbours = stack.novelty_model_.neighbours(metafeatures, 10)
        best: dict[str, pd.Series] = {}
        for family in sorted(set(self.kb.configurations["family"]) - set(skip)):
            try:
                data = self.metadata(family, kind, metric)
            except MetaModelError:
                continue
            raw = pd.DataFrame(data.scores, index=data.task_ids).reindex(neighbours["task_id"])
            best[family] = raw.max(axis=1) if data.direction > 0 else -raw.min(axis=1)
        table = pd.DataFrame(best).dropna()
        if table.empty:
            return "lightgbm", "model auto: too few shared evaluations; chose lightgbm"
        span = (table.max(axis=1) - table.min(axis=1)).replace(0, 1.0)
        relative = table.sub(table.min(axis=1), axis=0).div(span, axis=0).mean()
        family = str(relative.idxmax())
        return family, (
            f"model auto: chose {family} (best on the {len(table)} nearest stored tasks; "
            + ", ".join(f"{f} {v:.2f}" for f, v in relative.sort_values().items())
            + ")"
        )


def _is_dataset(value: Any) -> bool:
    from autometa.data import Dataset

    return isinstance(value, Dataset)


def _in_order(ranking: pd.DataFrame, config_ids: list[int]) -> pd.DataFrame:
    """The rows of ``ranking`` re-ordered by config id (every id once)."""
    return (
        ranking.set_index(ranking["config_id"].astype(int)).loc[config_ids].reset_index(drop=True)
    )


def _race_sample(dataset: Any) -> tuple[pd.DataFrame, pd.Series]:
    from autometa.metafeatures import landmarking_sample

    return landmarking_sample(dataset.X, dataset.y, dataset.task_type)


def _source(config_id: int, default_id: int | None, safe: set[int]) -> str:
    if config_id == default_id:
        return "default"
    return "portfolio" if config_id in safe else "stack"


_DEFAULT: Recommender | None = None


def recommend(data: Any, y: Any = None, **kwargs: Any) -> RecommendationResult:
    """Recommend configurations for a dataset with a process-wide default Recommender.

    ``autometa.recommend(X, y, model="lightgbm", metric=None, k=5, exclude_self=False)``.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Recommender()
    return _DEFAULT.recommend(data, y, **kwargs)


@contextmanager
def _fit_bar() -> Iterator[Callable[[int, int], None]]:
    """A progress bar of the race's fits on stderr (on a terminal, after half a second)."""
    from tqdm.auto import tqdm

    with tqdm(desc="race", unit="fit", leave=False, disable=None, delay=0.5) as bar:

        def on_fit(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield on_fit
