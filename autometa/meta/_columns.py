"""One small LightGBM regressor per target column, from meta-features.

Shared by the portfolio selector (a column per portfolio member's score) and the latent
factor model (a column per factor loading); saved as LightGBM model strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import lightgbm as lgb
import numpy as np

from autometa.meta._base import lgb_params

Boosters = list[lgb.Booster | None]


def fit_columns(
    X: np.ndarray,
    T: np.ndarray,
    n_estimators: int,
    learning_rate: float,
    num_leaves: int,
    min_child_samples: int,
    seed: int,
) -> Boosters:
    """A regressor per column of ``T`` on its finite rows; None (the caller's fallback)
    for a column with fewer than ``2 * min_child_samples`` of them."""
    params = lgb_params(
        objective="regression",
        learning_rate=learning_rate,
        num_leaves=num_leaves,
        min_data_in_leaf=min_child_samples,
        feature_fraction=0.7,
        lambda_l2=1.0,
        seed=seed,
    )
    boosters: Boosters = []
    for j in range(T.shape[1]):
        ok = np.isfinite(T[:, j])
        if ok.sum() < 2 * min_child_samples:
            boosters.append(None)
            continue
        train = lgb.Dataset(X[ok], T[ok, j])
        boosters.append(lgb.train(params, train, num_boost_round=n_estimators))
    return boosters


def predict_columns(
    boosters: Sequence[lgb.Booster | None], X: np.ndarray, fallback: np.ndarray
) -> np.ndarray:
    """Predictions (rows of ``X`` × columns); ``fallback[j]`` where column j has no model."""
    cols = [
        np.full(len(X), fallback[j]) if b is None else b.predict(X) for j, b in enumerate(boosters)
    ]
    return np.column_stack(cols) if cols else np.empty((len(X), 0))


def columns_state(
    boosters: Sequence[lgb.Booster | None], prefix: str
) -> tuple[int, dict[str, str]]:
    """(number of columns, {prefix<j>: model string}) for persistence."""
    return len(boosters), {f"{prefix}{j}": b.model_to_string() for j, b in enumerate(boosters) if b}


def columns_from_state(n: int, boosters: Mapping[str, str], prefix: str) -> Boosters:
    """Inverse of :func:`columns_state`."""
    return [
        lgb.Booster(model_str=boosters[f"{prefix}{j}"]) if f"{prefix}{j}" in boosters else None
        for j in range(n)
    ]
