"""In-task race: the top recommendations and the library default cross-validated on the
dataset itself, so the one that does best there is served first.

The meta-learner ranks configurations from other datasets; a race checks its first few on
this one. Each candidate is fitted as the knowledge base's evaluations fit it
(:func:`autometa.harvest.evaluate.evaluate_config`: the family's estimator and
preprocessing) on the landmarkers' sample of at most 2,000 rows
(:func:`~autometa.metafeatures.landmarking_sample`) with the LightGBM landmarkers' seeded
3-fold splits, repeated on small samples (about 3,000 rows in all, at most
:data:`REPEATS` times). Each candidate's race score is its mean over those folds, in the
request's metric.

What it gains out of sample is measured by ``benchmarks/bench_race.py holdout``
(docs/meta.md, "In-task race").
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import numpy as np
import pandas as pd

#: Most repeats of the race's 3-fold CV (the landmarkers repeat up to 5 on small samples).
REPEATS = 2
#: Fewest rows a race cross-validates (3 folds of at least 10 test rows); below, no race.
MIN_ROWS = 30


def race_folds(
    y: pd.Series, task_type: str, seed: int = 0, repeats: int | None = REPEATS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The race's (train, test) splits of the sample: the LightGBM landmarkers' repeated
    3-fold splits (seeded apart from the stored evaluations' CV seeds), at most
    ``repeats`` of them."""
    from autometa.metafeatures.landmarking import _gbm_fold_sets

    regression = task_type == "regression"
    target = np.asarray(y, dtype=float) if regression else np.asarray(y.cat.codes, dtype=int)
    sets = _gbm_fold_sets(target, seed, regression)[:repeats]
    return [split for folds in sets for split in folds]


def fold_scores(
    sample: tuple[pd.DataFrame, pd.Series],
    task_type: str,
    family: str,
    configs: Mapping[int, Mapping[str, Any]],
    metric: str,
    *,
    seed: int = 0,
    repeats: int | None = REPEATS,
    n_jobs: int | None = None,
    on_fit: Callable[[int, int], None] | None = None,
    folds: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    fit: Callable[..., Any] | None = None,
    errors: list[str] | None = None,
) -> dict[int, list[float | None]]:
    """Each configuration's ``metric`` on each of the race's folds of ``sample`` (a
    :func:`~autometa.metafeatures.landmarking_sample`: nominal columns and a class target
    as categoricals); None where the fit failed or the metric is undefined. Fits run in
    ``n_jobs`` threads (default: one per CPU), one thread each; ``on_fit(done, total)`` is
    called (in this thread) before the first fit and as each fit ends.

    ``tune`` scores each of its trials with this same function (its ``folds``, its ``fit``,
    e.g. early stopping); ``errors`` collects why fits failed."""
    from autometa.harvest.evaluate import evaluate_config

    X, y = sample
    splits = list(folds) if folds is not None else race_folds(y, task_type, seed, repeats)
    jobs = [(cid, i) for cid in configs for i in range(len(splits))]

    def run(job: tuple[int, int]) -> float | None:
        cid, i = job
        (result,) = evaluate_config(
            X, y, task_type, family, configs[cid], seed=seed, folds=[splits[i]], fit=fit
        )
        value = result.scores.get(metric) if result.status == "ok" else None
        if result.status != "ok" and errors is not None:
            errors.append(result.message or result.status)
        return None if value is None or not np.isfinite(value) else float(value)

    workers = max(1, min(n_jobs or os.cpu_count() or 1, len(jobs)))
    if on_fit is not None:
        on_fit(0, len(jobs))
    with warnings.catch_warnings(), ThreadPoolExecutor(workers) as pool:
        warnings.simplefilter("ignore")  # e.g. scikit-learn's metrics on a tiny fold
        futures = [pool.submit(run, job) for job in jobs]
        for done, _ in enumerate(as_completed(futures), 1):
            if on_fit is not None:
                on_fit(done, len(jobs))
        values = [f.result() for f in futures]
    out: dict[int, list[float | None]] = {cid: [] for cid in configs}
    for (cid, _), value in zip(jobs, values, strict=True):
        out[cid].append(value)
    return out


def race_scores(
    sample: tuple[pd.DataFrame, pd.Series],
    task_type: str,
    family: str,
    configs: Mapping[int, Mapping[str, Any]],
    metric: str,
    **options: Any,
) -> dict[int, float | None]:
    """Each configuration's mean :func:`fold_scores` (None if any fold has none)."""
    per = fold_scores(sample, task_type, family, configs, metric, **options)
    return {c: None if None in v else float(np.mean(v)) for c, v in per.items()}  # type: ignore[arg-type]


def race_order(ids: Sequence[int], scores: Mapping[int, float | None], direction: int) -> list[int]:
    """``ids`` (the meta-learner's order) sorted by race score, best first; ties keep the
    meta-learner's order and candidates without a score come last."""

    def key(pos: int) -> tuple[int, float, int]:
        value = scores.get(ids[pos])
        return (value is None, 0.0 if value is None else -direction * value, pos)

    return [ids[pos] for pos in sorted(range(len(ids)), key=key)]


def race_candidates(ids: Sequence[int], race: int, default_id: int | None) -> list[int]:
    """The first ``race`` of ``ids`` and the library default (when ranked at all)."""
    raced = list(ids[:race])
    if default_id is not None and default_id in ids and default_id not in raced:
        raced.append(default_id)
    return raced


def run_race(
    ids: Sequence[int],
    race: int,
    default_id: int | None,
    score: Callable[[list[int]], dict[int, float | None]],
    direction: int,
) -> tuple[list[int], dict[int, float | None]]:
    """The whole ranking ``ids`` with its raced candidates (:func:`race_candidates`)
    re-ordered by ``score`` in their places at the top, and the race scores."""
    raced = race_candidates(ids, race, default_id)
    scores = score(raced) if raced else {}
    return race_order(raced, scores, direction) + [c for c in ids if c not in raced], scores


def race_note(
    scores: Mapping[int, float | None],
    race: int,
    metric: str,
    sample: tuple[pd.DataFrame, pd.Series],
    task_type: str,
) -> str:
    """The answer's line about a race that ran."""
    n_folds = len(race_folds(sample[1], task_type))
    failed = sum(v is None for v in scores.values())
    return (
        f"raced {len(scores)} configuration{'s' * (len(scores) != 1)} (the top "
        f"{min(race, len(scores))}"
        + (" and the library default" if len(scores) > race else "")
        + f") on "
        f"{len(sample[0]):,} rows, {n_folds} cross-validation folds: ranked by their mean "
        f"{metric} there (race_score)"
        + (f"; {failed} failed to fit and rank last" if failed else "")
    )
