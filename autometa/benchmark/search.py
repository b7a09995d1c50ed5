"""Leave-group-out benchmark of search strategies on the stored evaluations.

Each held-out task's stored evaluations are a tabular benchmark: a proposed configuration is
mapped to the task's nearest evaluated configuration in the space's encoding (each
dimension scaled by the evaluated configurations' spread; the stored ones map to
themselves) and scores that configuration's normalised mean (1 = the task's best, 0 = its
worst). The stack and the search's prior are fitted on the other groups' tasks only.
Regret after n trials is 1 minus the best score seen in the first n.

Methods: ``random`` (Optuna's RandomSampler), ``tpe`` (cold TPESampler), ``tpe_enqueued``
(TPE with the stack's top five enqueued), ``ws_cmaes`` (CMA-ES warm-started from the five
nearest training tasks' evaluations, :mod:`autometa.optuna.wscmaes`) and ``meta``
(:class:`~autometa.optuna.MetaSampler`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autometa.benchmark.loo import outer_folds, scored_task_ids
from autometa.meta.data import MetaData, build_metadata
from autometa.metrics import TASK_KINDS
from autometa.optuna.prior import TransferPrior, nearest_row, transfer_prior
from autometa.store.base import KnowledgeBase

METHODS = ("random", "tpe", "tpe_enqueued", "ws_cmaes", "meta")
BUDGETS = (1, 3, 5, 10, 20, 50)
#: How many of the stack's first configurations ``tpe_enqueued`` queues.
ENQUEUED = 5


def benchmark_search(
    kb: KnowledgeBase,
    kind: str,
    metric: str | None = None,
    *,
    family: str = "lightgbm",
    methods: Sequence[str] = METHODS,
    n_trials: int = 50,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_splits: int | None = 10,
    seed: int = 0,
    unscored: str | None = "^synthetic/",
    sampler_options: Mapping[str, Any] | None = None,
    n_jobs: int = 1,
    checkpoint: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Regret curves: one row per (task, method, seed), columns ``regret@n`` for n in
    1..``n_trials`` (see the module). ``sampler_options`` go to MetaSampler. With a
    ``checkpoint`` file (JSON lines), each finished fold is appended to it and a rerun
    skips the folds it holds. MetaSampler's searches do not depend on the seed while they
    stay within its candidates (no fallback): it runs once and its curve stands for every
    seed."""
    from autometa.meta.stack import StackedMetaLearner

    data = build_metadata(kb, family, kind, metric)
    scored = set(scored_task_ids(data, unscored).tolist())
    done = _load_checkpoint(checkpoint, kind)
    rows = list(done)
    for fold, (train, test) in enumerate(outer_folds(data, n_splits, seed)):
        if any(r["fold"] == fold for r in done):
            continue
        stack = StackedMetaLearner(seed=seed).fit(data, train)
        tasks = [int(t) for t in test if int(t) in scored]
        options = dict(sampler_options or {})
        neural = _neural(data, train, seed) if options.get("adapt") in ("neural", "both") else None
        part = _fold_rows(kb, data, stack, train, tasks, methods, seeds, n_trials,
                          options, n_jobs, neural)  # fmt: skip
        part = [{**r, "fold": fold, "kind": kind} for r in part]
        _append_checkpoint(checkpoint, part)
        rows += part
        if progress is not None:
            progress(f"{kind} fold {fold}: {len(part)} searches")
    return pd.DataFrame(rows)


def _fold_rows(
    kb: KnowledgeBase,
    data: MetaData,
    stack: Any,
    train: np.ndarray,
    tasks: list[int],
    methods: Sequence[str],
    seeds: Sequence[int],
    n_trials: int,
    options: dict[str, Any],
    n_jobs: int,
    neural: Any = None,
) -> list[dict[str, Any]]:
    """Every search of one outer fold's held-out tasks (``neural``: a fitted NeuralMeta
    for MetaSampler's ``adapt="neural"``)."""
    from joblib import Parallel, delayed

    task_type = TASK_KINDS[data.task_kind][0]
    once = "meta" in methods and n_trials <= len(data.config_ids) and not options.get("handover")
    jobs = []
    for task_id in tasks:
        mf = data.metafeatures.loc[task_id]
        prior = transfer_prior(stack, data, kb.configurations, mf, task_type,
                               train_task_ids=train, neural=neural)  # fmt: skip
        table = _table(data, task_id, prior)
        for m in methods:
            for s in seeds[:1] if (m == "meta" and once) else seeds:
                jobs.append((task_id, m, s, prior, table))
    curves = Parallel(n_jobs=n_jobs)(
        delayed(_curve)(m, s, prior, table, n_trials, options) for _, m, s, prior, table in jobs
    )
    rows = []
    for (task_id, m, s, _, _), curve in zip(jobs, curves, strict=True):
        for each in seeds if (m == "meta" and once) else [s]:
            rows.append({"task_id": task_id, "method": m, "seed": each, **curve})
    return rows


def _neural(data: MetaData, train: np.ndarray, seed: int) -> Any:
    """A neural meta-model fitted on the fold's training tasks (PyTorch needed)."""
    from autometa.meta.neural import NeuralMeta

    return NeuralMeta(seed=seed).fit(data, train)


def _load_checkpoint(path: str | Path | None, kind: str) -> list[dict[str, Any]]:
    if path is None or not Path(path).exists():
        return []
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [r for r in rows if r.get("kind") == kind]


def _append_checkpoint(path: str | Path | None, rows: list[dict[str, Any]]) -> None:
    if path is None:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))
        fh.flush()
        os.fsync(fh.fileno())


def summarise_search(results: pd.DataFrame, budgets: Sequence[int] = BUDGETS) -> pd.DataFrame:
    """Mean regret per method at each budget (rows: methods; columns: budgets), the seeds
    averaged within a task first."""
    columns = [f"regret@{n}" for n in budgets if f"regret@{n}" in results]
    per_task = results.groupby(["method", "task_id"], sort=False)[columns].mean()
    table = per_task.groupby("method", sort=False).mean()
    table.columns = [int(c.split("@")[1]) for c in columns]
    return table


def mean_rank(results: pd.DataFrame, budgets: Sequence[int] = BUDGETS) -> pd.DataFrame:
    """Mean rank of each method per budget (1 = best; ties share), over tasks and seeds."""
    columns = [f"regret@{n}" for n in budgets if f"regret@{n}" in results]
    out = {}
    for c in columns:
        wide = results.pivot_table(index=["task_id", "seed"], columns="method", values=c)
        out[int(c.split("@")[1])] = wide.rank(axis=1, method="average").mean()
    return pd.DataFrame(out)


def _table(data: MetaData, task_id: int, prior: TransferPrior) -> tuple[np.ndarray, np.ndarray]:
    """The held-out task's evaluated candidates: their encodings and normalised scores."""
    values = data.normalised[data.rows([task_id])[0]]
    ok = np.isfinite(values)
    return prior.encodings[ok], values[ok]


def _curve(
    method: str,
    seed: int,
    prior: TransferPrior,
    table: tuple[np.ndarray, np.ndarray],
    n_trials: int,
    options: Mapping[str, Any],
) -> dict[str, float]:
    """One search's regret after each trial: ``{"regret@1": ..., "regret@n_trials": ...}``."""
    import optuna

    from autometa.optuna import suggest
    from autometa.spaces import get_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    encodings, values = table
    space, dists = get_space(prior.family), prior.distributions()

    def objective(trial: optuna.Trial) -> float:
        code = space.encode(suggest(trial, dists), prior.task_type)
        return float(values[nearest_row(encodings, code)])

    study = optuna.create_study(
        direction="maximize", sampler=_sampler(method, seed, prior, options)
    )
    if method == "tpe_enqueued":
        for i in prior.order[:ENQUEUED]:
            study.enqueue_trial(dict(prior.configs[i]))
    study.optimize(objective, n_trials=n_trials)
    best = np.maximum.accumulate([t.value for t in study.trials])
    return {f"regret@{n}": float(1.0 - b) for n, b in enumerate(best, start=1)}


def _sampler(method: str, seed: int, prior: TransferPrior, options: Mapping[str, Any]) -> Any:
    import optuna

    from autometa.optuna import MetaSampler

    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if method in ("tpe", "tpe_enqueued"):
        return optuna.samplers.TPESampler(seed=seed)
    if method == "meta":
        return MetaSampler(prior, seed=seed, **options)
    if method == "ws_cmaes":
        from autometa.optuna.wscmaes import ws_cmaes_sampler

        return ws_cmaes_sampler(prior, "maximize", seed=seed)
    raise ValueError(f"unknown search method {method!r}; valid: {', '.join(METHODS)}")
