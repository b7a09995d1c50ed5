"""Save and load fitted stacks without pickle, and cache them per knowledge base.

A saved stack is a folder: ``stack.json`` (parameters, learned scalars, the layout of the
rest and each file's sha256), ``arrays.npz`` (read with ``allow_pickle=False``) and one
LightGBM model string per booster under ``boosters/``. Nothing in it can run code when
loaded. :func:`load_or_fit` keeps fitted stacks under
``$XDG_CACHE_HOME/autometa/models/<knowledge-base checksum>/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError
from autometa.meta import _cache
from autometa.meta._base import MetaModel, ModelState
from autometa.meta._fallback import FallbackRule
from autometa.meta._level2 import Level2
from autometa.meta._model_text import check_model_text
from autometa.meta._persist_data import (
    load_metadata,
    read_or_refuse,
    read_verified,
    save_metadata,
    sha256,
)
from autometa.meta.data import MetaData
from autometa.meta.stack import StackedMetaLearner
from autometa.store.base import KnowledgeBase
from autometa.store.snapshot import Snapshot

FORMAT = "autometa-metamodel"
FORMAT_VERSION = 4  # 2: the fallback rule; 3: learned nearest-task weights; 4: caution
_JSON, _NPZ, _BOOSTERS = "stack.json", "arrays.npz", "boosters"


def save_stack(stack: StackedMetaLearner, directory: str | Path) -> Path:
    """Write a fitted stack to ``directory`` (created; existing files are replaced)."""
    stack._check_fitted()
    out = Path(directory)
    (out / _BOOSTERS).mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {
        "stack.config_ids": stack.config_ids_,
        "stack.train_task_ids": stack.train_task_ids_,
    }
    if stack.pool_ is not None:
        arrays["stack.pool"] = stack.pool_
    boosters: dict[str, str] = {}
    bases = []
    for i, model in enumerate(stack.base_models_):
        state = model.get_state()
        arrays |= {f"base{i}.{k}": np.asarray(v) for k, v in state.arrays.items()}
        boosters |= {f"base{i}.{k}": v for k, v in state.boosters.items()}
        bases.append({"kind": state.kind, "config": state.config})
    l2_config, l2_arrays, l2_boosters = stack.level2_.get_state()
    arrays |= l2_arrays
    boosters |= l2_boosters
    novelty = next((i for i, m in enumerate(stack.base_models_) if m is stack.novelty_model_), None)
    if novelty is None:
        state = stack.novelty_model_.get_state()
        arrays |= {f"novelty.{k}": np.asarray(v) for k, v in state.arrays.items()}
        bases_novelty: Any = {"kind": state.kind, "config": state.config}
    else:
        bases_novelty = novelty
    for key, text in boosters.items():
        (out / _BOOSTERS / f"{key}.txt").write_text(text)
    if any(a.dtype == object for a in arrays.values()):
        raise MetaModelError("refusing to save object arrays (they would need pickle)")
    np.savez(out / _NPZ, **arrays)
    files = {_NPZ: sha256(out / _NPZ)}
    files |= {f"{_BOOSTERS}/{k}.txt": sha256(out / _BOOSTERS / f"{k}.txt") for k in boosters}
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "params": stack.get_params(),
        "meta": stack.meta_,
        "model_keys": stack.model_keys_,
        "base_models": bases,
        "novelty": bases_novelty,
        "level2": l2_config,
        "level2_kind": stack.level2_kind_,
        "level2_regret": stack.level2_regret_,
        "default_config_id": stack.default_config_id_,
        "default_margin": stack.default_margin_,
        "caution": stack.caution_,
        "diversify": stack.diversify_,
        "margin_curve": stack.margin_curve_.to_dict(orient="list"),
        "disagreement_threshold": _finite(stack.disagreement_threshold_),
        "fallback_rule": None if stack.fallback_rule_ is None else stack.fallback_rule_.to_dict(),
        "boosters": sorted(boosters),
        "files": files,
    }
    (out / _JSON).write_text(json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return out


def load_stack(directory: str | Path) -> StackedMetaLearner:
    """Read a stack written by :func:`save_stack`; MetaModelError if missing, altered or
    unreadable in any way (each LightGBM model string is checked before LightGBM reads
    it: a cut one would crash the process)."""
    return read_or_refuse(_read_stack, directory, "meta-model")


def _read_stack(root: Path) -> StackedMetaLearner:
    doc = read_verified(root, _JSON, FORMAT, FORMAT_VERSION, "meta-model")
    with np.load(root / _NPZ, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    boosters = {k: (root / _BOOSTERS / f"{k}.txt").read_text() for k in doc["boosters"]}
    for key, text in boosters.items():
        check_model_text(text, str(root / _BOOSTERS / f"{key}.txt"))
    stack = StackedMetaLearner(**doc["params"])
    stack.base_models_ = [
        MetaModel.from_state(_state(base, f"base{i}.", arrays, boosters))
        for i, base in enumerate(doc["base_models"])
    ]
    novelty = doc["novelty"]
    stack.base_models = [m.clone() for m in stack.base_models_]  # what a refit would use
    stack.novelty_model_ = (
        stack.base_models_[novelty]
        if isinstance(novelty, int)
        else MetaModel.from_state(_state(novelty, "novelty.", arrays, {}))
    )
    stack.level2_ = Level2.from_state(doc["level2"], arrays, boosters)
    stack.level2_kind_ = doc["level2_kind"]
    stack.level2_regret_ = doc["level2_regret"]
    stack.model_keys_ = doc["model_keys"]
    stack.meta_ = doc["meta"]
    stack.config_ids_ = arrays["stack.config_ids"]
    stack.train_task_ids_ = arrays["stack.train_task_ids"]
    stack.pool_ = arrays.get("stack.pool")
    stack.default_config_id_ = doc["default_config_id"]
    stack.default_margin_ = float(doc["default_margin"])
    stack.caution_ = float(doc["caution"])
    stack.diversify_ = int(doc.get("diversify", stack.diversify))  # older entries: the param
    stack.margin_curve_ = pd.DataFrame(doc["margin_curve"])
    threshold = doc["disagreement_threshold"]
    stack.disagreement_threshold_ = np.inf if threshold is None else float(threshold)
    stack.fallback_rule_ = FallbackRule.from_dict(doc["fallback_rule"])
    return stack


def _state(
    entry: Mapping[str, Any],
    prefix: str,
    arrays: Mapping[str, np.ndarray],
    boosters: Mapping[str, str],
) -> ModelState:
    n = len(prefix)
    return ModelState(
        kind=entry["kind"],
        config=dict(entry["config"]),
        arrays={k[n:]: v for k, v in arrays.items() if k.startswith(prefix)},
        boosters={k[n:]: v for k, v in boosters.items() if k.startswith(prefix)},
    )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


# ---------------------------------------------------------------------- cache
def cache_root() -> Path:
    """``$XDG_CACHE_HOME/autometa/models`` (``~/.cache`` when the variable is unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autometa" / "models"


def kb_checksum(kb: KnowledgeBase) -> str:
    """Identity of a knowledge base's content: the sha256s in its manifest(s); a source
    without them (a live store) is hashed from its frames, once per (read-only) object."""
    if not isinstance(kb, Snapshot):
        return _checksum(kb)
    if kb not in _CHECKSUMS:
        _CHECKSUMS[kb] = _checksum(kb)
    return _CHECKSUMS[kb]


_CHECKSUMS: weakref.WeakKeyDictionary[Snapshot, str] = weakref.WeakKeyDictionary()


def _checksum(kb: KnowledgeBase) -> str:
    digest = hashlib.sha256()
    leaves = _leaf_manifests(kb.manifest)
    if leaves and all("files" in m for m in leaves):
        for m in leaves:
            for table in sorted(m["files"]):
                digest.update(f"{table}:{m['files'][table]['sha256']};".encode())
        return digest.hexdigest()
    ev = kb.evaluations[["task_id", "config_id", "fold", "metric", "value", "status"]]
    for frame in (ev, kb.tasks[["fingerprint"]], kb.configurations[["config_hash"]]):
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(kb.metafeatures.fillna(-1e300)).to_numpy().tobytes())
    return digest.hexdigest()


def _leaf_manifests(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if "sources" in manifest and isinstance(manifest["sources"], list):
        return [leaf for m in manifest["sources"] for leaf in _leaf_manifests(m)]
    return [manifest]


def load_or_fit(
    kb: KnowledgeBase,
    family: str = "lightgbm",
    task_kind: str = "classification",
    metric: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    refit: bool = False,
    **params: Any,
) -> StackedMetaLearner:
    """The stack for (family, task kind, metric) on ``kb``: from the cache when this
    knowledge base and these parameters were fitted before, else fitted and cached."""
    return load_or_fit_learner(
        kb, family, task_kind, metric, cache_dir=cache_dir, refit=refit, **params
    )[0]


def load_or_fit_learner(
    kb: KnowledgeBase,
    family: str = "lightgbm",
    task_kind: str = "classification",
    metric: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    refit: bool = False,
    min_tasks: int = 2,
    on_fit: Callable[[str], None] | None = None,
    data: MetaData | None = None,
    on_warning: Callable[[str], None] | None = None,
    **params: Any,
) -> tuple[StackedMetaLearner, MetaData]:
    """Like :func:`load_or_fit`, with the stack's training MetaData (cached beside it, so
    a cached answer never reads the knowledge base's evaluations). MetaModelError when
    fewer than ``min_tasks`` tasks would train a new stack; ``on_fit`` is told (one line)
    before a stack is fitted rather than loaded. ``data``: that MetaData when the caller
    has already built it from ``kb``.

    A damaged entry is fitted again and replaced. Processes asking for the same missing
    entry at once fit it once (the others wait, then load it). Where the cache cannot be
    written, the stack is kept in memory for this process and ``on_warning`` is told so
    once (one line; without it, a :class:`~autometa.exceptions.CacheWarning`)."""
    from autometa.metrics import DEFAULT_METRICS

    metric = metric or DEFAULT_METRICS.get(task_kind, "")
    target = _entry(kb, family, task_kind, metric, cache_dir, params)
    found = None if refit else _cache.recall(target) or _cached(target, kb, data)
    if found is not None:
        return found
    with _cache.entry_lock(target) as error:  # another process may be fitting it
        found = None if refit else _seeded(target, kb, data, error)
        if found is None:
            where = f"cached in {target}" if error is None else "kept in memory (no usable cache)"
            found = _fit(kb, family, task_kind, metric, data, min_tasks, on_fit, where, params)
            error = error or _cache.try_store(lambda folder: _write(found, folder), target)
        if error is not None:
            _cache.remember(target, found)
            _cache.warn_uncached(target, error, on_warning)
        return found


def _cached(
    target: Path, kb: KnowledgeBase, data: MetaData | None
) -> tuple[StackedMetaLearner, MetaData] | None:
    """The stack and MetaData of cache entry ``target``; None when missing or damaged."""
    if not target.is_dir():
        return None
    try:
        stack = load_stack(target)
    except MetaModelError:
        return None  # a damaged entry is fitted again and replaced
    try:
        return stack, load_metadata(target)
    except MetaModelError:  # an entry from before meta-data was cached
        from autometa.meta.data import build_metadata

        meta = stack.meta_
        if data is None:
            data = build_metadata(kb, meta["family"], meta["task_kind"], meta["metric"])
        with contextlib.suppress(OSError):  # a read-only cache: built again next time
            _cache.store(lambda folder: save_metadata(data, folder), target, merge=True)
        return stack, data


def _seeded(
    target: Path, kb: KnowledgeBase, data: MetaData | None, error: OSError | None
) -> tuple[StackedMetaLearner, MetaData] | None:
    """Under the entry's lock: the entry another process finished meanwhile, or the
    shipped stack (unpacked into the cache, or into a temporary folder without one)."""
    from autometa.meta.shipped import seed_cache

    if error is None:
        if not target.is_dir():
            seed_cache(target, kb_checksum(kb))
        return _cached(target, kb, data)
    try:
        with tempfile.TemporaryDirectory(prefix="autometa-") as folder:
            entry = Path(folder) / target.name
            return _cached(entry, kb, data) if seed_cache(entry, kb_checksum(kb)) else None
    except OSError:
        return None


def _fit(
    kb: KnowledgeBase,
    family: str,
    task_kind: str,
    metric: str,
    data: MetaData | None,
    min_tasks: int,
    on_fit: Callable[[str], None] | None,
    where: str,
    params: dict[str, Any],
) -> tuple[StackedMetaLearner, MetaData]:
    from autometa.meta.data import build_metadata

    data = data if data is not None else build_metadata(kb, family, task_kind, metric)
    check_task_count(len(data.tasks), data, min_tasks)
    if on_fit is not None:
        on_fit(
            f"fitting the {family} meta-learner for {task_kind} ({metric}) on "
            f"{len(data.tasks)} stored tasks; done once per knowledge base, {where}"
        )
    return StackedMetaLearner(**params).fit(data), data


def _write(found: tuple[StackedMetaLearner, MetaData], folder: Path) -> None:
    save_stack(found[0], folder)
    save_metadata(found[1], folder)


def cached_metadata(
    kb: KnowledgeBase,
    family: str,
    task_kind: str,
    metric: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    **params: Any,
) -> MetaData | None:
    """The MetaData cached beside a fitted stack for these arguments, or None when no
    stack was cached (nothing is fitted and the evaluations are not read)."""
    from autometa.metrics import DEFAULT_METRICS

    metric = metric or DEFAULT_METRICS.get(task_kind, "")
    target = _entry(kb, family, task_kind, metric, cache_dir, params)
    kept = _cache.recall(target)  # fitted where no cache could be written
    if kept is not None or not target.is_dir():
        return None if kept is None else kept[1]
    try:
        return load_metadata(target)
    except MetaModelError:
        return None


def _entry(
    kb: KnowledgeBase,
    family: str,
    task_kind: str,
    metric: str,
    cache_dir: str | Path | None,
    params: dict[str, Any],
) -> Path:
    """The cache folder of a stack: knowledge base, family, kind, metric, parameters."""
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    return root / kb_checksum(kb)[:20] / f"{family}-{task_kind}-{metric}-{params_tag(params)}"


def params_tag(params: Mapping[str, Any]) -> str:
    """Eight hex digits naming the stack's full parameters (defaults count: a new default
    refits)."""
    full = StackedMetaLearner(**params).get_params()
    return hashlib.sha256(json.dumps(full, sort_keys=True, default=str).encode()).hexdigest()[:8]


def check_task_count(n_tasks: int, data: MetaData, min_tasks: int) -> None:
    """MetaModelError when ``n_tasks`` training tasks are fewer than ``min_tasks``."""
    if n_tasks < min_tasks:
        raise MetaModelError(
            f"the knowledge base holds only {n_tasks} {data.task_kind} tasks with "
            f"{data.family} evaluations of {data.metric}; at least {min_tasks} are needed"
        )
