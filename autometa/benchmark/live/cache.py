"""The live check's resumable results: one JSON file of (dataset, method) cells, each keyed
by the protocol it was computed under."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autometa.benchmark.live.tasks import Task

#: Part of every cell's protocol id: a change of the scoring recomputes every cell.
PROTOCOL_VERSION = 1
#: The cache file's format; a file of another version is ignored.
CACHE_VERSION = 1


class Cache:
    """Results per (dataset, method) cell in a JSON file, rewritten atomically on change
    (``path=None``: in memory only)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = None if path is None else Path(path)
        self.cells: dict[str, dict[str, Any]] = {}
        if self.path is not None and self.path.is_file():
            data = json.loads(self.path.read_text())
            if data.get("version") == CACHE_VERSION:
                self.cells = data.get("cells", {})

    @staticmethod
    def key(dataset: str, method: str) -> str:
        """The cell's key in the file."""
        return f"{dataset}|{method}"

    def get(self, dataset: str, method: str, protocol: str) -> dict[str, Any] | None:
        """The cached cell, if computed under the same protocol (complete or not)."""
        cell = self.cells.get(self.key(dataset, method))
        return cell if cell is not None and cell.get("protocol") == protocol else None

    def put(self, dataset: str, method: str, cell: dict[str, Any]) -> None:
        """Store a cell (complete, or a partial TPE run) and write the file."""
        self.cells[self.key(dataset, method)] = cell
        self.save()

    def save(self) -> None:
        """Write the file (nothing without a path)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"version": CACHE_VERSION, "cells": self.cells}, indent=1))
        os.replace(tmp, self.path)


def protocol_id(task: Task, method_id: str, *, n_folds: int, seed: int, n_jobs: int) -> str:
    """What a cell's result depends on; a cached cell with another id is recomputed."""
    payload = [PROTOCOL_VERSION, task.content_id, method_id, n_folds, seed, n_jobs]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]


def config_hash(params: Mapping[str, Any]) -> str:
    """Short hash of a configuration (part of the single-best method's id)."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:12]
