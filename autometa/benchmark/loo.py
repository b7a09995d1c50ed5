"""Leave-group-out benchmark of configuration recommenders on the knowledge base.

For each fold of a GroupKFold over ``group_key`` (every group is held out exactly once;
``n_splits=None`` holds out one group at a time), each method is fitted on the other
groups' tasks and ranks the configurations for the held-out tasks, scored against their
stored evaluations: normalised regret of the top pick and of the best of the top five,
and whether the top pick is worse than the library default.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from autometa.benchmark.baselines import Ranker, default_rankers
from autometa.benchmark.noise import in_task_reference, paired_check
from autometa.exceptions import MetaModelError
from autometa.meta._base import pick_regrets
from autometa.meta.data import MetaData, build_metadata
from autometa.metrics import TASK_KINDS
from autometa.store.base import KnowledgeBase

#: The safety target: the stack's top pick worse than the library default by more than 2
#: standard errors of the task's fold scores on at most this % of tasks.
TARGET_PCT_WORSE_BEYOND_NOISE = 2.0


def outer_folds(
    data: MetaData, n_splits: int | None, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train ids, held-out ids) per fold; ``None`` = leave one group out."""
    groups, ids = data.groups(), data.task_ids
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise MetaModelError("the benchmark needs at least 2 task groups")
    if n_splits is None or n_splits >= n_groups:
        splitter: Any = LeaveOneGroupOut()
    else:
        splitter = GroupKFold(n_splits, shuffle=True, random_state=seed)
    return [(ids[a], ids[b]) for a, b in splitter.split(ids, groups=groups)]


def score_rankings(
    data: MetaData, task_ids: np.ndarray, scores: np.ndarray, top: int = 5
) -> pd.DataFrame:
    """Regret of the top pick and of the best of the ``top`` first, per held-out task.

    Only configurations evaluated on the task are ranked; NaN scores rank last.
    """
    r = pick_regrets(scores, data.normalised[data.rows(task_ids)], data.default_position, top)
    return pd.DataFrame(
        {
            "task_id": np.asarray(task_ids, dtype=int),
            "top1_config_id": data.config_ids[r["first"][:, 0]].astype(int),
            "regret_top1": r["top1"],
            f"regret_top{top}": r["topk"],
            "worse_than_default": r["worse"],
        }
    )


def run_loo(
    data: MetaData,
    rankers: Sequence[Callable[[], Ranker]] | None = None,
    *,
    n_splits: int | None = 10,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Per-task results of every method (rows: task × method) with fit seconds per fold."""
    factories = list(rankers) if rankers is not None else default_rankers()
    results = []
    for fold, (train, test) in enumerate(outer_folds(data, n_splits, seed)):
        if set(data.groups(train)) & set(data.groups(test)):
            raise MetaModelError("a held-out group leaked into training")  # never expected
        mf = data.metafeatures.loc[test]
        for factory in factories:
            start = time.perf_counter()
            ranker = factory().fit(data, train)
            seconds = time.perf_counter() - start
            scores = ranker.scores(mf)
            named = scores if isinstance(scores, dict) else {ranker.name: scores}
            for name, matrix in named.items():
                part = score_rankings(data, test, matrix)
                results.append(part.assign(method=name, fold=fold, fit_seconds=seconds))
        if progress is not None:
            progress(f"fold {fold}: {len(test)} held-out tasks")
    return pd.concat(results, ignore_index=True)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean regrets and % worse than default per method, in the order methods appeared."""
    order = list(dict.fromkeys(results["method"]))
    g = results.groupby("method", sort=False)
    summary = pd.DataFrame(
        {
            "regret_top1": g["regret_top1"].mean(),
            "regret_top5": g["regret_top5"].mean(),
            "pct_worse_than_default": 100.0 * g["worse_than_default"].mean(),
            "fit_seconds": g.apply(
                lambda f: f.drop_duplicates("fold")["fit_seconds"].mean(), include_groups=False
            ),
        }
    ).loc[order]
    if "default" in summary.index:
        summary.insert(
            1, "top1_vs_default", summary["regret_top1"] / summary.at["default", "regret_top1"]
        )
    return summary


@dataclass
class LooReport:
    """Benchmark outcome per task kind: summary tables, per-task rows and data facts."""

    family: str
    n_splits: int | None
    summaries: dict[str, pd.DataFrame] = field(default_factory=dict)
    results: dict[str, pd.DataFrame] = field(default_factory=dict)
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_markdown(self) -> str:
        folds = (
            "leave-one-group-out"
            if self.n_splits is None
            else f"GroupKFold({self.n_splits}) over groups"
        )
        lines = []
        for kind, summary in self.summaries.items():
            f = self.facts[kind]
            lines += [
                f"### {self.family}, {kind} ({f['metric']})",
                "",
                f"{f['tasks']} tasks in {f['groups']} groups, {f['configs']} configurations "
                f"(median {f['configs_per_task']} evaluated per task), {folds}.",
                *_fact_lines(f),
                "",
                "| method | top-1 regret | vs default | best-of-top-5 regret "
                "| % worse than default | fit s/fold |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for name, r in summary.iterrows():
                ratio = r.get("top1_vs_default", np.nan)
                lines.append(
                    f"| {name} | {r['regret_top1']:.4f} | {ratio:.2f} | {r['regret_top5']:.4f} | "
                    f"{r['pct_worse_than_default']:.1f} | {r['fit_seconds']:.2f} |"
                )
            lines.append("")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: facts and summary table per task kind."""
        return {
            "family": self.family,
            "n_splits": self.n_splits,
            "task_kinds": {
                kind: {
                    "facts": self.facts[kind],
                    "summary": json.loads(s.to_json(orient="index")),
                }
                for kind, s in self.summaries.items()
            },
        }


def benchmark_loo(
    kb: KnowledgeBase,
    family: str = "lightgbm",
    task_kinds: Sequence[str] = tuple(TASK_KINDS),
    *,
    metric: str | None = None,
    n_splits: int | None = 10,
    seed: int = 0,
    rankers: Sequence[Callable[[], Ranker]] | None = None,
    progress: Callable[[str], None] | None = None,
    time_full_fit: bool = True,
    unscored: str | None = None,
) -> LooReport:
    """The ``autometa benchmark loo`` entry point: :func:`run_loo` per task kind.

    ``metric`` applies to every kind (default: roc_auc / rmse). A kind without usable
    evaluations is skipped and noted in ``facts`` (``skipped``). ``time_full_fit`` also
    times one default stack fitted on every task (``stack_fit_seconds``) and records the
    in-task noise floor (:func:`in_task_reference`). ``unscored`` (a regex on task names,
    e.g. ``"^synthetic/"``) keeps matching tasks in training but leaves them out of every
    reported number.
    """
    report = LooReport(family=family, n_splits=n_splits)
    for kind in task_kinds:
        try:
            data = build_metadata(kb, family, kind, metric)
        except MetaModelError as exc:
            report.facts[kind] = {"skipped": str(exc)}
            continue
        scored = scored_task_ids(data, unscored)
        per_task = np.isfinite(data.normalised[data.rows(scored)]).sum(axis=1)
        report.facts[kind] = {
            "metric": data.metric,
            "tasks": len(scored),
            "groups": len(np.unique(data.groups(scored))),
            "configs": len(data.config_ids),
            "configs_per_task": int(np.median(per_task)),
        }
        if len(scored) < len(data.task_ids):
            report.facts[kind]["unscored_training_tasks"] = len(data.task_ids) - len(scored)
        if time_full_fit:
            from autometa.meta.stack import StackedMetaLearner

            start = time.perf_counter()
            StackedMetaLearner(seed=seed).fit(data)
            report.facts[kind]["stack_fit_seconds"] = round(time.perf_counter() - start, 2)
            floor = in_task_reference(kb, data, scored)
            report.facts[kind] |= {f"noise_floor_{k}": round(v, 4) for k, v in floor.items()}
        results = run_loo(data, rankers, n_splits=n_splits, seed=seed, progress=progress)
        results = results[results["task_id"].isin(scored)].reset_index(drop=True)
        check = paired_check(kb, data, results, "stack")
        report.facts[kind] |= {f"stack_vs_default_{k}": round(v, 4) for k, v in check.items()}
        if "pct_worse_beyond_noise" in check:  # none without fold scores
            met = target_met(check["pct_worse_beyond_noise"])
            report.facts[kind]["stack_vs_default_target_met"] = met
        report.facts[kind] |= {f"guard_{k}": v for k, v in guard_effect(results).items()}
        report.results[kind] = results
        report.summaries[kind] = summarise(results)
    return report


def guard_effect(results: pd.DataFrame, name: str = "stack") -> dict[str, float]:
    """Tasks whose served top pick (``<name>_guarded``) differs from the stack's, and the
    mean top-1 regret and share worse than the default of both picks there."""
    plain = results[results["method"] == name].set_index("task_id")
    served = results[results["method"] == f"{name}_guarded"].set_index("task_id")
    common = plain.index.intersection(served.index)
    if common.empty:
        return {}
    a, b = plain.loc[common], served.loc[common]
    changed = a["top1_config_id"].to_numpy() != b["top1_config_id"].to_numpy()
    out = {"changed_tasks": int(changed.sum())}
    if changed.any():
        for key, frame in (("stack", a[changed]), ("served", b[changed])):
            out[f"{key}_regret"] = round(float(frame["regret_top1"].mean()), 4)
            out[f"{key}_pct_worse"] = round(100 * float(frame["worse_than_default"].mean()), 1)
    return out


def scored_task_ids(data: MetaData, unscored: str | None) -> np.ndarray:
    """Task ids the report scores: all, less names matching ``unscored``."""
    if not unscored:
        return data.task_ids
    try:
        pattern = re.compile(unscored)
    except re.error as exc:
        raise MetaModelError(f"unscored: not a regular expression {unscored!r} ({exc})") from exc
    names = data.tasks["name"].astype(str)
    return data.task_ids[~names.str.contains(pattern).to_numpy()]


def target_met(pct_beyond_noise: float) -> bool:
    """Whether a share of tasks worse than the default beyond noise meets the target."""
    return bool(pct_beyond_noise <= TARGET_PCT_WORSE_BEYOND_NOISE)


def target_line(pct_beyond_noise: float) -> str:
    """The safety target's line: met or missed, with the measured share."""
    met = target_met(pct_beyond_noise)
    return (
        f"Target: top pick worse than the default by more than 2 standard errors on at most "
        f"{TARGET_PCT_WORSE_BEYOND_NOISE:g} % of tasks: {pct_beyond_noise:.1f} %, "
        + ("met." if met else "missed.")
    )


def _fact_lines(facts: dict[str, Any]) -> list[str]:
    lines = []
    if facts.get("unscored_training_tasks"):
        lines.append(
            f"{facts['unscored_training_tasks']} more tasks (names matching the unscored "
            "pattern) train every fold's methods but are not scored."
        )
    if "stack_fit_seconds" in facts:
        lines.append(f"Fitting the stack on all tasks: {facts['stack_fit_seconds']:.1f} s.")
    if "noise_floor_in_task_selection" in facts:
        n = facts.get("noise_floor_folds", 3)
        lines.append(
            f"Noise floor (choose by {n - 1:.0f} of the task's own {n:.0f} folds, score on "
            "the other): "
            f"regret {facts['noise_floor_in_task_selection']:.3f} (best of its top five "
            f"{facts.get('noise_floor_in_task_selection_top5', float('nan')):.3f}) vs the "
            f"default's {facts.get('noise_floor_default', float('nan')):.3f} on the same "
            "footing; "
            "the in-task pick scores below the default on "
            f"{facts.get('noise_floor_pct_worse_than_default', float('nan')):.1f} % of "
            "(task, fold) pairs."
        )
    if "stack_vs_default_pct_worse" in facts:
        lines.append(
            "Stack's top pick against the default, paired over the task's folds: worse on "
            f"{facts['stack_vs_default_pct_worse']:.1f} % of tasks, worse by more than 2 "
            f"standard errors on {facts['stack_vs_default_pct_worse_beyond_noise']:.1f} %, "
            "by more than 0.1 % of the default's score on "
            f"{facts['stack_vs_default_pct_worse_beyond_tolerance']:.1f} %, "
            f"better by more than 2 on {facts['stack_vs_default_pct_better_beyond_noise']:.1f} "
            "%; median relative deficit where worse "
            f"{100 * facts['stack_vs_default_median_relative_deficit_of_worse']:.2f} %."
        )
        lines.append(target_line(facts["stack_vs_default_pct_worse_beyond_noise"]))
    if facts.get("guard_changed_tasks"):
        lines.append(
            "The out-of-distribution guard changed the top pick on "
            f"{facts['guard_changed_tasks']} tasks; there the stack's pick has regret "
            f"{facts['guard_stack_regret']:.3f} (worse than the default on "
            f"{facts['guard_stack_pct_worse']:.1f} %) and the served one "
            f"{facts['guard_served_regret']:.3f} ({facts['guard_served_pct_worse']:.1f} %)."
        )
    return lines


def too_few_tasks(
    kb: KnowledgeBase, family: str, kind: str, metric: str | None, n_splits: int | None, seed: int
) -> str | None:
    """Why leave-group-out cannot run on ``kind``: too few tasks or groups for every fold to
    train on 2 tasks; None when that is not why it failed."""
    try:
        data = build_metadata(kb, family, kind, metric)
    except MetaModelError:
        return None
    if _smallest_training_set(data, n_splits, seed) >= 2:
        return None
    return (
        f"too few {kind} tasks for leave-group-out with {family}: {len(data.task_ids)} tasks "
        f"in {len(set(data.groups()))} groups have {data.metric} scores, and every nested "
        "fold must train on at least 2 tasks of other groups (with the default --splits, "
        "4 groups of one task are enough)"
    )


def _smallest_training_set(data: MetaData, n_splits: int | None, seed: int) -> int:
    """The fewest tasks a meta-model trains on in the benchmark's nested group folds: its
    outer folds (and all tasks, for the full stack fit), each split again by the stack."""
    from autometa.meta._level2 import group_folds
    from autometa.meta.stack import StackedMetaLearner

    if len(set(data.groups())) < 2:
        return 0  # no fold at all
    inner = StackedMetaLearner(seed=seed).n_splits
    sizes = []
    for train in [data.task_ids, *(train for train, _ in outer_folds(data, n_splits, seed))]:
        groups = data.groups(train)
        if len(set(groups)) < 2:
            return 0  # the stack cannot split this training set at all
        sizes += [len(part) for part, _ in group_folds(train, groups, inner, seed)]
    return min(sizes)
