"""The live check's methods and how one (table, method) cell is computed.

- ``default``: ``LGBMClassifier()`` / ``LGBMRegressor()`` (library defaults);
- ``flaml``: FLAML's zero-shot ``flaml.default`` estimators (optional: ``autometa[bench]``);
- ``single_best``: the knowledge base's best configuration on average, per task kind;
- ``autometa``: the top-1 of ``autometa.recommend(..., model="lightgbm", k=5)`` asked on
  each training fold; ``autometa_cautious`` the same with ``default_margin``,
  ``autometa_race`` with ``race`` (:class:`LiveSettings`);
- ``tpe``: the best of ``n_trials`` trials of cold Optuna TPE, each scored by the same CV.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from autometa.benchmark.live import factories as fx
from autometa.benchmark.live.cache import Cache, config_hash
from autometa.benchmark.live.folds import Factory, Fold, cross_validate, folds_id
from autometa.benchmark.live.tasks import Task
from autometa.benchmark.live.tpe import run_tpe
from autometa.exceptions import AutometaError

METHODS: tuple[str, ...] = (
    "default", "flaml", "single_best", "autometa", "autometa_cautious", "autometa_race", "tpe",
)  # fmt: skip
#: ``runner(protocol id, the cached partial cell or None)`` -> the cell's result.
Runner = Callable[[str, dict[str, Any] | None], dict[str, Any]]
Log = Callable[[str], None]


@dataclass(frozen=True)
class LiveSettings:
    """How the cells are computed. ``n_folds``, ``seed`` and ``n_jobs`` (and each method's
    own settings) are part of a cached cell's protocol; ``max_rows`` subsamples larger
    tables (stratified, seeded); a fit past ``fit_timeout`` seconds fails (a TPE trial
    only fails its trial)."""

    n_trials: int = 50
    n_folds: int = 5
    seed: int = 0
    n_jobs: int = 1
    fit_timeout: float | None = None
    max_rows: int | None = 5000
    cautious_margin: float = 0.2
    race: int = 5

    def __post_init__(self) -> None:
        if not 0.0 <= self.cautious_margin <= 1.0:
            raise AutometaError(f"cautious_margin must be in [0, 1], got {self.cautious_margin}")


def labels(settings: LiveSettings) -> dict[str, str]:
    """Each method's column title."""
    return {
        "default": "defaults",
        "flaml": "FLAML zero-shot",
        "single_best": "single best",
        "autometa": "autometa top-1",
        "autometa_cautious": f"autometa top-1, margin {settings.cautious_margin:g}",
        "autometa_race": f"autometa top-1, race {settings.race}",
        "tpe": f"TPE-{settings.n_trials}",
    }


def check_methods(methods: Sequence[str]) -> None:
    """AutometaError naming any unknown method."""
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise AutometaError(f"unknown method(s) {', '.join(unknown)}; valid: {', '.join(METHODS)}")


@dataclass(frozen=True)
class CellContext:
    """Everything one cell's computation reads: the table, its folds, the settings, the
    single-best configurations, the cache (TPE writes its trials as they finish) and the
    progress log with the cell's position (``where``)."""

    task: Task
    folds: Sequence[Fold]
    settings: LiveSettings
    single_best: Mapping[str, Mapping[str, Any] | None]
    cache: Cache
    log: Log
    where: str

    def cv(self, factory: Factory) -> Runner:
        """A runner cross-validating ``factory`` on the shared folds."""
        timeout = self.settings.fit_timeout
        return lambda protocol, cached: cross_validate(
            factory, self.task, self.folds, fit_timeout=timeout
        )


def method_runner(method: str, ctx: CellContext) -> tuple[str, Runner]:
    """(the method's id, part of the cache key; its runner) for one cell.
    MethodUnavailable when the method cannot run here."""
    builders: dict[str, Callable[[CellContext], tuple[str, Runner]]] = {
        "default": _default,
        "flaml": _flaml,
        "single_best": _single_best,
        "autometa": _autometa,
        "autometa_cautious": _autometa_cautious,
        "autometa_race": _autometa_race,
        "tpe": _tpe,
    }
    if method not in builders:
        raise fx.MethodUnavailable(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    return builders[method](ctx)


def _default(ctx: CellContext) -> tuple[str, Runner]:
    import lightgbm

    factory = fx.default_factory(ctx.task, ctx.settings.seed, ctx.settings.n_jobs)
    return f"default-lightgbm-{lightgbm.__version__}", ctx.cv(factory)


def _flaml(ctx: CellContext) -> tuple[str, Runner]:
    factory = fx.flaml_factory(ctx.task, ctx.settings.seed, ctx.settings.n_jobs)
    return f"flaml-{fx.flaml_version()}", ctx.cv(factory)


def _single_best(ctx: CellContext) -> tuple[str, Runner]:
    params = ctx.single_best.get(ctx.task.kind)
    if params is None:
        raise fx.MethodUnavailable(f"no single-best configuration for {ctx.task.kind}")
    runner = ctx.cv(fx.params_factory(params, ctx.task, ctx.settings.seed, ctx.settings.n_jobs))
    return (
        f"single_best-{config_hash(params)}",
        lambda protocol, cached: {**runner(protocol, cached), "config": dict(params)},
    )


def _autometa(ctx: CellContext) -> tuple[str, Runner]:
    factory = fx.autometa_factory(ctx.task, ctx.settings.seed, ctx.settings.n_jobs)
    return f"autometa-{autometa_state()}", ctx.cv(factory)


def _autometa_cautious(ctx: CellContext) -> tuple[str, Runner]:
    s = ctx.settings
    factory = fx.autometa_factory(ctx.task, s.seed, s.n_jobs, default_margin=s.cautious_margin)
    return f"autometa_cautious-{s.cautious_margin}-{autometa_state()}", ctx.cv(factory)


def _autometa_race(ctx: CellContext) -> tuple[str, Runner]:
    s = ctx.settings
    factory = fx.autometa_factory(ctx.task, s.seed, s.n_jobs, race=s.race)
    return f"autometa_race-{s.race}-{autometa_state()}", ctx.cv(factory)


def _tpe(ctx: CellContext) -> tuple[str, Runner]:
    import optuna

    return f"tpe-{ctx.settings.n_trials}-{optuna.__version__}", partial(tpe_cell, ctx)


def tpe_cell(ctx: CellContext, protocol: str, cached: dict[str, Any] | None) -> dict[str, Any]:
    """The TPE cell, resumed from the trials of the ``cached`` partial cell; each finished
    trial is written to the cache at once."""
    task, s = ctx.task, ctx.settings
    trials = list((cached or {}).get("trials", []))
    resumed = sum(t.get("seconds") or 0.0 for t in trials)
    if trials:
        ctx.log(f"{ctx.where}: resuming after {len(trials)} cached trial(s)")

    def on_trial(record: dict[str, Any]) -> None:
        trials.append(record)
        ctx.cache.put(task.name, "tpe", {"protocol": protocol, "trials": trials})
        scores = [t["score"] for t in trials if t["score"] is not None]
        best = (min if task.kind == "regression" else max)(scores) if scores else None
        shown = "failed" if record["score"] is None else f"{record['score']:.5g}"
        ctx.log(
            f"{ctx.where}: trial {len(trials)}/{s.n_trials} {shown} "
            f"(best {best if best is None else f'{best:.5g}'}, "
            f"{record.get('seconds') or 0:.1f} s)"
        )

    result = run_tpe(
        task, ctx.folds, s.n_trials, seed=s.seed, n_jobs=s.n_jobs, fit_timeout=s.fit_timeout,
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
        "folds_id": folds_id(ctx.folds),
        "resumed_seconds": resumed,
    }


def autometa_state() -> str:
    """autometa's version, source code and shipped knowledge base: a change of any of them
    recomputes the autometa cells."""
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
