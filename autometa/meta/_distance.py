"""Learned feature weights for the nearest-task distance.

Two training tasks of different groups are similar when their configurations rank alike
(Pearson correlation of their configuration ranks over the configurations both
evaluated). The weights are those of a non-negative least-squares fit of that similarity
on minus the squared differences of each scaled meta-feature, so a quality whose
differences go with different rankings gets a large weight; each is then floored (a share
of the mean weight) so that no quality is ignored entirely.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression

from autometa.meta.data import training_target

#: Share of the mean weight every feature keeps.
FLOOR = 0.1


def pair_similarity(Y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, similarity) of every pair of tasks of different groups: the correlation of
    their configuration ranks (``Y`` is turned into per-task ranks first)."""
    Y = training_target(Y, "rank")
    centred = Y - np.nanmean(Y, axis=1, keepdims=True)
    norm = np.sqrt(np.nansum(centred**2, axis=1, keepdims=True))
    Z = np.nan_to_num(centred / np.where(norm > 0, norm, 1.0))
    i, j = np.triu_indices(len(Y), 1)
    keep = groups[i] != groups[j]
    i, j = i[keep], j[keep]
    return i, j, np.einsum("ij,ij->i", Z[i], Z[j])


def learn_weights(X: np.ndarray, Y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per-feature weights (mean 1) of a squared-difference distance; ones when there are
    too few pairs to learn from."""
    i, j, s = pair_similarity(Y, groups)
    if len(s) < 2 * X.shape[1]:
        return np.ones(X.shape[1])
    coef = LinearRegression(positive=True).fit(-((X[i] - X[j]) ** 2), s).coef_
    if coef.sum() <= 0:
        return np.ones(X.shape[1])
    w = coef / coef.mean()
    return (1.0 - FLOOR) * w + FLOOR
