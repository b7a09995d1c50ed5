"""`autometa harvest`: produce prior evaluations for the store."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from autometa.cli._common import UserError, echo_json, format_option, handle_errors
from autometa.cli._store import store_option

if TYPE_CHECKING:
    from autometa.harvest import HarvestSummary

#: Configurations of a family named in --families without ``=COUNT``.
DEFAULT_DESIGN_SIZE = 32
_INDEX_COLUMNS = frozenset({"name", "path", "target"})


@click.group("harvest")
def harvest_group() -> None:
    """Produce prior evaluations P(config, task) and record them in a store."""


def _parse_families(ctx: click.Context, param: click.Parameter, spec: str) -> dict[str, int]:
    """``FAMILY[=COUNT],...`` as {family: count}; a bare FAMILY means 32 configurations."""
    families: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, count = (x.strip() for x in part.partition("="))
        if name in families:
            raise click.BadParameter(f"{name} is listed twice", ctx, param)
        try:
            families[name] = int(count) if sep else DEFAULT_DESIGN_SIZE
        except ValueError:
            raise click.BadParameter(f"{part!r}: expected FAMILY=COUNT", ctx, param) from None
        if families[name] < 1:
            raise click.BadParameter(f"{part!r}: COUNT must be at least 1", ctx, param)
    if not families:
        raise click.BadParameter("no family given", ctx, param)
    return families


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of seconds", ctx, param)
    return value


@harvest_group.command("local")
@click.argument("sources", nargs=-1, required=True, type=click.Path(dir_okay=False))
@store_option
@click.option(
    "--families",
    default="lightgbm=128,random_forest=32,extra_trees=32,hist_gradient_boosting=32,linear=32",
    show_default=True,
    callback=_parse_families,
    help="Model families and how many configurations of each (the default + a "
    f"space-filling sample); a FAMILY without =COUNT gets {DEFAULT_DESIGN_SIZE}.",
)
@click.option(
    "--folds",
    default=3,
    show_default=True,
    type=click.IntRange(2, 20),
    help="Cross-validation folds per repeat (stratified for classification).",
)
@click.option(
    "--repeats",
    default=1,
    show_default=True,
    type=click.IntRange(1, 20),
    help="Repeated cross-validation: repeat r splits with SEED + r and stores its folds as "
    "r * FOLDS + k. More repeats average out fold noise; a store with fewer repeats only "
    "gets the missing ones.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Design and CV seed.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Local worker processes (joblib); ignored with --scheduler.",
)
@click.option("--scheduler", help="Dask scheduler address (tcp://HOST:PORT) to run on.")
@click.option(
    "--timeout",
    default=300.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    help="Seconds one fit may take before it is recorded as a timeout.",
)
@click.option(
    "--max-units",
    type=click.IntRange(min=1),
    help="Stop after this many configurations (for trials).",
)
@click.option("--target", help="Target column when SOURCES are data files.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@format_option
@click.pass_context
@handle_errors
def harvest_local_cmd(
    ctx: click.Context,
    sources: tuple[str, ...],
    store_url: str | None,
    families: dict[str, int],
    folds: int,
    repeats: int,
    seed: int,
    workers: int,
    scheduler: str | None,
    timeout: float,
    max_units: int | None,
    target: str | None,
    quiet: bool,
    fmt: str,
) -> None:
    """Cross-validate a design of configurations on every dataset of SOURCES.

    SOURCES is one or more data files (CSV/TSV/Parquet/ARFF) sharing --target, or one
    index CSV listing many: one row per dataset with the columns name, path (relative to
    the index) and target, and optionally task_type, group (datasets of one group are
    held out together when autometa is benchmarked), source and source_id. A CSV whose
    header has two of name, path, target is taken for an index (except name + target
    without path when --target is given). Each finished configuration is written at
    once; interrupt it any time and run the same command again to resume. What you
    harvest joins the shipped knowledge base in later recommendations.
    """
    from autometa.harvest import HarvestSummary, harvest_local
    from autometa.store import open_store

    summary = HarvestSummary()
    try:
        corpus = _corpus(sources, target)
        with open_store(store_url) as store:
            harvest_local(
                store,
                corpus,
                families,
                n_folds=folds,
                repeats=repeats,
                seed=seed,
                workers=workers,
                scheduler=scheduler,
                timeout=timeout,
                max_units=max_units,
                progress=not quiet,
                summary=summary,
            )
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: {summary.units_run} configurations ({summary.rows_written} rows) "
            "of this run are saved; run the same command again to resume",
            err=True,
        )
        ctx.exit(130)
    _report(summary, fmt)


def _report(summary: HarvestSummary, fmt: str) -> None:
    """Print what a harvest did: its summary as JSON, or one line and a warning per
    skipped task."""
    if fmt == "json":
        echo_json(summary.as_dict())
        return
    elsewhere = summary.units_claimed_elsewhere
    click.echo(
        f"{summary.tasks} tasks, {summary.units_run} configurations evaluated "
        f"({summary.units_skipped} already in the store), {summary.rows_written} rows written, "
        f"{summary.errors} failed folds, {summary.timeouts} timeouts, "
        f"{summary.seconds:.0f} s ({summary.evaluations_per_minute:.1f} fold evaluations/min)"
        + (
            f"; {elsewhere} configurations left to another harvest running on this store "
            "(run the same command again once it ends to pick up any it leaves)"
            if elsewhere
            else ""
        )
    )
    for name, reason in summary.failed_tasks.items():
        click.echo(f"warning: task {name} skipped: {reason}", err=True)


def _corpus(sources: tuple[str, ...], target: str | None) -> list[Any]:
    """The corpus of SOURCES: one corpus index, or data files (never a mix of the two)."""
    from autometa.harvest import entries_from_files, read_corpus

    indexes = [s for s in sources if _is_index(Path(s), target)]
    if not indexes:
        return entries_from_files(sources, target=target)
    if len(sources) > 1:
        raise UserError(
            f"{indexes[0]} is a corpus index: harvest it alone, not together with other SOURCES"
        )
    return read_corpus(indexes[0])


def _is_index(path: Path, target: str | None) -> bool:
    """Whether SOURCE ``path`` is meant as a corpus index: a .csv whose header has two of
    name, path, target (read_corpus then names any missing one). Header name + target
    without path is a data file when --target is given, as a dataset may have those."""
    if path.suffix.lower() != ".csv":
        return False
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            header = next(csv.reader(file), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    columns = _INDEX_COLUMNS.intersection(c.strip() for c in header)
    return len(columns) >= 2 and ("path" in columns or target is None)


def _register_openml() -> None:
    from autometa.cli._openml import harvest_openml_cmd

    harvest_group.add_command(harvest_openml_cmd)


_register_openml()
