"""Save and load a :class:`~autometa.meta.data.MetaData` without pickle.

Cached beside a fitted stack, it lets a recommendation skip reading the knowledge base's
evaluations and rebuilding the score matrix. A folder: ``metadata.json`` (scalars and
each file's sha256), ``metadata.npz`` (``allow_pickle=False``) and two Parquet frames.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from autometa.exceptions import MetaModelError
from autometa.meta.data import MetaData

T = TypeVar("T")

FORMAT = "autometa-metadata"
FORMAT_VERSION = 1
_JSON, _NPZ, _TASKS, _FEATURES = (
    "metadata.json",
    "metadata.npz",
    "metadata-tasks.parquet",
    "metadata-features.parquet",
)
_ARRAYS = ("config_ids", "encodings", "scores", "normalised")


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_verified(root: Path, name: str, fmt: str, version: int, what: str) -> dict[str, Any]:
    """The JSON header ``root/name`` of a saved folder, after checking its format and the
    sha256 of every file it lists; MetaModelError (naming ``what``) otherwise."""
    try:
        doc = json.loads((root / name).read_text())
    except (OSError, ValueError) as exc:
        raise MetaModelError(f"cannot read saved {what} {root / name}: {exc}") from exc
    if doc.get("format") != fmt or doc.get("format_version") != version:
        raise MetaModelError(f"{root} holds no {fmt} v{version}")
    for file, digest in doc["files"].items():
        path = root / file
        if not path.is_file() or sha256(path) != digest:
            raise MetaModelError(f"saved {what} file {path} is missing or was modified")
    return doc


def save_metadata(data: MetaData, directory: str | Path) -> Path:
    """Write ``data`` into ``directory`` (created; its metadata files are replaced)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / _NPZ, **{name: np.asarray(getattr(data, name)) for name in _ARRAYS})
    data.tasks.to_parquet(out / _TASKS)
    data.metafeatures.to_parquet(out / _FEATURES)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "family": data.family,
        "task_kind": data.task_kind,
        "metric": data.metric,
        "direction": int(data.direction),
        "encoding_names": list(data.encoding_names),
        "default_config_id": data.default_config_id,
        "files": {name: sha256(out / name) for name in (_NPZ, _TASKS, _FEATURES)},
    }
    (out / _JSON).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return out


def load_metadata(directory: str | Path) -> MetaData:
    """Read what :func:`save_metadata` wrote; MetaModelError if missing, altered or
    unreadable in any way."""
    return read_or_refuse(_read_metadata, directory, "meta-data")


def read_or_refuse(read: Callable[[Path], T], directory: str | Path, what: str) -> T:
    """``read(directory)``, with whatever a damaged folder makes numpy, pyarrow or LightGBM
    raise turned into MetaModelError (so the caller refits instead of crashing)."""
    try:
        return read(Path(directory))
    except MetaModelError:
        raise
    except Exception as exc:
        raise MetaModelError(f"cannot load the saved {what} {directory}: {exc}") from exc


def _read_metadata(root: Path) -> MetaData:
    doc = read_verified(root, _JSON, FORMAT, FORMAT_VERSION, "meta-data")
    with np.load(root / _NPZ, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in _ARRAYS}
    default = doc["default_config_id"]
    return MetaData(
        family=doc["family"],
        task_kind=doc["task_kind"],
        metric=doc["metric"],
        direction=int(doc["direction"]),
        tasks=pd.read_parquet(root / _TASKS),
        metafeatures=pd.read_parquet(root / _FEATURES),
        encoding_names=tuple(doc["encoding_names"]),
        default_config_id=None if default is None else int(default),
        **arrays,
    )
