"""`autometa harvest openml`: grow the store from OpenML's evaluations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from autometa.cli._common import UserError, echo_json, format_option, handle_errors
from autometa.cli._store import store_option

if TYPE_CHECKING:
    from autometa.harvest.openml import OpenMLSummary


def _suite(ctx: click.Context, param: click.Parameter, value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


@click.command("openml")
@click.option(
    "--flow",
    "flows",
    multiple=True,
    help="OpenML flow id, or flow name (every version of it); repeat for several. "
    "Default: every flow that ran on the tasks. Without --task/--suite: the flows' runs on "
    "every task OpenML lists (bound it with --max-evaluations).",
)
@click.option("--task", "tasks", multiple=True, type=click.IntRange(min=1), help="OpenML task id.")
@click.option(
    "--suite", callback=_suite, help="OpenML suite id or alias (OpenML-CC18 = 99, CTR23 = 353)."
)
@click.option(
    "--function",
    help="OpenML evaluation function: area_under_roc_curve, predictive_accuracy, "
    "root_mean_squared_error or mean_absolute_error. Default: area_under_roc_curve for "
    "classification tasks, root_mean_squared_error for regression tasks.",
)
@click.option(
    "--max-evaluations", type=click.IntRange(min=1), help="Stop after this many OpenML runs."
)
@click.option(
    "--download-data",
    is_flag=True,
    help="Download each new task's data and describe it as a local harvest does (autometa's "
    "fingerprint and meta-features: recommend --exclude-self and local harvests recognise "
    "the table); default: OpenML's qualities, no data downloaded.",
)
@click.option("--server", help="OpenML XML API (default: openml-python's configured server).")
@click.option("--apikey", help="OpenML API key (default: openml-python's configuration).")
@store_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@format_option
@click.pass_context
@handle_errors
def harvest_openml_cmd(
    ctx: click.Context,
    flows: tuple[str, ...],
    tasks: tuple[int, ...],
    suite: int | str | None,
    function: str | None,
    max_evaluations: int | None,
    download_data: bool,
    server: str | None,
    apikey: str | None,
    store_url: str | None,
    quiet: bool,
    fmt: str,
) -> None:
    """Harvest OpenML's evaluations of flows on tasks into the store.

    Tasks come with OpenML's data qualities as meta-features; setups of scikit-learn
    RandomForest, ExtraTrees, HistGradientBoosting, LogisticRegression/Ridge and LightGBM
    flows become configurations of autometa's families; other flows' setups become
    configurations of families of their own, openml:<class> (docs/openml.md). Each page of
    evaluations is saved at once: interrupt it any time and run the same command again.
    """
    from autometa.harvest.openml import check_function, harvest_openml
    from autometa.store import open_store

    check_function(function)
    if not tasks and suite is None and not flows:
        raise UserError("nothing to harvest: give --task, --suite and/or --flow")
    try:
        with open_store(store_url) as store:
            summary = harvest_openml(
                store,
                tasks=tasks,
                suite=suite,
                flows=flows,
                function=function,
                max_evaluations=max_evaluations,
                download_data=download_data,
                server=server,
                apikey=apikey,
                progress=not quiet and fmt != "json",
            )
    except KeyboardInterrupt:
        click.echo(
            "interrupted: the pages stored so far are kept; run the same command again to resume",
            err=True,
        )
        ctx.exit(130)
    _report(summary, fmt)
    if summary.errors:
        ctx.exit(1)


def _report(summary: OpenMLSummary, fmt: str) -> None:
    if fmt == "json":
        echo_json(summary.as_dict())
    else:
        unmapped = sum(summary.unmapped_flows.values())
        click.echo(
            f"{summary.tasks_added} tasks added ({summary.tasks_stored} already stored, "
            f"{summary.tasks_skipped} of other task types skipped), "
            f"{summary.runs} OpenML runs read, {summary.evaluations_added} evaluations added "
            f"({summary.evaluations_known} already stored or repeated runs), "
            f"{summary.setups_translated} "
            f"setups translated ({summary.setups_clipped} clipped into the space, "
            f"{summary.setups_skipped} skipped), {summary.setups_own_family} setups of "
            f"{len(summary.unmapped_flows)} flows without a family stored as openml: families "
            f"({unmapped} runs), "
            f"{summary.requests_retried} requests retried"
        )
    for line in summary.errors:
        click.echo(f"error: {line}", err=True)
