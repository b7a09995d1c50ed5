"""LightGBM probes: three stored LightGBM configurations scored on the task itself.

Landmarking aimed at the configurations autometa recommends. Three cheap configurations of
the knowledge base's LightGBM design (at most 169 trees of at most 41 leaves) are
cross-validated beside the LightGBM landmarkers, on the same subsample, design matrix (63
bins) and seeded, repeated 3-fold splits (``landmarking._gbm_scores``). Each probe's quality
``autometa.Probe{1,2,3}Gain`` is its pooled out-of-fold AUC (classification) or R²
(regression) minus ``autometa.GBMHigh*``'s, the landmarker that stands for LightGBM's
defaults; ``autometa.ProbeMaxGain`` is the largest. They say whether the small, slow or
heavily regularised trees that win on many stored tasks beat the defaults on this one.
"""

from __future__ import annotations

from typing import Any

#: Stored LightGBM configurations (``lightgbm-1`` space; the shipped snapshot's ids 6, 76, 89).
PROBES: dict[str, dict[str, Any]] = {
    "1": {"colsample_bytree": 0.594744, "learning_rate": 0.0147867, "max_depth": 6,
          "min_child_samples": 3, "n_estimators": 169, "num_leaves": 4,
          "reg_alpha": 3.57069e-08, "reg_lambda": 1.69843, "subsample": 0.796846},
    "2": {"colsample_bytree": 0.850914, "learning_rate": 0.124057, "max_depth": 6,
          "min_child_samples": 86, "n_estimators": 150, "num_leaves": 41,
          "reg_alpha": 3.48819, "reg_lambda": 0.0234056, "subsample": 0.716561},
    "3": {"colsample_bytree": 0.869295, "learning_rate": 0.0236441, "max_depth": 12,
          "min_child_samples": 40, "n_estimators": 83, "num_leaves": 11,
          "reg_alpha": 0.000374104, "reg_lambda": 8.8824e-06, "subsample": 0.699918},
}  # fmt: skip


def names() -> list[str]:
    """The probes' quality names (the same for every task type)."""
    return [*(f"autometa.Probe{k}Gain" for k in PROBES), "autometa.ProbeMaxGain"]


def lgb_params(config: dict[str, Any]) -> dict[str, Any]:
    """A probe's LightGBM keyword arguments as the harvest sets them (bagging on when
    ``subsample < 1``)."""
    return {**config, "subsample_freq": int(config["subsample"] < 1.0)}


def gains(scores: list[float], reference: float) -> dict[str, float]:
    """The probes' qualities from their scores (in :data:`PROBES` order) and the reference's."""
    out = {name: score - reference for name, score in zip(names()[:-1], scores, strict=True)}
    out["autometa.ProbeMaxGain"] = max(out.values())
    return out
