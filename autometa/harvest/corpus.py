"""A corpus: the list of datasets a local harvest evaluates configurations on."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from autometa.exceptions import HarvestError

REQUIRED_COLUMNS = ("name", "path", "target")


@dataclass(frozen=True)
class CorpusEntry:
    """One dataset of a corpus and how to read it."""

    name: str
    path: str
    target: str | None = None
    task_type: str | None = None
    group: str | None = None
    source: str = "local"
    source_id: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


def read_corpus(index: str | Path) -> list[CorpusEntry]:
    """Read a corpus index CSV (columns name, path, target; optional task_type, group, source,
    source_id, and any others, which are kept as provenance). Relative paths are resolved
    against the index's folder."""
    index = Path(index)
    if not index.is_file():
        raise HarvestError(f"corpus index {str(index)!r} does not exist")
    try:
        frame = pd.read_csv(index, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise HarvestError(f"cannot read corpus index {str(index)!r}: {exc}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise HarvestError(
            f"corpus index {str(index)!r} lacks column(s) {', '.join(missing)}; "
            f"required: {', '.join(REQUIRED_COLUMNS)}"
        )
    if frame.empty:
        raise HarvestError(f"corpus index {str(index)!r} has no entries")
    if frame["name"].duplicated().any():
        dupes = sorted(set(frame.loc[frame["name"].duplicated(), "name"]))[:5]
        raise HarvestError(f"corpus index has duplicate names: {', '.join(dupes)}")
    known = {"name", "path", "target", "task_type", "group", "source", "source_id"}
    entries = []
    for row in frame.to_dict("records"):
        path = Path(row["path"])
        if not path.is_absolute():
            path = index.parent / path
        extra = {k: _plain(v) for k, v in row.items() if k not in known and v != ""}
        entries.append(
            CorpusEntry(
                name=row["name"],
                path=str(path),
                target=row["target"] or None,
                task_type=row.get("task_type") or None,
                group=row.get("group") or None,
                source=row.get("source") or "local",
                source_id=row.get("source_id") or None,
                provenance=extra,
            )
        )
    return entries


def entries_from_files(
    paths: Sequence[str | Path], target: str | None = None, task_type: str | None = None
) -> list[CorpusEntry]:
    """A corpus made of plain data files (a user's own datasets)."""
    entries = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise HarvestError(f"dataset file {str(path)!r} does not exist")
        entries.append(
            CorpusEntry(
                name=f"local/{path.name}",
                path=str(path.resolve()),
                target=target,
                task_type=task_type,
                group=path.stem,
            )
        )
    return entries


def _plain(value: str) -> Any:
    """Provenance values: numbers and JSON literals parsed, everything else kept as text.

    Only values that read back as written are parsed, so a hash such as ``15094924684e7048``
    stays text (not ``inf``) and ``12e3`` stays ``"12e3"``.
    """
    try:
        parsed = json.loads(value)
    except (ValueError, TypeError):
        return value
    return parsed if json.dumps(parsed) == value else value
