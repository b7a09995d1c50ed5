"""Fitted stacks shipped with the package, so a fresh install answers without fitting.

``metadata_store/models/`` (installed as ``share/autometa/models``) holds one zip archive
per (family, task kind, default metric) of the shipped snapshot, each the folder
:func:`~autometa.meta.persist.save_stack` writes (JSON, ``.npz``, LightGBM model text: no
pickle), and ``models.json``: the knowledge-base checksum they were fitted on (derived
from the snapshot manifest's sha256s), the stack format version and each archive's
sha256. :func:`seed_cache` copies an archive into the user's cache only when all three
match; a stale or damaged one is ignored, and the stack is fitted as before.
``python scripts/build_models.py`` rebuilds them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Environment variable naming another folder of shipped models (tests, custom builds).
MODELS_ENV = "AUTOMETA_MODELS"
MANIFEST = "models.json"
#: The archives a build writes: every family, each task kind's default metric.
KINDS = ("classification", "regression")


def shipped_models_dir() -> Path | None:
    """$AUTOMETA_MODELS, the source tree's ``metadata_store/models`` or the installed copy."""
    candidates = [Path(os.environ[MODELS_ENV])] if os.environ.get(MODELS_ENV) else []
    candidates.append(Path(__file__).resolve().parents[2] / "metadata_store" / "models")
    candidates.append(Path(sys.prefix) / "share" / "autometa" / "models")
    for path in candidates:
        if (path / MANIFEST).is_file():
            return path
    return None


def seed_cache(target: Path, checksum: str) -> bool:
    """Unpack the shipped archive for cache entry ``target`` (named as
    :func:`~autometa.meta.persist._entry` names it) when one was built from the knowledge
    base whose checksum is ``checksum``; False when none applies or it fails its check."""
    from autometa.meta._cache import store
    from autometa.meta.persist import FORMAT_VERSION

    folder = shipped_models_dir()
    if folder is None:
        return False
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        digest = manifest["models"].get(target.name)
        fits = manifest["knowledge_base"] == checksum
        fits = fits and manifest["format_version"] == FORMAT_VERSION
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    archive = folder / f"{target.name}.zip"
    if not fits or digest is None or not archive.is_file():
        return False
    data = archive.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        return False
    try:
        store(lambda out: _unpack(archive, out), target)
    except (OSError, ValueError, zipfile.BadZipFile):
        return False
    return True


def _unpack(archive: Path, out: Path) -> None:
    """Extract ``archive`` into ``out``; names must be plain relative paths."""
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            parts = Path(name).parts
            if Path(name).is_absolute() or ".." in parts or len(parts) > 2:
                raise ValueError(f"unexpected member {name!r} in {archive}")
        zf.extractall(out)


def build(kb: Any, out: str | Path, families: Iterable[str] | None = None) -> dict[str, Any]:
    """Fit the stack of every (family, task kind, default metric) on ``kb`` and write the
    archives and ``models.json`` to ``out``; returns the manifest."""
    import tempfile

    from autometa.exceptions import MetaModelError
    from autometa.meta.persist import FORMAT_VERSION, kb_checksum, load_or_fit_learner
    from autometa.metrics import DEFAULT_METRICS
    from autometa.spaces import FAMILIES

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    models: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as cache:
        for family in families or FAMILIES:
            for kind in KINDS:
                try:
                    load_or_fit_learner(kb, family, kind, cache_dir=cache, on_fit=print)
                except MetaModelError as error:  # e.g. no regression tasks in this kb
                    print(f"skipped {family} {kind}: {error}")
        for entry in sorted(p for p in Path(cache).glob("*/*") if p.is_dir()):
            archive = out / f"{entry.name}.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
                for path in sorted(entry.rglob("*")):
                    if path.is_file():
                        info = zipfile.ZipInfo(path.relative_to(entry).as_posix())
                        info.compress_type = zipfile.ZIP_DEFLATED  # fixed date: same bytes
                        zf.writestr(info, path.read_bytes(), compresslevel=9)
            models[entry.name] = hashlib.sha256(archive.read_bytes()).hexdigest()
    manifest = {
        "knowledge_base": kb_checksum(kb),
        "format_version": FORMAT_VERSION,
        "metrics": dict(DEFAULT_METRICS),
        "models": models,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
