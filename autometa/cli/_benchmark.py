"""`autometa benchmark`: how good the meta-learner's picks are, measured on the store."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from autometa.cli._common import UserError, echo_json, format_option, handle_errors
from autometa.cli._store import store_option
from autometa.metrics import CLASSIFICATION_METRICS, KIND_METRICS, REGRESSION_METRICS

if TYPE_CHECKING:
    from autometa.store.base import KnowledgeBase


@click.group("benchmark")
def benchmark_group() -> None:
    """Evaluate the meta-learner against baselines on the knowledge base."""


def _check_splits(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value == 1:
        raise click.BadParameter("use 0 (leave-one-group-out) or at least 2", ctx, param)
    return value


def _check_regex(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise click.BadParameter(f"not a regular expression {value!r} ({exc})", ctx, param) from exc
    return value


@benchmark_group.command("loo")
@click.option(
    "--model",
    "family",
    default="lightgbm",
    show_default=True,
    help="Model family, or 'auto' to score algorithm selection (recommend --model auto) "
    "against always-LightGBM, each family and each task's best family.",
)
@click.option(
    "--task-kind",
    "kinds",
    multiple=True,
    type=click.Choice(["classification", "regression"]),
    help="Task kinds to evaluate (repeatable; default both).",
)
@click.option(
    "--metric",
    type=click.Choice(CLASSIFICATION_METRICS + REGRESSION_METRICS),
    help="Metric (default: roc_auc / rmse); without --task-kind, the kind it is recorded for.",
)
@click.option(
    "--splits",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    callback=_check_splits,
    help="Group folds, at least 2 (0 = leave-one-group-out: slowest, most faithful).",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed of the shuffled group folds.",
)
@store_option
@click.option("--no-shipped", is_flag=True, help="Leave the shipped snapshot out.")
@click.option(
    "--unscored",
    default="^synthetic/",
    show_default=True,
    callback=_check_regex,
    help="Regex on task names: matching tasks train every fold but are not scored "
    "('' scores every task).",
)
@format_option
@handle_errors
def loo_cmd(
    family: str,
    kinds: tuple[str, ...],
    metric: str | None,
    splits: int,
    seed: int,
    store_url: str | None,
    no_shipped: bool,
    unscored: str,
    fmt: str,
) -> None:
    """Leave-group-out: train on all other task groups, score picks on the held-out tasks.

    Reports mean normalised regret (0 = the task's best evaluated configuration, 1 = its
    worst) at top-1 and best-of-top-5, and how often top-1 is worse than the library
    default, for the default, the single best configuration, FLAML-style 1-NN,
    auto-sklearn-style kNN, each base meta-model and the stack, and the safety target:
    the stack's top pick worse than the default by more than 2 standard errors of the
    task's fold scores on at most 2 % of tasks.
    """
    from autometa.spaces import get_space
    from autometa.store.knowledge import knowledge_base

    if family != "auto":
        get_space(family)  # an unknown family fails before the knowledge base is loaded
    kinds = _kinds(kinds, metric)
    kb = knowledge_base(store_url, shipped=not no_shipped)
    if family == "auto":
        _selection(kb, kinds, metric, splits or None, seed, unscored, fmt)
        return
    report = _loo_report(kb, family, kinds, metric, splits or None, seed, unscored, fmt)
    skipped = {k: f["skipped"] for k, f in report.facts.items() if "skipped" in f}
    if not report.summaries:
        raise UserError("nothing to benchmark: " + "; ".join(skipped.values()))
    for kind, reason in skipped.items():
        click.echo(f"warning: {kind} not benchmarked: {reason}", err=True)
    if fmt == "json":
        echo_json(report.to_dict())
    else:
        click.echo(report.to_markdown())


def _loo_report(
    kb: KnowledgeBase,
    family: str,
    kinds: tuple[str, ...],
    metric: str | None,
    splits: int | None,
    seed: int,
    unscored: str,
    fmt: str,
) -> Any:
    """The leave-group-out report of each kind, run one kind at a time so that a kind with
    too few tasks is named (in its ``facts``) instead of failing the others."""
    from autometa.benchmark import LooReport, benchmark_loo
    from autometa.benchmark.loo import too_few_tasks
    from autometa.exceptions import MetaModelError

    report = LooReport(family=family, n_splits=splits or None)
    with _fold_bar(fmt) as progress:
        for kind in kinds:  # one at a time, so a kind with too few tasks is named
            try:
                part = benchmark_loo(
                    kb,
                    family,
                    (kind,),
                    metric=metric,
                    n_splits=splits,
                    seed=seed,
                    unscored=unscored or None,
                    progress=progress,
                )
            except MetaModelError:
                reason = too_few_tasks(kb, family, kind, metric, splits, seed)
                if reason is None:
                    raise
                report.facts[kind] = {"skipped": reason}
                continue
            report.summaries |= part.summaries
            report.results |= part.results
            report.facts |= part.facts
    return report


def _selection(
    kb: KnowledgeBase,
    kinds: tuple[str, ...],
    metric: str | None,
    splits: int | None,
    seed: int,
    unscored: str,
    fmt: str,
) -> None:
    """``benchmark loo --model auto``: the algorithm-selection table of each kind."""
    from autometa.benchmark.selection import benchmark_selection

    reports = []
    with _fold_bar(fmt) as progress:
        for kind in kinds:
            report = benchmark_selection(
                kb,
                kind,
                metric,
                n_splits=splits,
                seed=seed,
                unscored=unscored or None,
                progress=progress,
            )
            reports.append(report)
    if fmt == "json":
        echo_json({"algorithm_selection": [r.to_dict() for r in reports]})
    else:
        click.echo("\n".join(r.to_markdown() for r in reports))


@contextmanager
def _fold_bar(fmt: str) -> Iterator[Callable[[str], None]]:
    """A progress bar of folds on stderr (none for JSON output): yields its callback."""
    from tqdm.auto import tqdm

    with tqdm(desc="folds", unit="fold", disable=fmt == "json") as bar:

        def progress(message: str) -> None:
            bar.set_postfix_str(message[-40:])
            bar.update(1)

        yield progress


def _kinds(kinds: tuple[str, ...], metric: str | None) -> tuple[str, ...]:
    """The task kinds to benchmark: those asked for (default: both, or the one ``metric`` is
    recorded for); UserError when ``metric`` is not recorded for an asked kind."""
    if metric is None:
        return kinds or tuple(KIND_METRICS)
    if not kinds:
        return tuple(k for k, metrics in KIND_METRICS.items() if metric in metrics)
    for kind in kinds:
        if metric not in KIND_METRICS[kind]:
            raise UserError(
                f"metric {metric!r} is not recorded for {kind} tasks; valid: "
                + ", ".join(KIND_METRICS[kind])
            )
    return kinds
