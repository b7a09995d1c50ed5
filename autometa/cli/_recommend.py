"""`autometa recommend`: ranked configurations for a dataset."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from autometa.cli._common import (
    data_options,
    echo_json,
    echo_table,
    format_option,
    handle_errors,
    load_user_dataset,
)
from autometa.cli._store import store_option
from autometa.cli._worker import RecommendWorker, WorkerLost, wanted

FAMILY_CHOICES = (
    "lightgbm",
    "random_forest",
    "extra_trees",
    "hist_gradient_boosting",
    "linear",
    "auto",
)


@click.command("recommend")
@click.argument("data", type=click.Path(dir_okay=False))
@data_options
@click.option(
    "--model",
    type=click.Choice(FAMILY_CHOICES),
    default="lightgbm",
    show_default=True,
    help="Model family; auto picks the family as well (algorithm selection).",
)
@click.option(
    "--metric",
    help="Metric to optimise (default: roc_auc for classification, rmse for regression).",
)
@click.option(
    "--top",
    "k",
    default=5,
    show_default=True,
    type=click.IntRange(1, 50),
    help="How many configurations to return, best first.",
)
@store_option
@click.option(
    "--exclude-self",
    is_flag=True,
    help="Ignore stored tasks with this dataset's fingerprint (and their group).",
)
@click.option(
    "--default-margin",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Favour the library default: raise its predicted normalised score by this much "
    "before ranking (default: the margin the meta-learner learned). Larger values serve "
    "the default more often: fewer top picks worse than it, at a higher mean regret; "
    "0.2 is the cautious setting (the measured trade-off: docs/meta.md).",
)
@click.option(
    "--race",
    type=click.IntRange(0, 20),
    default=0,
    show_default=True,
    help="Cross-validate the first N configurations and the library default on a sample "
    "of DATA (at most 2,000 rows, 3 folds, repeated on small tables) and rank them by that "
    "score: (N + 1) x 3 fits per repeat, seconds on a few thousand rows, longer for many "
    "classes. What it gains, measured out of sample: docs/recommend.md. 0 = the "
    "meta-learner's ranking alone.",
)
@format_option
@handle_errors
def recommend_cmd(
    data: str,
    target: str | None,
    task: str | None,
    encoding: str,
    categorical: tuple[str, ...],
    numeric: tuple[str, ...],
    model: str,
    metric: str | None,
    k: int,
    store_url: str | None,
    exclude_self: bool,
    default_margin: float | None,
    race: int,
    fmt: str,
) -> None:
    """Recommend hyperparameter configurations for DATA, best first.

    DATA is a CSV/TSV, Parquet or ARFF file (gzip allowed), or - for standard input.

    Learned from the shipped knowledge base plus your own store. Each recommendation's
    params are accepted as-is by the estimator, e.g. lightgbm.LGBMClassifier(**params).
    predicted_score is the expected metric on this dataset, in its units; uncertainty is
    the spread of the meta-models' scores; neighbors are similar stored datasets on which
    the configuration did well. fallback is true when the dataset is far from the
    knowledge base or the meta-models disagree: the ranking then leans towards the safe
    configurations (the library default gets a margin of at least 0.2, and the robust
    portfolio's first configuration and the default come right after the top pick), and
    a warning says why. On a saturated classification task (LightGBM's landmarker ROC
    AUC at least 0.98, where configurations score alike) the library default comes first.

    With --race N, the first N configurations and the library default are
    cross-validated on DATA itself and served in the order of that score (race_score).

    JSON output: {"task", "model", "metric", "direction", "recommendations": [{"rank",
    "model", "params", "predicted_score", "uncertainty", "neighbors", "source",
    "race_score"}], "fallback", "warnings"}. The first use on a knowledge base fits the
    meta-learner (announced on stderr) and caches it.

    On Linux the command forks a helper process that imports and loads the meta-learner
    while this one reads DATA; AUTOMETA_WORKER=0 keeps it to one process.
    """
    progress = lambda line: click.echo(f"autometa: {line}", err=True)  # noqa: E731
    options = dict(
        model=model,
        metric=metric,
        k=k,
        exclude_self=exclude_self,
        default_margin=default_margin,
        race=race,
    )
    dataset, result = _answer(
        store_url, progress, options, lambda: load_user_dataset(
            data, target, task, encoding, categorical, numeric
        ),
    )  # fmt: skip
    if fmt == "json":
        echo_json(result.to_dict())
    else:
        _echo_answer(dataset, result)


def _answer(
    store_url: str | None,
    progress: Callable[[str], None],
    options: dict[str, Any],
    load: Callable[[], Any],
) -> tuple[Any, Any]:
    """The dataset ``load`` reads and its recommendations: from the helper process when
    one started (it loads the meta-learner meanwhile), else in this process."""
    worker = _start_worker(store_url, progress)
    recommender = None
    if worker is None:
        from autometa.recommendation.recommender import Recommender

        recommender = Recommender(store=store_url, progress=progress)
        recommender.prefetch()  # imports and the knowledge base load while the file is read
    try:
        dataset = load()
        result = None
        if worker is not None:
            try:
                result = worker.recommend(dataset, **options)
            except WorkerLost as exc:
                progress(f"{exc}; continuing in this process")
    finally:
        if worker is not None:
            worker.close()
    if result is None:
        from autometa.recommendation.recommender import Recommender

        recommender = recommender or Recommender(store=store_url, progress=progress)
        result = recommender.recommend(dataset, **options)
    return dataset, result


def _echo_answer(dataset: Any, result: Any) -> None:
    """The answer as a header line and a table on stdout, its warnings on stderr."""
    info = result.task
    click.echo(
        f"{dataset.name}: {info['n_rows']} rows, {info['n_features']} features, "
        f"{info['task_type']}; model {result.model}, metric {result.metric} "
        f"({result.direction})"
    )
    raced = any(rec.race_score is not None for rec in result.recommendations)
    rows = [
        (
            rec.rank,
            rec.predicted_score,
            rec.uncertainty,
            *((rec.race_score,) if raced else ()),
            ", ".join(n.name for n in rec.neighbors[:2]),
            json.dumps(rec.params, default=str),
        )
        for rec in result.recommendations
    ]
    headers = ("rank", "score", "±", *(("race",) if raced else ()), "similar datasets", "params")
    echo_table(rows, headers=headers)
    for message in result.warnings:
        click.echo(f"warning: {message}", err=True)


def _start_worker(store: str | None, progress: Callable[[str], None]) -> RecommendWorker | None:
    """The helper process that loads the meta-learner while this one reads the data (a
    fresh console-script process on Linux; see ``_worker``), or None."""
    root = click.get_current_context().find_root()
    if not wanted(bool((root.obj or {}).get("fresh_process"))):
        return None
    try:
        return RecommendWorker(store, progress)
    except OSError:  # cannot fork (e.g. a process limit): work in-process
        return None
