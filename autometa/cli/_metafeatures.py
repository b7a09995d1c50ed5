"""`autometa metafeatures`: describe a dataset with OpenML-style data qualities."""

from __future__ import annotations

import click

from autometa.cli._common import (
    data_options,
    echo_json,
    echo_table,
    format_option,
    handle_errors,
    load_user_dataset,
)


@click.command("metafeatures")
@click.argument("data", type=click.Path(dir_okay=False))
@data_options
@format_option
@click.option(
    "--group",
    "groups",
    multiple=True,
    type=click.Choice(["simple", "statistical", "info_theory", "landmarking", "derived"]),
    help="Compute only these groups (repeatable; default all).",
)
@handle_errors
def metafeatures_cmd(
    data: str,
    target: str | None,
    task: str | None,
    encoding: str,
    categorical: tuple[str, ...],
    numeric: tuple[str, ...],
    fmt: str,
    groups: tuple[str, ...],
) -> None:
    """Compute OpenML-style meta-features (data qualities) of DATA.

    DATA is a CSV/TSV (delimiter sniffed), Parquet or ARFF file, optionally
    gzip-compressed, or - to read it from standard input. JSON output is a flat
    object {quality: value or null} plus "fingerprint" and "task_type".
    """
    from autometa.metafeatures import compute_metafeatures, sampling, slow_note
    from autometa.recommendation.notes import sampled

    dataset = load_user_dataset(data, target, task, encoding, categorical, numeric)
    note = slow_note(dataset.n_features) if not groups or "landmarking" in groups else None
    if note is not None:
        click.echo(f"autometa: {note}", err=True)
    if dataset.n_rows > sampling.DESCRIBE_MAX_ROWS:
        click.echo(f"note: {sampled(dataset.n_rows, sampling.DESCRIBE_MAX_ROWS)}", err=True)
    values = compute_metafeatures(
        dataset.X, dataset.y, dataset.task_type, groups=list(groups) or None
    )
    if fmt == "json":
        echo_json({**values, "fingerprint": dataset.fingerprint, "task_type": dataset.task_type})
        return
    click.echo(
        f"{dataset.name}: {dataset.n_rows} rows, {dataset.n_features} features, "
        f"task {dataset.task_type}, target {dataset.target!r}"
    )
    click.echo(f"fingerprint {dataset.fingerprint}")
    echo_table([(k, v) for k, v in values.items()], headers=("quality", "value"))
