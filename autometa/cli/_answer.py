"""How `autometa recommend` prints its answer: a table that fits 100 columns, the
parameters in a second table (ranks as columns), the similar datasets once, then one
``warning:`` or ``note:`` line each on stderr; ``--wide``: one row per pick, everything."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import click

from autometa.cli._common import echo_table

WIDTH = 100
CHOSEN_AS = {"default": "library default", "portfolio": "robust portfolio (safety)"}


def echo_answer(name: str, result: Any, wide: bool = False) -> None:
    """The answer for dataset ``name`` on stdout (its messages: :func:`echo_messages`)."""
    info = result.task
    click.echo(
        f"{name}: {info['n_rows']} rows, {info['n_features']} features, {info['task_type']}; "
        f"model {result.model}, metric {result.metric} ({result.direction})"
    )
    if wide:
        _picks(result, wide=True)
        return
    near = _similar(result.recommendations)
    if near:
        _wrapped("similar stored datasets: " + ", ".join(f"{n} ({d:.2f})" for n, d in near))
    click.echo()
    raced = _picks(result, wide=False)
    order = "the race's score" if raced else "the meta-learner's choice, not the score column"
    _wrapped(
        f"{result.metric}: predicted for this dataset from its nearest stored tasks; spread: "
        f"how much the meta-models disagree, on a 0-1 scale of normalised scores (not in "
        f"{result.metric} units); order: {order}."
    )
    click.echo()
    _parameters(result.recommendations)


def echo_messages(result: Any) -> None:
    """The answer's warnings, then its notes, one line each on stderr."""
    for message in result.warnings:
        click.echo(f"warning: {message}", err=True)
    for message in getattr(result, "notes", ()):
        click.echo(f"note: {message}", err=True)


def _chosen_as(rec: Any, raced: bool) -> str:
    if rec.source in CHOSEN_AS:
        label = CHOSEN_AS[rec.source]
    elif rec.rank == 1:
        label = "meta-learner's pick"
    else:
        label = "covers the picks above (diversity)"
    return label + (", raced" if raced and rec.race_score is not None else "")


def _similar(recs: list[Any], n: int = 4) -> list[tuple[str, float]]:
    """The stored datasets behind the picks, nearest first, each once."""
    best: dict[str, float] = {}
    for rec in recs:
        for nb in rec.neighbors:
            best[nb.name] = min(best.get(nb.name, float("inf")), float(nb.distance))
    return sorted(best.items(), key=lambda item: item[1])[:n]


def _parameters(recs: list[Any]) -> None:
    """The picks' parameters: one row per parameter, one column per rank, in blocks that
    fit :data:`WIDTH` columns."""
    names = list(dict.fromkeys(k for rec in recs for k in rec.params))
    cells = {(rec.rank, k): _value(rec.params.get(k)) for rec in recs for k in names}
    first = max(len("parameter"), *(len(k) for k in names))
    widths = {r.rank: max(len(str(r.rank)), *(len(cells[r.rank, k]) for k in names)) for r in recs}
    block: list[int] = []
    used = first
    for rec in [*recs, None]:
        if rec is None or (block and used + 2 + widths[rec.rank] > WIDTH):
            rows = [(k, *(cells[r, k] for r in block)) for k in names]
            echo_table(rows, headers=("parameter", *(str(r) for r in block)))
            if rec is not None:
                click.echo()
            block, used = [], first
        if rec is not None:
            block.append(rec.rank)
            used += 2 + widths[rec.rank]


def _spread(value: float | None) -> str | None:
    return None if value is None else f"{value:.3f}"


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "-" if value is None else str(value)


def _picks(result: Any, wide: bool) -> bool:
    """One row per pick: rank, score, spread, race score (when raced), why it was chosen;
    ``wide`` adds its similar datasets and JSON parameters. Returns whether it was raced."""
    raced = any(rec.race_score is not None for rec in result.recommendations)

    def row(rec: Any) -> tuple[Any, ...]:
        spread = rec.uncertainty if wide else _spread(rec.uncertainty)
        race = (rec.race_score,) if raced else ()
        cells = (rec.rank, rec.predicted_score, spread, *race, _chosen_as(rec, raced))
        if not wide:
            return cells
        near = ", ".join(f"{n.name} ({n.distance:.2f})" for n in rec.neighbors)
        return (*cells, near, json.dumps(rec.params, default=str))

    race = (f"race {result.metric}",) if raced else ()
    more = ("similar datasets", "params") if wide else ()
    headers = ("rank", result.metric, "spread", *race, "chosen as", *more)
    echo_table([row(rec) for rec in result.recommendations], headers=headers)
    return raced


def _wrapped(text: str) -> None:
    click.echo(textwrap.fill(text, WIDTH, subsequent_indent="  "))
