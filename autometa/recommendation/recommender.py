"""Recommendations: a dataset in, a short ranked and diverse list of configurations out."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError
from autometa.metrics import direction as metric_direction
from autometa.recommendation import notes as _notes
from autometa.recommendation import size, steps
from autometa.recommendation.explain import (
    default_estimate,
    default_ratio,
    default_scores,
    finite,
    predicted_metric,
    reference_scores,
    supporting,
)
from autometa.recommendation.learners import Learners, import_stack
from autometa.recommendation.request import Request, make_request
from autometa.recommendation.results import Recommendation, RecommendationResult, TaskSummary
from autometa.recommendation.steps import Sample

__all__ = ["Recommendation", "RecommendationResult", "Recommender", "TaskSummary", "recommend"]


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


#: Meta-features of the datasets described last, by fingerprint: a model refitted on the same
#: rows (cross-validation, grid searches, scikit-learn's refits) does not describe them again.
_DESCRIBED: OrderedDict[tuple[str, str], dict[str, float | None]] = OrderedDict()
DESCRIBED_KEPT = 64


def quiet_metafeatures(dataset: Any) -> dict[str, float | None]:
    """A dataset's meta-features (as the recommender computes them), warnings silenced;
    the last :data:`DESCRIBED_KEPT` datasets' are kept (they are seeded, so equal rows
    give equal values)."""
    import_stack()
    from autometa.metafeatures import compute_metafeatures

    key = (dataset.fingerprint, dataset.task_type)
    if key in _DESCRIBED:
        _DESCRIBED.move_to_end(key)
        return dict(_DESCRIBED[key])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = compute_metafeatures(dataset.X, dataset.y, dataset.task_type)
    _DESCRIBED[key] = dict(values)
    while len(_DESCRIBED) > DESCRIBED_KEPT:
        _DESCRIBED.popitem(last=False)
    return values


def as_frame(values: Mapping[str, float | None]) -> pd.Series:
    """Meta-features as a float Series (None becomes NaN)."""
    return pd.Series({k: (np.nan if v is None else float(v)) for k, v in values.items()})


class Recommender(Learners):
    """Loads the knowledge base once and answers many datasets (the knowledge base and
    its stacks are :class:`~autometa.recommendation.learners.Learners`').

    Args:
        store: URL of the user's store to use beside the shipped snapshot (default: the
            user store, if it exists).
        shipped: use the shipped snapshot.
        kb: an already loaded knowledge base (Snapshot-like); overrides the two above.
        progress: told (one line each) about slow first-use work, e.g. fitting a stack.
    """

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
        and the library default on a sample of the dataset
        (:mod:`autometa.recommendation.race`) and puts them in the order of that score, at
        the cost of (race + 1) x 3 fits per repeat; what it gains is measured in
        docs/recommend.md.
        """
        dataset = dataset_of(data, y, target=target, task=task)
        return self._answer(
            TaskSummary.of(dataset),
            lambda: quiet_metafeatures(dataset),
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
        sample: Callable[[], Sample | None] = lambda: None,
    ) -> RecommendationResult:
        request = make_request(summary.task_type, model, metric, k, default_margin, race)
        from autometa.metafeatures import slow_note

        note = slow_note(summary.n_features)
        if note is not None and self.progress is not None:
            self.progress(note)
        with ThreadPoolExecutor(1) as pool, _warning_filters_kept():
            # load the learner while describing the data
            first = "lightgbm" if request.family == "auto" else request.family
            loading = pool.submit(self.learner, first, request.kind, request.metric)
            metafeatures = as_frame(compute())
            stack, _ = loading.result()
        if exclude_self:
            request = self._exclude_self(summary, metafeatures, request, stack)
        return self._recommend(summary, metafeatures, request, sample)

    def _exclude_self(
        self, summary: TaskSummary, metafeatures: pd.DataFrame, request: Request, stack: Any
    ) -> Request:
        """The request without the stored tasks of this dataset: its fingerprint's, and
        any at (near) zero meta-feature distance (the same table stored another way)."""
        same = self.groups_of(summary.fingerprint)
        near = steps.near_duplicates(stack, metafeatures)
        twins = sorted(set(near["group_key"].astype(str)) - same)
        note = _notes.excluded(sorted(same), twins, near)
        return replace(request, excluded=same | set(twins), notes=(note,))

    def _recommend(
        self,
        summary: TaskSummary,
        metafeatures: pd.Series,
        request: Request,
        sample: Callable[[], Sample | None] = lambda: None,
    ) -> RecommendationResult:
        """The ranking steps (:mod:`autometa.recommendation.steps`) in order, each adding
        its note to the answer's warnings, then the explained top ``k``."""
        warned: list[str | None] = list(summary.warnings)  # what may need the user's action
        notes: list[str | None] = [_sampled(summary.n_rows)]  # what the steps did
        request, family_notes, family_warnings = self._family(summary, metafeatures, request)
        notes += family_notes
        warned += family_warnings
        stack, meta = self.learner(request.family, request.kind, request.metric, request.excluded)
        configs = self.kb.configurations
        ranking, diag, margin, note = steps.meta_ranking(
            stack, metafeatures, request.default_margin
        )
        notes.append(note)
        ranking, note = steps.drop_infeasible(ranking, request.family, configs, summary.n_rows)
        notes.append(note)
        safe: set[int] = set()
        if margin is not None:
            ranking, note, safe = steps.fallback_order(
                ranking, stack, metafeatures, diag, margin, meta.default_config_id,
                raced=bool(request.race),
            )  # fmt: skip
            warned.append(note)
        ranking, note, raced = steps.race(
            ranking, request, sample() if request.race else None,
            default_id=meta.default_config_id, task_type=summary.task_type, configs=configs,
            progress=self.progress,
        )  # fmt: skip
        warned.append(note)
        picks = ranking.head(request.k)
        if len(picks) < request.k:
            warned.append(_notes.fewer_than_asked(len(picks), request.family, request.k))
        recs = self._explain(summary, metafeatures, request, meta, picks, diag, safe, raced)
        beyond = summary.n_rows > size.largest(meta)  # than this kind's stored tasks
        trend = self.size_trend(request.family) if beyond else None
        recs, note = size.scale_recommendations(recs, trend, summary.n_rows, summary.task_type)
        notes.append(note)
        return RecommendationResult(
            task=summary.task(),
            model=request.family,
            metric=request.metric,
            direction=metric_direction(request.metric),
            recommendations=recs,
            fallback=margin is not None,
            warnings=[n for n in warned if n is not None],
            notes=[*request.notes, *(n for n in notes if n is not None)],
        )

    def _family(
        self, summary: TaskSummary, metafeatures: pd.Series, request: Request
    ) -> tuple[Request, list[str], list[str]]:
        """The request with its family chosen (``model="auto"``), the note on that choice
        and the warning when the family cannot read this data."""
        unreadable = {"hist_gradient_boosting"} if summary.wide_categoricals else set()
        notes, warned = [], []
        if request.family == "auto":
            family, reason = self._select_family(
                request.kind, request.metric, metafeatures, request.excluded, skip=unreadable
            )
            notes.append(reason + (_notes.left_out_of_auto() if unreadable else ""))
            request = replace(request, family=family)
        if request.family in unreadable:
            warned.append(_notes.wide_categoricals(summary.wide_categoricals))
        return request, notes, warned

    def _explain(
        self,
        summary: TaskSummary,
        metafeatures: pd.Series,
        request: Request,
        meta: Any,
        picks: pd.DataFrame,
        diag: Any,
        safe: set[int],
        raced: dict[int, float | None],
    ) -> list[Recommendation]:
        """The picks as recommendations: estimator params, predicted score in the metric's
        units, uncertainty, the stored tasks that support each, and where it came from."""
        from autometa.spaces import get_space

        family, kind, metric = request.family, request.kind, request.metric
        lightgbm_meta = lambda: self.metadata("lightgbm", kind, metric)  # noqa: E731
        mae_per_rmse = lambda: default_ratio(  # noqa: E731
            default_scores(self.metadata("lightgbm", kind, "mae")),
            default_scores(self.metadata("lightgbm", kind, "rmse")),
            diag.neighbours["task_id"],
        )
        anchor = default_estimate(metric, metafeatures, summary.target_std, mae_per_rmse)
        reference = reference_scores(family, meta, lightgbm_meta, anchor)
        space, configs = get_space(family), self.kb.configurations
        recs = []
        for rank, row in enumerate(picks.itertuples(index=False), start=1):
            config_id = int(row.config_id)
            config = dict(configs.loc[config_id, "params"])
            recs.append(
                Recommendation(
                    rank=rank,
                    model=family,
                    params=space.hyperparameters(config, summary.task_type, random_state=0),
                    predicted_score=predicted_metric(
                        meta, diag.neighbours, config_id, row.score, anchor, reference
                    ),
                    uncertainty=finite(getattr(row, "uncertainty", None)),
                    neighbors=supporting(meta, diag.neighbours, config_id),
                    config=config,
                    source=steps.source(config_id, meta.default_config_id, safe),
                    race_score=raced.get(config_id),
                    task_type=summary.task_type,
                )
            )
        return recs

    def _select_family(
        self,
        kind: str,
        metric: str,
        metafeatures: pd.Series,
        excluded: frozenset[str],
        skip: set[str] | frozenset[str] = frozenset(),
    ) -> tuple[str, str]:
        """Algorithm selection (:func:`~autometa.recommendation.steps.select_family`) on the
        nearest stored tasks, among the families not in ``skip`` (those that cannot read
        the data)."""
        stack, _ = self.learner("lightgbm", kind, metric, excluded)
        neighbours = stack.novelty_model_.neighbours(metafeatures, 10)
        from autometa.spaces import has_space

        stored = set(self.kb.configurations["family"]) - set(skip)
        families = sorted(f for f in stored if has_space(f))  # not openml:... families
        return steps.select_family(
            neighbours, families, lambda family: self.metadata(family, kind, metric)
        )


def dataset_of(
    data: Any, y: Any = None, *, target: str | None = None, task: str | None = None
) -> Any:
    """``data`` itself when it is a loaded Dataset (and nothing else is asked), else
    :func:`~autometa.data.load_dataset` of the arguments."""
    from autometa.data import Dataset, load_dataset

    if isinstance(data, Dataset) and y is None and target is None and task is None:
        return data
    return load_dataset(data, y, target=target, task=task)


def _sampled(n_rows: int) -> str | None:
    """The note that the meta-features came from a row sample (a large table), else None."""
    from autometa.metafeatures import sampling

    limit = sampling.DESCRIBE_MAX_ROWS
    return _notes.sampled(n_rows, limit) if n_rows > limit else None


def _race_sample(dataset: Any) -> tuple[pd.DataFrame, pd.Series]:
    from autometa.metafeatures import landmarking_sample

    return landmarking_sample(dataset.X, dataset.y, dataset.task_type)


_DEFAULT: Recommender | None = None


def recommend(data: Any, y: Any = None, **kwargs: Any) -> RecommendationResult:
    """Recommend configurations for a dataset with a process-wide default Recommender.

    ``autometa.recommend(X, y, model="lightgbm", metric=None, k=5, exclude_self=False)``.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Recommender()
    return _DEFAULT.recommend(data, y, **kwargs)
