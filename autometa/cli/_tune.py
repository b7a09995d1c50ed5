"""`autometa tune`: a cross-validated search of a dataset, warm-started by the knowledge base."""

from __future__ import annotations

import json
from typing import Any

import click

from autometa.cli._common import (
    data_options,
    echo_json,
    echo_table,
    format_option,
    handle_errors,
    load_user_dataset,
)
from autometa.cli._recommend import FAMILY_CHOICES, METRICS


@click.command("tune")
@click.argument("data", type=click.Path(dir_okay=False))
@data_options
@click.option("--model", type=click.Choice(FAMILY_CHOICES), default="lightgbm", show_default=True,
              help="Model family; auto lets the recommender choose it.")  # fmt: skip
@click.option(
    "--metric",
    type=click.Choice(METRICS),
    help="Metric to optimise (default: roc_auc for classification, rmse for regression).",
)
@click.option("--trials", "n_trials", type=click.IntRange(min=1), default=20, show_default=True,
              help="Trials in the study in all (rerun with --storage: only the rest).")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop starting trials after this many seconds.")  # fmt: skip
@click.option("--cv", type=click.IntRange(min=2), default=5, show_default=True,
              help="Cross-validation folds, the same for every trial.")  # fmt: skip
@click.option("--sampler", type=click.Choice(["meta", "tpe", "random", "ws-cmaes"]),
              default="meta", show_default=True,
              help="meta: the recommendations, then adapts to the trials (MetaSampler); tpe, "
              "random or ws-cmaes (CMA-ES warm-started from the nearest stored tasks): "
              "Optuna's, after the --warm-start recommendations.")  # fmt: skip
@click.option("--warm-start", type=click.IntRange(min=0), default=5, show_default=True,
              help="How many recommendations are tried first (0: none).")  # fmt: skip
@click.option("--storage", help="Optuna RDB URL (sqlite:///study.db, postgresql://...): "
              "finished trials are kept and a rerun continues the study.")  # fmt: skip
@click.option("--study-name", help="Study name in --storage (default: a new study).")
@click.option("--n-jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Trials run at once in threads.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of folds and sampler.")
@click.option("--early-stopping", type=click.Choice(["off", "holdout", "refit"]), default="off",
              show_default=True,
              help="LightGBM: off searches the number of trees (up to 1,024); holdout sets "
              "it by early stopping on a tenth of each training fold (up to 4,096) and "
              "predicts with that model; refit then refits on the whole fold with those "
              "trees.")  # fmt: skip
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Write the best-so-far curve to this PNG (needs matplotlib).")  # fmt: skip
@format_option
@handle_errors
def tune_cmd(data: str, target: str | None, task: str | None, encoding: str,
             categorical: tuple[str, ...], numeric: tuple[str, ...], fmt: str,
             **options: Any) -> None:  # fmt: skip
    """Search hyperparameters of DATA by cross-validation, best first.

    The first trials are autometa's recommendations; with --sampler meta the knowledge base
    keeps steering the search as trials come in. Every trial is scored on the same seeded
    folds, each configuration fitted as the knowledge base's evaluations fit it. The answer:
    the best params (accepted as-is by the estimator), its CV score and every trial's value
    (--format json).
    """
    from autometa.optuna.tune import tune

    plot = options.pop("plot")
    if plot is not None:
        _check_plotting()
    dataset = load_user_dataset(data, target, task, encoding, categorical, numeric)
    with _trial_bar(options["n_trials"], fmt) as callback:
        result = tune(dataset, callbacks=[callback], **options)
    if plot is not None:
        from autometa.optuna.plot import plot_best_so_far

        plot_best_so_far(result, plot)
    if fmt == "json":
        echo_json(result.to_dict())
        return
    done = sum(t["state"] == "complete" for t in result.trials)
    click.echo(
        f"{dataset.name}: model {result.model}, {result.metric} ({result.direction}), "
        f"{result.n_folds}-fold CV; best of {done} trials: {result.best_value:.6g}"
    )
    echo_table([(k, json.dumps(v)) for k, v in result.best_params.items()], ("param", "value"))


def _check_plotting() -> None:
    """Refuse --plot before any work when matplotlib is missing."""
    import importlib.util

    from autometa.cli._common import UserError

    if importlib.util.find_spec("matplotlib") is None:
        raise UserError("--plot needs matplotlib: pip install 'autometa[plot]'")


class _trial_bar:
    """A progress bar of trials with the best value so far (stderr; none for JSON)."""

    def __init__(self, total: int, fmt: str) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc="trials", unit="trial", disable=fmt == "json" or None)

    def __enter__(self) -> Any:
        def callback(study: Any, trial: Any) -> None:
            self.bar.update(1)
            if any(t.value is not None for t in study.get_trials(deepcopy=False)):
                self.bar.set_postfix_str(f"best {study.best_value:.6g}")

        return callback

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
