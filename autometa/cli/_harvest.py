"""`autometa harvest`: produce prior evaluations for the store."""

from __future__ import annotations

from pathlib import Path

import click

from autometa.cli._common import UserError, echo_json, format_option, handle_errors
from autometa.cli._store import store_option


@click.group("harvest")
def harvest_group() -> None:
    """Produce prior evaluations P(config, task) and record them in a store."""


def _parse_families(spec: str) -> dict[str, int]:
    families: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, count = part.partition("=")
        try:
            families[name] = int(count) if count else 32
        except ValueError:
            raise UserError(f"bad --families entry {part!r}: expected FAMILY=COUNT") from None
        if families[name] < 1:
            raise UserError(f"bad --families entry {part!r}: COUNT must be >= 1")
    if not families:
        raise UserError("--families is empty")
    return families


@harvest_group.command("local")
@click.argument("sources", nargs=-1, required=True, type=click.Path(dir_okay=False))
@store_option
@click.option(
    "--families",
    default="lightgbm=128,random_forest=32,extra_trees=32,hist_gradient_boosting=32,linear=32",
    show_default=True,
    help="Model families and how many configurations of each (the default + a "
    "space-filling sample).",
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
    type=float,
    help="Seconds one fit may take before it is recorded as a timeout.",
)
@click.option("--max-units", type=int, help="Stop after this many configurations (for trials).")
@click.option("--target", help="Target column when SOURCES are data files.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@format_option
@handle_errors
def harvest_local_cmd(
    sources: tuple[str, ...],
    store_url: str | None,
    families: str,
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

    SOURCES is either one corpus index CSV (columns name, path, target and optional
    task_type, group, source, source_id: see scripts/build_corpus.py) or one or more
    data files (CSV/TSV/Parquet/ARFF) sharing --target. Each finished configuration is
    written at once; interrupt it any time and run the same command again to resume.
    """
    from autometa.harvest import entries_from_files, harvest_local, read_corpus
    from autometa.store import open_store

    first = Path(sources[0])
    if len(sources) == 1 and first.suffix == ".csv" and _is_index(first):
        corpus = read_corpus(first)
    else:
        corpus = entries_from_files(sources, target=target)
    with open_store(store_url) as store:
        summary = harvest_local(
            store,
            corpus,
            _parse_families(families),
            n_folds=folds,
            repeats=repeats,
            seed=seed,
            workers=workers,
            scheduler=scheduler,
            timeout=timeout if timeout > 0 else None,
            max_units=max_units,
            progress=not quiet,
        )
    report = summary.as_dict()
    if fmt == "json":
        echo_json(report)
        return
    click.echo(
        f"{summary.tasks} tasks, {summary.units_run} configurations evaluated "
        f"({summary.units_skipped} already in the store), {summary.rows_written} rows written, "
        f"{summary.errors} failed folds, {summary.timeouts} timeouts, "
        f"{summary.seconds:.0f} s ({summary.evaluations_per_minute:.1f} fold evaluations/min)"
    )
    for name, reason in summary.failed_tasks.items():
        click.echo(f"warning: task {name} skipped: {reason}", err=True)


def _is_index(path: Path) -> bool:
    """A corpus index is a CSV whose header has name, path and target columns."""
    try:
        header = path.open(encoding="utf-8").readline()
    except (OSError, UnicodeDecodeError):
        return False
    columns = {c.strip() for c in header.strip().split(",")}
    return {"name", "path", "target"} <= columns
