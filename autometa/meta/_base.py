"""The shared base-model interface, its state format and the base-model registry.

A base meta-model implements ``_fit`` and ``_predict`` (and ``_get_state``/``_set_state``
for persistence); :class:`MetaModel` handles meta-feature scaling, candidate resolution
and the public ``fit``/``predict_batch``/``predict``. Registering a subclass with
:func:`register_model` makes it loadable by :mod:`autometa.meta.persist` and usable in a
:class:`~autometa.meta.stack.StackedMetaLearner`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError
from autometa.meta.data import MetaData, MetaFeatureTransform

#: A task's raw meta-features: a {name: value} mapping, a Series, or a frame (one row a task).
MetaFeatures = Mapping[str, Any] | pd.Series | pd.DataFrame
#: Candidates: None (every known configuration), config ids, or an encodings matrix.
Candidates = Sequence[int] | np.ndarray | None


@dataclass
class ModelState:
    """A fitted model as plain parts: JSON config, numeric arrays, LightGBM model strings."""

    kind: str
    config: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    boosters: dict[str, str] = field(default_factory=dict)


@dataclass
class BasePrediction:
    """Predictions for tasks × candidates: ``score`` (predicted normalised score, higher is
    better) and named ``extras`` of the same shape (e.g. neighbour spread, distance)."""

    score: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)


MODEL_REGISTRY: dict[str, type[MetaModel]] = {}
M = TypeVar("M", bound="type[MetaModel]")


def register_model(cls: M) -> M:
    """Class decorator: make a base model known to the stack and to persistence by name."""
    MODEL_REGISTRY[cls.name] = cls
    return cls


class MetaModel:
    """Base class of meta-models predicting a task's normalised score of configurations."""

    name: ClassVar[str]
    #: True when ``score`` estimates the normalised score (used for disagreement).
    calibrated: ClassVar[bool] = True
    #: Extras offered to the level-2 model of a stack.
    stack_extras: ClassVar[tuple[str, ...]] = ()
    features: str | Sequence[str] | None = None
    robust: bool = False

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this model cannot be fitted here (an optional package missing), or None."""
        return None

    # ------------------------------------------------------------------ parameters
    def get_params(self) -> dict[str, Any]:
        """The keyword arguments of ``__init__`` with their current values."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def clone(self) -> Self:
        """An unfitted copy with the same parameters."""
        return type(self)(**self.get_params())

    # ------------------------------------------------------------------ fit / predict
    def fit(self, data: MetaData, train_task_ids: Sequence[int] | np.ndarray | None = None) -> Self:
        """Fit on the ``train_task_ids`` rows of ``data`` (default: all tasks)."""
        ids = data.task_ids if train_task_ids is None else np.asarray(train_task_ids, dtype=int)
        rows = data.rows(ids)
        if len(rows) < 2:
            raise MetaModelError(f"{self.name} needs at least 2 training tasks, got {len(rows)}")
        frame = data.metafeatures.iloc[rows]
        self.transform_ = MetaFeatureTransform.fit(frame, self.features, robust=self.robust)
        self.config_ids_ = data.config_ids.copy()
        self.encodings_ = data.encodings.copy()
        self.default_config_id_ = data.default_config_id
        self.train_task_ids_ = data.task_ids[rows]
        self._fit(data, rows, self.transform_.transform(frame), data.normalised[rows])
        return self

    def predict_batch(
        self, metafeatures: MetaFeatures, candidates: Candidates = None
    ) -> BasePrediction:
        """Predictions for every task (row) of ``metafeatures`` and every candidate."""
        self._check_fitted()
        idx, enc = self.resolve(candidates)
        return self._predict(self.transform_.transform(metafeatures), idx, enc)

    def predict(self, metafeatures: MetaFeatures, candidates: Candidates = None) -> pd.DataFrame:
        """One task: a frame with ``config_id`` (-1 for an unknown encoding), ``score``
        and the extras (``uncertainty`` when the model has one)."""
        pred = self.predict_batch(_one_task(metafeatures), candidates)
        idx, _ = self.resolve(candidates)
        out = {"config_id": np.where(idx >= 0, self.config_ids_[idx], -1), "score": pred.score[0]}
        out |= {k: np.broadcast_to(v, pred.score.shape)[0] for k, v in pred.extras.items()}
        return pd.DataFrame(out)

    def resolve(self, candidates: Candidates) -> tuple[np.ndarray, np.ndarray]:
        """Candidate positions among the known configurations (-1: unknown) and encodings."""
        self._check_fitted()
        if candidates is None:
            return np.arange(len(self.config_ids_)), self.encodings_
        arr = np.asarray(candidates)
        if arr.ndim == 2:
            enc = arr.astype(float)
            if enc.shape[1] != self.encodings_.shape[1]:
                raise MetaModelError(
                    f"candidate encodings have {enc.shape[1]} columns, expected "
                    f"{self.encodings_.shape[1]}"
                )
            same = np.isclose(enc[:, None, :], self.encodings_[None, :, :]).all(axis=2)
            return np.where(same.any(axis=1), same.argmax(axis=1), -1), enc
        pos = pd.Index(self.config_ids_).get_indexer(arr.astype(np.int64).ravel())
        if (pos < 0).any():
            raise MetaModelError(f"unknown configuration id(s): {arr.ravel()[pos < 0].tolist()}")
        return pos, self.encodings_[pos]

    # ------------------------------------------------------------------ persistence
    def get_state(self) -> ModelState:
        """The fitted model as JSON config + arrays + booster strings (no pickle)."""
        self._check_fitted()
        tconfig, tarrays = self.transform_.get_state()
        config, arrays, boosters = self._get_state()
        default = self.default_config_id_
        config = {
            "params": _jsonable(self.get_params()),
            "transform": tconfig,
            "default_config_id": None if default is None else int(default),
            **config,
        }
        arrays = {
            **{f"transform.{k}": v for k, v in tarrays.items()},
            "config_ids": self.config_ids_,
            "encodings": self.encodings_,
            "train_task_ids": self.train_task_ids_,
            **arrays,
        }
        return ModelState(self.name, config, arrays, boosters)

    @classmethod
    def from_state(cls, state: ModelState) -> MetaModel:
        """Rebuild a fitted model (of the registered class named in ``state.kind``)."""
        try:
            klass = MODEL_REGISTRY[state.kind]
        except KeyError:
            raise MetaModelError(
                f"unknown meta-model {state.kind!r}; registered: {sorted(MODEL_REGISTRY)}"
            ) from None
        model = klass(**state.config["params"])
        tarrays = {
            k.split(".", 1)[1]: v for k, v in state.arrays.items() if k.startswith("transform.")
        }
        model.transform_ = MetaFeatureTransform.from_state(state.config["transform"], tarrays)
        model.config_ids_ = np.asarray(state.arrays["config_ids"], dtype=np.int64)
        model.encodings_ = np.asarray(state.arrays["encodings"], dtype=float)
        model.train_task_ids_ = np.asarray(state.arrays["train_task_ids"], dtype=np.int64)
        model.default_config_id_ = state.config["default_config_id"]
        model._set_state(state.config, state.arrays, state.boosters)
        return model

    # ------------------------------------------------------------------ subclass hooks
    def _fit(self, data: MetaData, rows: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, X: np.ndarray, idx: np.ndarray, enc: np.ndarray) -> BasePrediction:
        raise NotImplementedError

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str]]:
        return {}, {}, {}

    def _set_state(
        self,
        config: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        boosters: Mapping[str, str],
    ) -> None:
        return None

    def _check_fitted(self) -> None:
        if not hasattr(self, "transform_"):
            raise MetaModelError(f"{type(self).__name__} is not fitted; call fit() first")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _one_task(metafeatures: MetaFeatures) -> MetaFeatures:
    if isinstance(metafeatures, pd.DataFrame) and len(metafeatures) != 1:
        raise MetaModelError(f"predict() takes one task, got {len(metafeatures)} rows")
    return metafeatures


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def top1_regrets(pred: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per task, the regret of its highest-predicted evaluated candidate."""
    p = np.where(np.isnan(Y), -np.inf, np.nan_to_num(pred, nan=-1e9))
    return 1.0 - Y[np.arange(len(Y)), np.argmax(p, axis=1)]


def top1_regret(pred: np.ndarray, Y: np.ndarray) -> float:
    """Mean regret of each task's highest-predicted evaluated candidate."""
    return float(np.mean(top1_regrets(pred, Y)))


def first_evaluated(key: np.ndarray, Y: np.ndarray, k: int) -> np.ndarray:
    """Column positions (tasks × ``k``) of each task's ``k`` first evaluated candidates
    (finite ``Y``), ranked by ``key`` (higher first, NaN last, ties in column order); a task
    with fewer fills up with unevaluated ones (NaN in ``Y``)."""
    evaluated = np.isfinite(Y)
    order_key = np.where(evaluated, -np.nan_to_num(key, nan=-np.inf), np.inf)
    return np.lexsort((order_key, ~evaluated), axis=-1)[:, :k]


def pick_regrets(
    key: np.ndarray, Y: np.ndarray, default: int | None, top: int = 5
) -> dict[str, np.ndarray]:
    """Per task (rows of normalised ``Y``, 1 = best): the ``top`` first evaluated candidates
    ranked by ``key`` (``first``), the regret of the first (``top1``), of the best of them
    (``topk``), and whether the first is worse than column ``default`` (``worse``: 1/0, NaN
    where the default is not evaluated or ``default`` is None)."""
    first = first_evaluated(key, Y, top)
    picks = np.take_along_axis(Y, first, axis=1)
    base = Y[:, default] if default is not None else np.full(len(Y), np.nan)
    worse = np.where(np.isfinite(base), picks[:, 0] < base - 1e-12, np.nan)
    return {
        "first": first,
        "top1": 1.0 - picks[:, 0],
        "topk": 1.0 - masked_max(picks, axis=1),
        "worse": worse.astype(float),
    }


def best_of_top(positions: np.ndarray, Y: np.ndarray, k: int = 5) -> float:
    """Mean regret of the best of each task's first ``k`` evaluated candidates, in ranking
    ``positions`` (tasks × candidates, 0 = first)."""
    first = first_evaluated(-positions.astype(float), Y, k)
    return float(np.mean(1.0 - masked_max(np.take_along_axis(Y, first, axis=1), axis=1)))


def nan_mean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean ignoring NaN, NaN where every value is NaN (no warning)."""
    count = (~np.isnan(values)).sum(axis=axis)
    total = np.nansum(values, axis=axis)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def masked_max(values: np.ndarray, axis: int) -> np.ndarray:
    """Max ignoring NaN, -inf where every value is NaN (no warning)."""
    return np.where(np.isnan(values), -np.inf, values).max(axis=axis)


def lgb_params(**overrides: Any) -> dict[str, Any]:
    """Deterministic, quiet LightGBM parameters for small meta-datasets."""
    params = {
        "verbosity": -1,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "seed": 0,
    }
    return params | overrides
