"""Greedy portfolio of complementary configurations (FLAML zero-shot, "multiple defaults").

The portfolio is built one member at a time, each time adding the configuration that most
lowers the mean over training tasks of the set's best regret (1 - max normalised score
among members; a task that evaluated no member counts regret 1). Once every task is
covered the rest follow by mean normalised score. The ranking is static: the same for
every task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from autometa.meta._base import BasePrediction, MetaModel, nan_mean, register_model
from autometa.meta.data import MetaData


def greedy_portfolio(Y: np.ndarray, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy order of columns of ``Y`` (tasks × configs, NaN = not evaluated).

    Returns the member positions and the objective (mean min-regret) after each addition,
    which never increases. Ties go to the higher mean normalised score.
    """
    n_t, n_c = Y.shape
    size = n_c if size is None else min(size, n_c)
    filled = np.nan_to_num(Y, nan=0.0)
    tiebreak = np.nan_to_num(nan_mean(Y, axis=0), nan=-1.0)
    covered = np.zeros(n_t)
    members: list[int] = []
    objective: list[float] = []
    free = np.ones(n_c, dtype=bool)
    for _ in range(size):
        regret = 1.0 - np.maximum(covered[:, None], filled).mean(axis=0)
        key = np.where(free, regret - 1e-9 * tiebreak, np.inf)
        best = int(np.argmin(key))
        members.append(best)
        free[best] = False
        covered = np.maximum(covered, filled[:, best])
        objective.append(float(1.0 - covered.mean()))
    return np.asarray(members, dtype=int), np.asarray(objective)


@register_model
class Portfolio(MetaModel):
    """Static greedy portfolio; ``score`` is 1 - position / size (NaN for non-members).

    Args:
        size: members kept (default: every configuration, a full ranking).
    """

    name = "portfolio"
    calibrated = False
    stack_extras = ("mean",)

    def __init__(self, size: int | None = None) -> None:
        self.size = size

    def _fit(self, data: MetaData, rows: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        self.members_, self.objective_ = greedy_portfolio(Y, self.size)
        self.mean_ = nan_mean(Y, axis=0)

    @property
    def member_ids_(self) -> np.ndarray:
        """Configuration ids of the members, in portfolio order."""
        return self.config_ids_[self.members_]

    def _predict(self, X: np.ndarray, idx: np.ndarray, enc: np.ndarray) -> BasePrediction:
        position = np.full(len(self.config_ids_), np.nan)
        position[self.members_] = np.arange(len(self.members_))
        known = np.clip(idx, 0, None)
        score = np.where(idx >= 0, 1.0 - position[known] / len(self.members_), np.nan)
        mean = np.where(idx >= 0, self.mean_[known], np.nan)
        shape = (len(X), len(idx))
        return BasePrediction(
            np.broadcast_to(score, shape).copy(), {"mean": np.broadcast_to(mean, shape).copy()}
        )

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str]]:
        return {}, {"members": self.members_, "objective": self.objective_, "mean": self.mean_}, {}

    def _set_state(
        self,
        config: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        boosters: Mapping[str, str],
    ) -> None:
        self.members_ = np.asarray(arrays["members"], dtype=int)
        self.objective_, self.mean_ = arrays["objective"], arrays["mean"]
