"""autometa.optuna.rounds: the number of LightGBM trees set by early stopping on a held-out
tenth of each training fold, beyond the space's 1,024 when the learning rate is small."""

from __future__ import annotations

import lightgbm
import numpy as np
import pandas as pd
from sklearn.datasets import make_regression

from autometa.optuna.rounds import (
    MAX_ROUNDS,
    MIN_ROWS,
    SMALL_ROUNDS,
    early_stopped_fit,
    validation_split,
)


def test_validation_split_is_a_seeded_stratified_tenth() -> None:
    y = np.array([0] * 90 + [1] * 30 + [2])  # class 2 has a single row
    keep, valid = validation_split(y, "multiclass", seed=3)
    assert len(valid) == 12 and set(keep) | set(valid) == set(range(len(y)))
    assert not set(keep) & set(valid) and 120 in keep  # the single row is fitted on
    assert np.bincount(y[valid]).tolist() == [9, 3]
    again = validation_split(y, "multiclass", seed=3)
    assert again is not None and np.array_equal(again[1], valid)
    assert validation_split(np.zeros(MIN_ROWS - 1), "regression") is None


def test_small_learning_rates_grow_past_the_space_ceiling_and_large_ones_stop() -> None:
    X, y = make_regression(600, 5, noise=1.0, random_state=0)
    X = pd.DataFrame(X)
    grown = []
    for rate in (0.005, 0.5):
        fit, rounds = early_stopped_fit("regression")
        model = lightgbm.LGBMRegressor(learning_rate=rate, n_estimators=10, verbosity=-1)
        fit(model, X, y)
        assert model.booster_.num_trees() <= MAX_ROUNDS
        grown.append(rounds[0])
    assert grown[0] > 1024 and grown[1] < 300


def test_a_fold_too_small_to_split_gets_the_default_rounds() -> None:
    fit, rounds = early_stopped_fit("binary")
    X = pd.DataFrame({"a": np.arange(30.0)})
    model = lightgbm.LGBMClassifier(verbosity=-1, min_child_samples=2)
    fit(model, X, np.arange(30) % 2)
    assert rounds == [SMALL_ROUNDS] and model.n_estimators == SMALL_ROUNDS
