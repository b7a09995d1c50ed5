"""Shared pieces of the CV-repeat analyses (repeat_check.py, split_coupling.py): one
repeat's view of a knowledge base, and the trained-on x scored-on tables."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from autometa.benchmark.loo import outer_folds, score_rankings
from autometa.meta.data import MetaData
from autometa.meta.stack import StackedMetaLearner
from autometa.store.snapshot import Snapshot

FOLDS_PER_REPEAT = 3


def repeat_view(kb: Snapshot, repeat: int | None) -> Snapshot:
    """The knowledge base with only one CV repeat's folds (``None``: every fold)."""
    ev = kb.evaluations
    if repeat is not None:
        ev = ev[ev["fold"] // FOLDS_PER_REPEAT == repeat].reset_index(drop=True)
    return Snapshot(kb.manifest, kb.tasks, kb.metafeatures, kb.configurations, ev)


def fit_and_score(
    views: Mapping[str, MetaData], base: MetaData, keep: np.ndarray | None = None
) -> pd.DataFrame:
    """Per task of every outer fold of ``base`` (GroupKFold(10), seed 0, as bench_loo.py):
    the default stack fitted on each view's scores of the fold's training tasks (only those
    in ``keep``, when given) and scored on every view (columns ``trained``, ``stick``)."""
    parts = []
    for fold, (train, test) in enumerate(outer_folds(base, 10, 0)):
        if keep is not None:
            train, test = np.intersect1d(train, keep), np.intersect1d(test, keep)
        mf = base.metafeatures.loc[test]
        for trained, data in views.items():
            key = -StackedMetaLearner().fit(data, train).predict_batch(mf)["order"]
            for stick, sdata in views.items():
                part = score_rankings(sdata, test, key)
                parts.append(part.assign(trained=trained, stick=stick))
        print(f"{base.task_kind} fold {fold}", file=sys.stderr, flush=True)
    return pd.concat(parts)


def print_grid(res: pd.DataFrame) -> None:
    """Mean top-1, best-of-top-5 and % worse than the default per (trained, stick)."""
    print("| trained on | scored on | top-1 | best-of-top-5 | % worse than default |")
    print("|---|---|---:|---:|---:|")
    for (trained, stick), g in res.groupby(["trained", "stick"], sort=False):
        print(
            f"| {trained} | {stick} | {g['regret_top1'].mean():.4f} | "
            f"{g['regret_top5'].mean():.4f} | {100 * g['worse_than_default'].mean():.1f} |"
        )


def print_paired(res: pd.DataFrame, base: str, others: Sequence[str]) -> None:
    """Per stick, each training variant in ``others`` minus ``base``, paired over tasks."""
    print(f"\nPaired against training on {base}, mean +- SE:\n")
    for stick, g in res.groupby("stick", sort=False):
        wide = g.pivot_table(
            index="task_id", columns="trained", values=["regret_top1", "regret_top5"]
        )
        for other in others:
            for col in ("regret_top1", "regret_top5"):
                d = wide[(col, other)] - wide[(col, base)]
                se = d.std(ddof=1) / np.sqrt(len(d))
                print(
                    f"- scored on {stick}, trained on {other}, {col}: {d.mean():+.4f} +- {se:.4f}"
                )
