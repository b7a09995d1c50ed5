"""`autometa benchmark`: how good the meta-learner's picks are, measured on the store."""

from __future__ import annotations

import click

from autometa.cli._common import echo_json, format_option, handle_errors
from autometa.cli._store import store_option


@click.group("benchmark")
def benchmark_group() -> None:
    """Evaluate the meta-learner against baselines on the knowledge base."""


@benchmark_group.command("loo")
@click.option("--model", "family", default="lightgbm", show_default=True, help="Model family.")
@click.option(
    "--task-kind",
    "kinds",
    multiple=True,
    type=click.Choice(["classification", "regression"]),
    help="Task kinds to evaluate (repeatable; default both).",
)
@click.option("--metric", help="Metric (default: roc_auc / rmse).")
@click.option(
    "--splits",
    default=10,
    show_default=True,
    type=int,
    help="Group folds (0 = leave-one-group-out: slowest, most faithful).",
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
    auto-sklearn-style kNN, each base meta-model and the stack.
    """
    from tqdm.auto import tqdm

    from autometa.meta import benchmark_loo
    from autometa.store.knowledge import knowledge_base

    kb = knowledge_base(store_url, shipped=not no_shipped)
    with tqdm(desc="folds", unit="fold", disable=fmt == "json") as bar:
        report = benchmark_loo(
            kb,
            family,
            kinds or ("classification", "regression"),
            metric=metric,
            n_splits=splits or None,
            seed=seed,
            unscored=unscored or None,
            progress=lambda message: (bar.set_postfix_str(message[-40:]), bar.update(1)),
        )
    if fmt == "json":
        echo_json(report.to_dict())
    else:
        click.echo(report.to_markdown())
