"""The documentation agrees with the shipped data and stays a user's documentation.

- every figure of `metadata_store/README.md`'s "Current content" table is the count that
  `autometa store info` gives for the shipped snapshot (so a stale README fails);
- the user docs do not tell the history of the work (that is `docs/research.md`'s);
- every relative markdown link of the README, `docs/` and `metadata_store/README.md` names
  an existing file.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from autometa.store import Snapshot, read_snapshot
from autometa.store.knowledge import info

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "metadata_store" / "snapshot"
STORE_README = ROOT / "metadata_store" / "README.md"
RESEARCH_LOG = ROOT / "docs" / "research.md"

#: Words that tell the history of the work rather than what the software does.
HISTORY = re.compile(r"session [0-9]+|rule R[0-9]|work period", re.IGNORECASE)
#: ``[text](target)``, not an image; the target up to a space or the closing parenthesis.
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s[^)]*)?\)")


def user_docs() -> list[Path]:
    """README.md, docs/*.md except the research log, and metadata_store/README.md."""
    docs = sorted(p for p in (ROOT / "docs").glob("*.md") if p != RESEARCH_LOG)
    return [ROOT / "README.md", *docs, STORE_README]


def linked_docs() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), STORE_README]


@cache
def shipped() -> Snapshot:
    return read_snapshot(SNAPSHOT)


@cache
def shipped_info() -> dict[str, Any]:
    """What `autometa store info --format json` reports as `shipped`."""
    return info(shipped())


def number(text: str) -> int:
    return int(text.replace(",", ""))


def content_table() -> list[tuple[str, int, str]]:
    """(what, count, store-info key) for each row of the README's "Current content" table."""
    section = STORE_README.read_text(encoding="utf-8").split("## Current content", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = re.findall(r"^\| (.+?) \| ([\d,]+) \| `([\w.]+)` \|$", section, flags=re.MULTILINE)
    return [(what, number(count), key) for what, count, key in rows]


def lookup(data: dict[str, Any], key: str) -> Any:
    for part in key.split("."):
        data = data[part]
    return data


def test_store_readme_table_covers_the_totals_and_every_family() -> None:
    keys = {key for _, _, key in content_table()}
    data = shipped_info()
    wanted = {"tasks.total", "configurations.total", "evaluations.total", "metafeatures.values"}
    wanted |= {f"tasks.by_task_type.{kind}" for kind in data["tasks"]["by_task_type"]}
    wanted |= {f"tasks.by_source.{source}" for source in data["tasks"]["by_source"]}
    for family in data["configurations"]["by_family"]:
        wanted |= {f"configurations.by_family.{family}", f"evaluations.by_family.{family}"}
    assert wanted <= keys, f"metadata_store/README.md does not state {sorted(wanted - keys)}"


def test_store_readme_figures_match_store_info() -> None:
    table = content_table()
    assert len(table) >= 10, "the Current content table of metadata_store/README.md is gone"
    wrong = [
        f"{what}: README {stated:,}, snapshot {actual:,} ({key})"
        for what, stated, key in table
        if stated != (actual := lookup(shipped_info(), key))
    ]
    assert not wrong, "metadata_store/README.md is stale:\n" + "\n".join(wrong)


def test_store_readme_prose_matches_the_snapshot() -> None:
    """The figures stated outside the table: meta-feature rows, qualities per kind, size, date."""
    text = STORE_README.read_text(encoding="utf-8")
    manifest = json.loads((SNAPSHOT / "manifest.json").read_text(encoding="utf-8"))
    rows = re.search(r"`metafeatures\.parquet` has ([\d,]+) rows", text)
    assert rows and number(rows.group(1)) == manifest["counts"]["metafeatures"]

    qualities = re.search(
        r"([\d,]+)\s+qualities per classification task and ([\d,]+) per regression task", text
    )
    assert qualities, "the qualities per task kind are not stated"
    long = pd.read_parquet(SNAPSHOT / "metafeatures.parquet", columns=["task_id"])
    kinds = shipped().tasks["task_type"].eq("regression")
    per_task = long.groupby("task_id").size()
    regression = kinds.reindex(per_task.index)
    assert set(per_task[~regression]) == {number(qualities.group(1))}
    assert set(per_task[regression]) == {number(qualities.group(2))}

    size = re.search(r"([\d.]+) MB on disk", text)
    on_disk = sum(f["bytes"] for f in manifest["files"].values())
    assert size and float(size.group(1)) == round(on_disk / 1e6, 1)

    created = re.search(r"created on (\d{4}-\d{2}-\d{2})", text)
    assert created and manifest["created_at"].startswith(created.group(1))


def test_store_readme_task_totals_in_prose() -> None:
    """The sentence giving catalog rows, tasks, real and synthetic tasks and the size anchors
    (tasks named ``<table>@<k>k``) agrees with the data."""
    text = STORE_README.read_text(encoding="utf-8")
    match = re.search(
        r"([\d,]+)\s+catalog rows give ([\d,]+) tasks \(([\d,]+) real, ([\d,]+) synthetic\)",
        text,
    )
    assert match, "the task totals are not stated"
    anchors = re.search(r"size anchors add ([\d,]+) tasks", text)
    assert anchors, "the size anchors' task count is not stated"
    tasks = shipped_info()["tasks"]
    n_anchors = int(shipped().tasks["name"].str.contains("@", regex=False).sum())
    synthetic = tasks["by_source"].get("synthetic", 0)
    assert number(anchors.group(1)) == n_anchors
    assert number(match.group(2)) == tasks["total"] - n_anchors
    assert number(match.group(3)) == tasks["total"] - n_anchors - synthetic
    assert number(match.group(4)) == synthetic
    catalog_rows = len(pd.read_csv(ROOT / "metadata_store" / "catalog.csv"))
    assert number(match.group(1)) == catalog_rows


@pytest.mark.parametrize("path", user_docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_user_docs_tell_no_history_of_the_work(path: Path) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}"
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if HISTORY.search(line)
    ]
    assert not found, "history belongs in docs/research.md:\n" + "\n".join(found)


@pytest.mark.parametrize("path", linked_docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(path: Path) -> None:
    broken = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same file
        file = target.split("#", 1)[0]
        if not (path.parent / file).exists():
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)} links to missing files: {broken}"


def test_every_test_named_in_the_reliability_promises_exists() -> None:
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)", text)
    assert len(named) >= 30
    missing = [
        f"{path}::{name}"
        for path, name in named
        if f"def {name}(" not in (ROOT / path).read_text(encoding="utf-8")
    ]
    assert missing == []
