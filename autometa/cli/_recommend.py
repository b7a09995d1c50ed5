"""`autometa recommend`: ranked configurations for a dataset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from autometa.cli._answer import echo_answer, echo_messages
from autometa.cli._common import (
    data_options,
    echo_json,
    format_option,
    handle_errors,
    load_user_dataset,
)
from autometa.cli._store import store_option
from autometa.cli._worker import RecommendWorker, WorkerLost, wanted
from autometa.metrics import METRIC_DIRECTION

METRICS = tuple(METRIC_DIRECTION)
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
    type=click.Choice(METRICS),
    help="Metric to optimise: roc_auc, log_loss, accuracy or balanced_accuracy for "
    "classification (default roc_auc); rmse, mae or r2 for regression (default rmse).",
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
    help="Leave DATA itself out of the knowledge base: stored tasks with the same rows, "
    "or at near-zero meta-feature distance, and their groups (said in a note); for "
    "judging autometa on a dataset it already knows.",
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
@click.option(
    "--wide",
    is_flag=True,
    help="One row per configuration with its parameters and similar datasets (wider than "
    "a terminal); --format json has everything for scripts.",
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
    wide: bool,
    fmt: str,
) -> None:
    """Recommend hyperparameter configurations for DATA, best first.

    DATA is a CSV/TSV, Parquet or ARFF file (gzip allowed), or - for standard input. The
    target is --target, else the last column (said on stderr; refused when that column
    looks like an id or free text).

    The answer is learned from the shipped knowledge base (353 datasets) plus your own
    store. The table shows each pick's predicted score on DATA (in the metric's units),
    the spread of the meta-models' predictions (0-1: how sure they are) and why it was
    chosen, then the parameters of every pick: pass them as they are, e.g.
    lightgbm.LGBMClassifier(**params). The order is the meta-learner's: rank 1 is its
    pick, the next ones cover the cases where it fails, so a later rank may show a
    higher predicted score. When DATA is far from every stored dataset, or the
    meta-models disagree, the library default and robust configurations move up and a
    warning says so.

    --race N cross-validates the first N picks and the library default on DATA itself
    (seconds on a few thousand rows) and orders them by that score.

    Lines on stderr: "warning:" when something may need your attention (a guessed
    target, dropped columns, a fallback), "note:" for information. --format json prints
    {"task", "model", "metric", "direction", "recommendations": [{"rank", "model",
    "params", "predicted_score", "uncertainty", "neighbors", "source", "race_score"}],
    "fallback", "warnings", "notes"}.

    A metric other than the default, or your own store, fits the meta-learner once
    (10-30 s, said on stderr); later calls reuse it.
    """
    _check_store(store_url)
    progress = lambda line: click.echo(f"autometa: {line}", err=True)  # noqa: E731
    options = dict(model=model, metric=metric, k=k, exclude_self=exclude_self)
    options |= dict(default_margin=default_margin, race=race)
    dataset, result = _answer(
        store_url, progress, options, lambda: load_user_dataset(
            data, target, task, encoding, categorical, numeric, echo=False
        ),
    )  # fmt: skip
    if fmt == "json":
        echo_json(result.to_dict())
    else:
        echo_answer(dataset.name, result, wide)
    echo_messages(result)


def _check_store(store_url: str | None) -> None:
    """Refuse a malformed or missing --store before the data is read."""
    if store_url is not None:
        from autometa.store._url import require_existing, resolve_url

        require_existing(resolve_url(store_url))


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
