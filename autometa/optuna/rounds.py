"""The number of boosting rounds set by early stopping on each training fold.

What LightGBM users do instead of searching ``n_estimators``: each training fold keeps
:data:`VALID_FRACTION` of its rows aside (seeded; stratified for classes), the model grows up
to :data:`MAX_ROUNDS` trees until its validation loss (LightGBM's default metric for the
objective) has not improved for :data:`PATIENCE` rounds, and the test fold is predicted with
the best iteration (``holdout``), or by a refit on the whole training fold with that many
trees (``refit``). ``tune --early-stopping`` does this for LightGBM, so a search is not
capped by the space's 1,024 trees where small learning rates need more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

#: Most boosting rounds a fit may grow (four times the lightgbm space's ceiling).
MAX_ROUNDS = 4096
#: Rounds without improvement of the validation loss before a fit stops.
PATIENCE = 50
#: Share of each training fold kept aside to decide when to stop.
VALID_FRACTION = 0.1
#: Fewest training rows split for early stopping; smaller folds get :data:`SMALL_ROUNDS`.
MIN_ROWS = 50
#: Rounds of a fold too small to split (LightGBM's default).
SMALL_ROUNDS = 100
#: The families whose number of rounds early stopping sets, and that parameter's name.
ROUNDS_PARAM = {"lightgbm": "n_estimators"}
#: ``tune``'s early-stopping modes: none (the trees are searched), the early-stopped model
#: itself, or a refit on the whole training fold with the rounds it found.
MODES = ("off", "holdout", "refit")


def stopped_param(family: str, mode: str) -> str | None:
    """The parameter early stopping sets for ``family`` in ``mode`` (None: none)."""
    return None if mode == "off" else ROUNDS_PARAM.get(family)


def early_stopped_fit(
    task_type: str, seed: int = 0, patience: int = PATIENCE, refit: bool = False
) -> tuple[Callable[[Any, pd.DataFrame, np.ndarray], None], list[int]]:
    """A ``fit`` for :func:`~autometa.harvest.evaluate.evaluate_config` that early-stops a
    LightGBM estimator (whatever its ``n_estimators``, it may grow :data:`MAX_ROUNDS`),
    and the list it appends each fitted fold's number of rounds to. ``refit``: then fit
    again on all the fold's rows with that many rounds."""
    import lightgbm

    rounds: list[int] = []

    def fit(estimator: Any, X: pd.DataFrame, y: np.ndarray) -> None:
        split = validation_split(y, task_type, seed)
        if split is None:
            estimator.set_params(n_estimators=SMALL_ROUNDS)
            estimator.fit(X, y)
            rounds.append(SMALL_ROUNDS)
            return
        keep, valid = split
        estimator.set_params(n_estimators=MAX_ROUNDS)
        estimator.fit(
            X.iloc[keep], y[keep], callbacks=[lightgbm.early_stopping(patience, verbose=False)],
            **_eval_kwargs(estimator, X.iloc[valid], y[valid]),
        )  # fmt: skip
        rounds.append(int(estimator.best_iteration_ or estimator.n_estimators))
        if refit:
            estimator.set_params(n_estimators=rounds[-1])
            estimator.fit(X, y)

    return fit, rounds


def validation_split(
    y: np.ndarray, task_type: str, seed: int = 0
) -> tuple[np.ndarray, np.ndarray] | None:
    """(fit rows, validation rows) of a training fold, or None when it has fewer than
    :data:`MIN_ROWS` rows. Classes: stratified, and a class with a single row stays in the
    fit rows (LightGBM must see every class it is asked to validate)."""
    from sklearn.model_selection import train_test_split

    n = len(y)
    if n < MIN_ROWS:
        return None
    rows = np.arange(n)
    if task_type == "regression":
        keep, valid = train_test_split(rows, test_size=VALID_FRACTION, random_state=seed)
        return np.sort(keep), np.sort(valid)
    codes = np.asarray(y, dtype=int)
    single = np.bincount(codes)[codes] < 2
    pool = rows[~single]
    try:
        keep, valid = train_test_split(
            pool, test_size=VALID_FRACTION, random_state=seed, stratify=codes[pool]
        )
    except ValueError:  # more classes than validation rows: a plain split
        keep, valid = train_test_split(pool, test_size=VALID_FRACTION, random_state=seed)
        valid = valid[np.isin(codes[valid], codes[keep])]
    return np.sort(np.concatenate([keep, rows[single]])), np.sort(valid)


def _eval_kwargs(estimator: Any, X: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    """The validation set in the fit's own words (LightGBM 4.7 renamed ``eval_set``)."""
    import inspect

    if "eval_X" in inspect.signature(estimator.fit).parameters:
        return {"eval_X": (X,), "eval_y": (y,)}
    return {"eval_set": [(X, y)]}
