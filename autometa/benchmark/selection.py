"""Leave-group-out benchmark of algorithm selection (``recommend --model auto``).

In each outer group fold every family's stack is fitted on the training tasks; for each
held-out task the recommender's own selection rule
(:func:`autometa.recommendation.steps.select_family` on the LightGBM stack's nearest
training tasks) picks a family, whose served top pick is scored. Regret is normalised per
task over the stored configurations of **every** family (0 = the task's best stored
configuration of any family, 1 = its worst), against always serving LightGBM's pick, each
other family's, and the best family's pick on that task (an oracle that knows the task).
Only tasks with stored scores in every compared family are scored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from autometa.benchmark.baselines import StackRanker
from autometa.benchmark.loo import outer_folds, score_rankings, scored_task_ids
from autometa.exceptions import MetaModelError
from autometa.meta.data import MetaData, build_metadata
from autometa.store.base import KnowledgeBase

#: Neighbours the selection rule looks at (as the recommender does).
NEIGHBOURS = 10


@dataclass
class SelectionReport:
    """Per-task picks and regrets (``results``) and their summary for one task kind."""

    kind: str
    metric: str
    families: tuple[str, ...]
    results: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: tasks in every family that trained the folds but matched ``unscored``
    unscored_training_tasks: int = 0

    def summary(self) -> pd.DataFrame:
        """Mean regret, and % of tasks worse / better than always-LightGBM, per method."""
        r = self.results
        methods = ["auto", *self.families, "best_family"]
        base = r["regret_lightgbm"]
        return pd.DataFrame(
            {
                "regret_top1": [r[f"regret_{m}"].mean() for m in methods],
                "pct_worse_than_lightgbm": [
                    100.0 * (r[f"regret_{m}"] > base + 1e-12).mean() for m in methods
                ],
                "pct_better_than_lightgbm": [
                    100.0 * (r[f"regret_{m}"] < base - 1e-12).mean() for m in methods
                ],
            },
            index=pd.Index(methods, name="method"),
        )

    def to_markdown(self) -> str:
        chosen = self.results["chosen"].value_counts()
        lines = [
            f"### algorithm selection, {self.kind} ({self.metric})",
            "",
            f"{len(self.results)} tasks scored in every family; regret normalised over all "
            f"families' stored configurations. auto chose "
            + ", ".join(f"{f} {n}" for f, n in chosen.items())
            + "."
            + (
                f" {self.unscored_training_tasks} more tasks (names matching the unscored "
                "pattern) train every fold but are not scored."
                if self.unscored_training_tasks
                else ""
            ),
            "",
            "| method | top-1 regret | % worse than lightgbm | % better than lightgbm |",
            "|---|---:|---:|---:|",
        ]
        for name, row in self.summary().iterrows():
            lines.append(
                f"| {name} | {row['regret_top1']:.4f} | {row['pct_worse_than_lightgbm']:.1f} "
                f"| {row['pct_better_than_lightgbm']:.1f} |"
            )
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "metric": self.metric,
            "families": list(self.families),
            "tasks": len(self.results),
            "unscored_training_tasks": self.unscored_training_tasks,
            "chosen": {str(k): int(v) for k, v in self.results["chosen"].value_counts().items()},
            "summary": self.summary().round(6).to_dict(orient="index"),
        }


def benchmark_selection(
    kb: KnowledgeBase,
    kind: str,
    metric: str | None = None,
    *,
    families: Sequence[str] | None = None,
    n_splits: int | None = 10,
    seed: int = 0,
    unscored: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SelectionReport:
    """Score ``--model auto`` by leave-group-out on ``kind`` tasks (see the module).
    ``unscored`` (a regex on task names) keeps matching tasks in training but out of the
    scores, as in :func:`~autometa.benchmark.loo.benchmark_loo`."""
    datas = _family_data(kb, kind, metric, families)
    lightgbm = datas["lightgbm"]
    every = _common_tasks(datas)
    common = np.intersect1d(every, scored_task_ids(lightgbm, unscored))
    results = []
    for fold, (train, test) in enumerate(outer_folds(lightgbm, n_splits, seed)):
        test = np.intersect1d(test, common)
        if len(test) == 0:
            continue
        picks = {f: _served_top1(d, train, test, seed) for f, d in datas.items()}
        neighbours = picks["lightgbm"][1]
        chosen = [_select(neighbours(t), datas) for t in test]
        results.append(_scored(datas, test, {f: p[0] for f, p in picks.items()}, chosen))
        if progress is not None:
            progress(f"fold {fold}: {len(test)} held-out tasks")
    frame = pd.concat(results, ignore_index=True)
    report = SelectionReport(kind, lightgbm.metric, tuple(datas), frame)
    report.unscored_training_tasks = len(every) - len(common)
    return report


def _family_data(
    kb: KnowledgeBase, kind: str, metric: str | None, families: Sequence[str] | None
) -> dict[str, MetaData]:
    """The MetaData of each family with evaluations on ``kind`` (LightGBM first)."""
    from autometa.spaces import has_space

    stored = {f for f in kb.configurations["family"] if has_space(f)}  # not openml:...
    names = list(families or sorted(stored))
    if "lightgbm" not in names:
        raise MetaModelError("algorithm selection is scored against lightgbm: include it")
    names.remove("lightgbm")
    datas: dict[str, MetaData] = {"lightgbm": build_metadata(kb, "lightgbm", kind, metric)}
    for name in names:
        try:
            datas[name] = build_metadata(kb, name, kind, metric)
        except MetaModelError:
            continue
    if len(datas) < 2:
        raise MetaModelError(f"algorithm selection needs two families with {kind} evaluations")
    return datas


def _common_tasks(datas: dict[str, MetaData]) -> np.ndarray:
    ids = [set(d.task_ids.tolist()) for d in datas.values()]
    return np.array(sorted(set.intersection(*ids)), dtype=int)


def _served_top1(
    data: MetaData, train: np.ndarray, test: np.ndarray, seed: int
) -> tuple[dict[int, int], Callable[[int], pd.DataFrame]]:
    """The served top pick (``stack_guarded``) of a family's stack fitted on the training
    tasks it has, per held-out task, and the stack's nearest training tasks of a task."""
    ranker = StackRanker(seed=seed).fit(data, np.intersect1d(train, data.task_ids))
    scores = ranker.scores(data.metafeatures.reindex(test))["stack_guarded"]
    picks = score_rankings(data, test, scores)  # evaluated configurations only, NaN last
    top = dict(zip(picks["task_id"].tolist(), picks["top1_config_id"].tolist(), strict=True))
    novelty = ranker.model_.novelty_model_

    def neighbours(task_id: int) -> pd.DataFrame:
        return novelty.neighbours(data.metafeatures.loc[task_id], NEIGHBOURS)

    return top, neighbours


def _select(neighbours: pd.DataFrame, datas: dict[str, MetaData]) -> str:
    from autometa.recommendation.steps import select_family

    family, _ = select_family(neighbours, sorted(datas), datas.__getitem__)
    return family


def _scored(
    datas: dict[str, MetaData],
    test: np.ndarray,
    top: dict[str, dict[int, int]],
    chosen: list[str],
) -> pd.DataFrame:
    """Per held-out task: the chosen family and the regret of each family's pick, of the
    chosen one (``auto``) and of the best one (``best_family``)."""
    rows = []
    for task_id, family in zip(test, chosen, strict=True):
        signed = {f: d.direction * d.scores[d.rows([task_id])[0]] for f, d in datas.items()}
        every = np.concatenate([v[np.isfinite(v)] for v in signed.values()])
        best, worst = every.max(), every.min()
        span = best - worst if best > worst else 1.0
        regret = {}
        for f, d in datas.items():
            column = int(np.flatnonzero(d.config_ids == top[f][int(task_id)])[0])
            regret[f] = float((best - signed[f][column]) / span)
        row = {"task_id": int(task_id), "chosen": family}
        row |= {f"regret_{f}": v for f, v in regret.items()}
        row |= {"regret_auto": regret[family], "regret_best_family": min(regret.values())}
        rows.append(row)
    return pd.DataFrame(rows)
