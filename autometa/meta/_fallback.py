"""What a task that trips the out-of-distribution guard gets: the ranking with the
default margin raised to at least :data:`GUARD_MARGIN`, and the two fallback
configurations (the robust portfolio's first member and the library default) right after
the top pick (:func:`soft_fallback`); which of the two comes first is learned.

A one-split rule on the capacity landmark ``autometa.GBMGain*`` (LightGBM's high- minus
low-capacity landmarker score), learned from the training tasks: on each, which of the two
scored better. Where capacity pays, the library default (31-leaf trees) tends to beat the
portfolio's first member, which is usually a cautious low-capacity configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from autometa.meta.data import MetaData, metafeature_frame

GAIN_PREFIX = "autometa.GBMGain"
MIN_LEAF = 10
GUARD_MARGIN = 0.2  # the default margin at least, on a task that trips the guard
N_SAFE = 2  # fallback configurations placed right after the top pick


def guard_margin(learned: float, requested: float | None = None) -> float:
    """The default margin a flagged task is ranked with."""
    return max(learned if requested is None else float(requested), GUARD_MARGIN)


def offered_fallback(order: Sequence[Any], safe: Sequence[Any]) -> list[Any]:
    """The first :data:`N_SAFE` fallback configurations of ``safe`` that are in ``order``
    (e.g. feasible for the dataset's size)."""
    present = set(order)
    return [c for c in safe if c in present][:N_SAFE]


def soft_fallback(order: Sequence[Any], safe: Sequence[Any]) -> list[Any]:
    """A flagged task's order: its top pick, then the :func:`offered_fallback`
    configurations not already first, then the rest."""
    head = [order[0], *(c for c in offered_fallback(order, safe) if c != order[0])]
    taken = set(head)
    return head + [c for c in order if c not in taken]


@dataclass(frozen=True)
class FallbackRule:
    """Default first where ``feature <= threshold`` gives ``below`` / above gives ``above``
    (True = the library default first); ``missing`` for an undefined value; ``threshold``
    None: no split was worth making, ``below`` everywhere."""

    feature: str
    threshold: float | None
    below: bool
    above: bool
    missing: bool

    def default_first(
        self, metafeatures: pd.DataFrame | pd.Series | Mapping[str, Any]
    ) -> np.ndarray:
        """Per task (row): does the library default go first?"""
        frame = metafeature_frame(metafeatures)
        if self.threshold is None:
            return np.full(len(frame), self.below)
        if self.feature not in frame:
            return np.full(len(frame), self.missing)
        x = pd.to_numeric(frame[self.feature], errors="coerce").to_numpy(dtype=float)
        split = np.where(x <= self.threshold, self.below, self.above)
        return np.where(np.isnan(x), self.missing, split)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | None) -> FallbackRule | None:
        return None if doc is None else cls(**doc)


def fit_fallback_rule(
    data: MetaData, task_ids: np.ndarray, first_id: int, default_id: int | None
) -> FallbackRule | None:
    """Learn the rule on the training tasks; None without a default, a capacity landmark
    or enough tasks where both were evaluated."""
    if default_id is None or first_id == default_id:
        return None
    columns = [c for c in data.metafeatures.columns if c.startswith(GAIN_PREFIX)]
    rows = data.rows(task_ids)
    mf = data.metafeatures.iloc[rows]
    if not columns:
        return None
    feature = max(columns, key=lambda c: int(mf[c].notna().sum()))
    cols = [int(np.flatnonzero(data.config_ids == c)[0]) for c in (first_id, default_id)]
    Y = data.normalised[rows][:, cols]
    x = mf[feature].to_numpy(dtype=float)
    ok = np.isfinite(Y).all(axis=1) & np.isfinite(x)
    if ok.sum() < 2 * MIN_LEAF:
        return None
    label = Y[ok, 1] > Y[ok, 0]  # the default scored better
    majority = bool(label.mean() > 0.5)
    from sklearn.tree import DecisionTreeClassifier

    stump = DecisionTreeClassifier(max_depth=1, min_samples_leaf=MIN_LEAF, random_state=0)
    tree = stump.fit(x[ok, None], label).tree_
    if tree.node_count < 3:
        return FallbackRule(feature, None, majority, majority, majority)
    classes = stump.classes_
    below = bool(classes[int(np.argmax(tree.value[tree.children_left[0]]))])
    above = bool(classes[int(np.argmax(tree.value[tree.children_right[0]]))])
    return FallbackRule(feature, float(tree.threshold[0]), below, above, majority)
