"""Meta-data for learning: the tasks × configurations score matrix and task meta-features.

:func:`build_metadata` turns a :class:`~autometa.store.base.KnowledgeBase`
into a :class:`MetaData` for one (model family, task kind, metric);
:class:`MetaFeatureTransform` maps raw meta-feature dicts to the scaled vectors the
meta-models read, fitted on training tasks only and reusable for a new task.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError
from autometa.metrics import (
    DEFAULT_METRICS,
    METRIC_DIRECTION,
    TASK_KINDS,
    metrics_for,
)
from autometa.store.base import KnowledgeBase

#: Count-like qualities, log-transformed before scaling (besides any heavy-tailed column).
_COUNT_PREFIXES = ("NumberOf", "Symbols", "MajorityClassSize", "MinorityClassSize")
_COUNT_NAMES = frozenset(
    {"Dimensionality", "DatasetRatio", "InverseDatasetRatio", "EquivalentNumberOfAtts"}
    | {f"{s}NominalAttDistinctValues" for s in ("Max", "Mean", "Min", "Stdv")}
)
_CLIP = 5.0
#: Named meta-feature sets (see :func:`resolve_features`).
FEATURE_SETS = ("all", "compact")


def resolve_features(
    spec: str | Sequence[str] | None, available: Sequence[str]
) -> list[str] | None:
    """Column list of a feature-set name, or ``spec`` itself; None = every covered column.

    ``"compact"``: OpenML's simple qualities plus the landmarkers' AUC/R² (the qualities
    that say how large and how hard a task is), robust with a hundred-odd tasks.
    """
    if spec is None or (isinstance(spec, str) and spec == "all"):
        return None
    if not isinstance(spec, str):
        return list(spec)
    if spec != "compact":
        raise MetaModelError(f"unknown feature set {spec!r}; valid: {', '.join(FEATURE_SETS)}")
    from autometa.metafeatures import metafeature_names

    simple = set(metafeature_names("binary", groups=["simple"]))
    simple |= {"ClassProbabilityMin", "ClassProbabilityMax", "ClassProbabilitySTD"}
    landmarks = {
        n
        for t in ("binary", "regression")
        for n in metafeature_names(t, groups=["landmarking"])
        if n.endswith(("AUC", "R2"))
    }
    return [c for c in available if c in simple | landmarks]


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


@dataclass(frozen=True)
class MetaFeatureTransform:
    """Column choice, log of count-like/heavy-tailed columns, median imputation, scaling.

    ``robust=True`` scales by median and IQR without logs (FLAML's zero-shot RobustScaler);
    the default standardises and clips to ±5.
    """

    columns: tuple[str, ...]
    log: np.ndarray  # bool per column
    fill: np.ndarray  # imputation value per column (after the log)
    center: np.ndarray
    scale: np.ndarray
    clip: float = _CLIP

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        columns: str | Sequence[str] | None = None,
        *,
        min_coverage: float = 0.5,
        robust: bool = False,
    ) -> MetaFeatureTransform:
        """Learn the transform from training tasks' raw meta-features (rows = tasks).

        ``columns``: a list, a name in :data:`FEATURE_SETS`, or None (columns defined for at
        least ``min_coverage`` of the tasks)."""
        columns = resolve_features(columns, list(frame.columns))
        if columns is None:
            coverage = frame.notna().mean()
            columns = [c for c in frame.columns if coverage[c] >= min_coverage]
        missing = [c for c in columns if c not in frame.columns]
        raw = frame.reindex(columns=list(columns)).to_numpy(dtype=float, copy=True)
        raw[~np.isfinite(raw)] = np.nan
        if robust:
            log = np.zeros(len(columns), dtype=bool)
        else:
            log = np.array([_is_count(c) for c in columns], dtype=bool) | _heavy_tailed(raw)
        x = np.where(log, _signed_log(raw), raw)
        fill = np.nan_to_num(nan_columns(np.nanmedian, x), nan=0.0)
        x = np.where(np.isnan(x), fill, x)
        if robust:
            center = np.median(x, axis=0)
            scale = np.subtract(*np.percentile(x, [75, 25], axis=0))
        else:
            center, scale = x.mean(axis=0), x.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        keep = np.array([c not in missing for c in columns]) & (np.ptp(x, axis=0) > 0)
        if not keep.any():
            raise MetaModelError("no informative meta-feature column among the training tasks")
        return cls(
            columns=tuple(c for c, k in zip(columns, keep, strict=True) if k),
            log=log[keep],
            fill=fill[keep],
            center=center[keep],
            scale=scale[keep],
            clip=np.inf if robust else _CLIP,
        )

    def transform(self, metafeatures: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
        """Scaled matrix (tasks × columns) of a frame, or a 1-row matrix of one task's dict."""
        frame = metafeature_frame(metafeatures)
        raw = frame.reindex(columns=list(self.columns)).to_numpy(dtype=float, copy=True)
        raw[~np.isfinite(raw)] = np.nan
        x = np.where(self.log, _signed_log(raw), raw)
        x = np.where(np.isnan(x), self.fill, x)
        return np.clip((x - self.center) / self.scale, -self.clip, self.clip)

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON part and array part, for :mod:`autometa.meta.persist`."""
        arrays = {"log": self.log, "fill": self.fill, "center": self.center, "scale": self.scale}
        return {"columns": list(self.columns), "clip": _json_float(self.clip)}, arrays

    @classmethod
    def from_state(
        cls, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> MetaFeatureTransform:
        return cls(
            columns=tuple(config["columns"]),
            log=np.asarray(arrays["log"], dtype=bool),
            fill=np.asarray(arrays["fill"], dtype=float),
            center=np.asarray(arrays["center"], dtype=float),
            scale=np.asarray(arrays["scale"], dtype=float),
            clip=float(config["clip"]),
        )


def metafeature_frame(metafeatures: pd.DataFrame | pd.Series | Mapping[str, Any]) -> pd.DataFrame:
    """Tasks × qualities: a frame as it is, one task's Series or ``{name: value}`` dict as a
    one-row frame (None and non-numbers as NaN)."""
    if isinstance(metafeatures, pd.DataFrame):
        return metafeatures
    if isinstance(metafeatures, pd.Series):
        return metafeatures.to_frame().T
    return pd.DataFrame([{k: _float(v) for k, v in metafeatures.items()}])


def _float(value: Any) -> float:
    try:
        return float(value) if value is not None else np.nan
    except (TypeError, ValueError):
        return np.nan


def _json_float(value: float) -> float | str:
    return value if np.isfinite(value) else "inf"


def _is_count(name: str) -> bool:
    return name.startswith(_COUNT_PREFIXES) or name in _COUNT_NAMES


def nan_columns(reduce: Callable[..., np.ndarray], x: np.ndarray) -> np.ndarray:
    """A NaN-aware reduction (``np.nanmedian``, ...) per column, NaN for an all-NaN column,
    without its warning. Not ``warnings.catch_warnings``: this runs in the recommender's
    loader thread, and that context manager swaps process-wide state (two threads using it
    at once can leave every warning silenced)."""
    out = np.full(x.shape[1], np.nan)
    some = ~np.isnan(x).all(axis=0)
    if some.any():
        out[some] = reduce(x[:, some], axis=0)
    return out


def _heavy_tailed(x: np.ndarray) -> np.ndarray:
    """Columns whose sample skewness exceeds 3 (a few extreme tasks would dominate)."""
    mu, sd = nan_columns(np.nanmean, x), nan_columns(np.nanstd, x)
    with np.errstate(all="ignore"):
        z = (x - mu) / sd
    z[~np.isfinite(z)] = np.nan  # a constant column: 0 / 0
    skew = nan_columns(np.nanmean, z**3)
    return np.nan_to_num(np.abs(skew), nan=0.0) > 3.0


@dataclass(frozen=True)
class MetaData:
    """Everything a meta-model trains on, for one (family, task kind, metric).

    ``scores`` holds fold-mean raw metric values (NaN where not evaluated); ``normalised``
    maps each task's row to [0, 1]: 1 = its best evaluated configuration, 0 = its worst
    (direction-aware), so regret = 1 - normalised.
    """

    family: str
    task_kind: str
    metric: str
    direction: int
    tasks: pd.DataFrame  # index task_id: name, group_key, task_type, n_rows, n_features
    metafeatures: pd.DataFrame  # raw qualities, index task_id (same order as tasks)
    config_ids: np.ndarray
    encodings: np.ndarray  # configs × encoding dims
    encoding_names: tuple[str, ...]
    scores: np.ndarray  # tasks × configs
    normalised: np.ndarray  # tasks × configs
    default_config_id: int | None

    @property
    def task_ids(self) -> np.ndarray:
        return self.tasks.index.to_numpy()

    @property
    def default_position(self) -> int | None:
        """Column of the library default in ``config_ids`` (None when it was not evaluated)."""
        hit = np.flatnonzero(self.config_ids == self.default_config_id)
        return int(hit[0]) if len(hit) else None

    def rows(self, task_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Row positions of ``task_ids``; MetaModelError for unknown ids."""
        pos = self.tasks.index.get_indexer(np.asarray(task_ids))
        if (pos < 0).any():
            raise MetaModelError(f"unknown task id(s): {np.asarray(task_ids)[pos < 0].tolist()}")
        return pos

    def groups(self, task_ids: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Group key per task (tasks sharing a source share a key)."""
        frame = self.tasks if task_ids is None else self.tasks.iloc[self.rows(task_ids)]
        return frame["group_key"].astype(str).to_numpy()


#: Per-task training targets a stack can learn from (see :func:`training_target`).
TRAINING_TARGETS = ("rank", "minmax")


def minmax_rows(signed: np.ndarray, rel_tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Scale each row of direction-aware scores (higher = better) to [0, 1]: 1 = the row's
    best, 0 = its worst, NaN kept. Also returns which rows have a spread above ``rel_tol``
    relative to their best (at least ``rel_tol``); the others are left unscaled and should
    be dropped (a task whose configurations all score the same has no regret)."""
    best, worst = np.nanmax(signed, axis=1), np.nanmin(signed, axis=1)
    spread = best - worst
    ok = spread > rel_tol * np.maximum(1.0, np.abs(best))
    scaled = (signed - worst[:, None]) / np.where(ok, spread, 1.0)[:, None]
    return scaled, ok


def training_target(normalised: np.ndarray, kind: str = "rank") -> np.ndarray:
    """The per-task score a meta-model is trained on, from ``normalised`` (tasks x configs).

    ``"minmax"``: ``normalised`` itself (1 = best, 0 = worst). ``"rank"``: each task's
    average rank of the configuration, scaled to [0, 1] (1 = best), NaN where not
    evaluated. Min-max scores are dominated by each task's few catastrophic configurations,
    which squeezes the good ones into a narrow band near 1; ranks keep them apart.
    """
    if kind == "minmax":
        return normalised
    if kind != "rank":
        raise MetaModelError(
            f"unknown training target {kind!r}; valid: {', '.join(TRAINING_TARGETS)}"
        )
    ranks = pd.DataFrame(normalised).rank(axis=1, method="average").to_numpy(dtype=float)
    count = np.isfinite(normalised).sum(axis=1, keepdims=True)
    return (ranks - 1.0) / np.maximum(count - 1, 1)


def _representative_type(task_kind: str) -> str:
    return TASK_KINDS[task_kind][0]


def _checked_metric(task_kind: str, metric: str | None) -> str:
    """``metric`` (default: the task kind's), after checking it is recorded for the kind."""
    if task_kind not in TASK_KINDS:
        raise MetaModelError(f"unknown task kind {task_kind!r}; valid: {', '.join(TASK_KINDS)}")
    metric = metric or DEFAULT_METRICS[task_kind]
    rep = _representative_type(task_kind)
    if metric not in metrics_for(rep):
        raise MetaModelError(
            f"metric {metric!r} is not recorded for {task_kind}; valid: "
            + ", ".join(metrics_for(rep))
        )
    return metric


def build_metadata(
    kb: KnowledgeBase,
    family: str = "lightgbm",
    task_kind: str = "classification",
    metric: str | None = None,
) -> MetaData:
    """Collect the meta-data of ``family`` on the ``task_kind`` tasks of ``kb``.

    Raises MetaModelError when the metric, kind or family is unknown, or fewer than two
    tasks with two distinct scores remain.
    """
    from autometa.spaces import get_space

    metric = _checked_metric(task_kind, metric)
    rep = _representative_type(task_kind)
    space = get_space(family)
    tasks = kb.tasks[kb.tasks["task_type"].isin(TASK_KINDS[task_kind])]
    ev = kb.evaluations_frame(family=space.family, metric=metric, status="ok")
    ev = ev[ev["task_id"].isin(tasks.index) & np.isfinite(ev["value"].astype(float))]
    configs = kb.configurations_frame(space.family)
    configs = configs[configs["space_version"] == space.version]
    ev = ev[ev["config_id"].isin(configs.index)]
    if ev.empty:
        raise MetaModelError(f"no {metric} evaluations of {family} on {task_kind} tasks")
    wide = ev.groupby(["task_id", "config_id"])["value"].mean().unstack("config_id")
    direction = METRIC_DIRECTION[metric]
    normalised, ok = minmax_rows(direction * wide.to_numpy(dtype=float))
    wide, normalised = wide[ok], normalised[ok]
    if len(wide) < 2:
        raise MetaModelError(f"fewer than 2 {task_kind} tasks with distinct {metric} scores")
    config_ids = wide.columns.to_numpy(dtype=np.int64)
    encodings = np.vstack([space.encode(configs.at[c, "params"], rep) for c in config_ids])
    default_hash = space.config_hash(space.default(rep))
    default = configs.index[configs["config_hash"] == default_hash]
    default_id = int(default[0]) if len(default) and int(default[0]) in set(config_ids) else None
    task_ids = wide.index.to_numpy(dtype=np.int64)
    table = tasks.loc[task_ids, ["name", "group_key", "task_type", "n_rows", "n_features"]]
    table = table.assign(group_key=table["group_key"].fillna(table["name"]).astype(str))
    mf = kb.metafeatures.reindex(task_ids).astype(float)
    return MetaData(
        family=space.family,
        task_kind=task_kind,
        metric=metric,
        direction=direction,
        tasks=table,
        metafeatures=mf,
        config_ids=config_ids,
        encodings=encodings,
        encoding_names=tuple(space.encoding_names(rep)),
        scores=wide.to_numpy(dtype=float),
        normalised=normalised,
        default_config_id=default_id,
    )
