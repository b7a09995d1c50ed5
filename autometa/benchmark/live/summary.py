"""The live check's arithmetic: gains over the library defaults, the share of TPE's gain a
method captures, and wins of each method against the others."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: TPE must beat the default by more than this for "gain captured" to be defined: an
#: absolute AUC difference, or a fraction of the default's RMSE.
MIN_GAIN = {"classification": 0.001, "regression": 0.005}
#: The methods the others are measured against (no wins or gain captured of their own).
REFERENCES = ("default", "tpe")


def oriented_gain(score: float, default: float, kind: str) -> float:
    """Improvement over the default in the metric's units: AUC up, or RMSE down."""
    return default - score if kind == "regression" else score - default


def gain_captured(
    score: float, default: float, tpe: float, kind: str, min_gain: float | None = None
) -> float | None:
    """(method - default) / (TPE - default), both oriented so that improvement is positive.

    For RMSE that is (default - method) / (default - TPE). None when TPE's own gain is at
    most ``min_gain`` (absolute for AUC, a fraction of the default's RMSE for regression),
    where the ratio is meaningless. Not clipped: > 1 beats TPE, < 0 is worse than default.
    """
    threshold = MIN_GAIN[kind] if min_gain is None else min_gain
    if kind == "regression":
        threshold *= abs(default)
    denominator = oriented_gain(tpe, default, kind)
    if not denominator > threshold:
        return None
    return oriented_gain(score, default, kind) / denominator


def compare(a: float, b: float, kind: str, tol: float = 1e-9) -> int:
    """+1 if score ``a`` is better than ``b``, -1 if worse, 0 within ``tol`` (relative)."""
    diff = oriented_gain(a, b, kind)
    if abs(diff) <= tol * max(1.0, abs(a), abs(b)):
        return 0
    return 1 if diff > 0 else -1


def summarize(
    rows: Sequence[Mapping[str, Any]], methods: Sequence[str], *, reference: str = "autometa"
) -> dict[str, Any]:
    """Wins of each method against the others and the gain captured of each method.

    ``rows``: one per table, ``{"dataset", "kind", "scores": {method: score or None}}``
    (:meth:`LiveReport.rows` gives them). Returns ``{"methods": those with a score,
    "reference", "wins": {a: {b: {"wins", "ties", "losses", "n"}}}, "gain_captured":
    {method: {"mean", "median", "n", "per_dataset", "tpe_gain_too_small"}}}``.
    """
    present = [m for m in methods if any(r["scores"].get(m) is not None for r in rows)]
    wins = {a: t for a in present if (t := {b: _tally(rows, a, b) for b in present if b != a})}
    captured = {m: _captured(rows, m) for m in present if m not in REFERENCES}
    return {"methods": present, "reference": reference, "wins": wins, "gain_captured": captured}


def _tally(rows: Sequence[Mapping[str, Any]], a: str, b: str) -> dict[str, int]:
    """How often ``a`` beats, ties and loses to ``b`` on the tables where both have a score."""
    tally = {"wins": 0, "ties": 0, "losses": 0, "n": 0}
    for row in rows:
        sa, sb = row["scores"].get(a), row["scores"].get(b)
        if sa is None or sb is None:
            continue
        outcome = compare(sa, sb, row["kind"])
        tally["n"] += 1
        tally[{1: "wins", 0: "ties", -1: "losses"}[outcome]] += 1
    return tally


def _captured(rows: Sequence[Mapping[str, Any]], method: str) -> dict[str, Any]:
    """The gain ``method`` captures per table, its mean and median, and the tables where
    TPE's gain is too small for the ratio."""
    per: dict[str, float] = {}
    undefined: list[str] = []
    for row in rows:
        s = row["scores"]
        if any(s.get(m) is None for m in (method, *REFERENCES)):
            continue
        value = gain_captured(s[method], s["default"], s["tpe"], row["kind"])
        if value is None:
            undefined.append(row["dataset"])
        else:
            per[row["dataset"]] = value
    values = list(per.values())
    return {
        "mean": float(np.mean(values)) if values else None,
        "median": float(np.median(values)) if values else None,
        "n": len(values),
        "per_dataset": per,
        "tpe_gain_too_small": undefined,
    }
