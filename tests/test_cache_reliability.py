"""The fitted-model cache under faults: a damaged entry whose checksums still match, a
cache folder that cannot be written, and two processes fitting the same entry at once.

Real files and real processes throughout: the faults are made on disk, and the loads
that could crash the interpreter run in a child process.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris

from autometa.cli import cli
from autometa.exceptions import CacheWarning, MetaModelError
from autometa.meta._cache import swap_in
from autometa.meta._model_text import check_model_text
from autometa.meta._persist_data import load_metadata
from autometa.meta.persist import cached_metadata, load_or_fit_learner, load_stack
from autometa.store.snapshot import Snapshot
from tests.test_meta import _synthetic_kb

ROOT = Path(__file__).resolve().parent.parent

#: A child process: load_or_fit_learner on the synthetic knowledge base in cache argv[1];
#: every fit appends a line to argv[2]. With argv[3], it first waits for that many
#: siblings to be ready (files argv[2].ready-*), so that they all ask at once.
CHILD = """
import os, sys, time
from pathlib import Path
from autometa.meta.persist import load_or_fit_learner
from tests.test_meta import _synthetic_kb

cache, fits = Path(sys.argv[1]), Path(sys.argv[2])
kb = _synthetic_kb()
if len(sys.argv) > 3:
    Path(f"{fits}.ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while len(list(fits.parent.glob(fits.name + ".ready-*"))) < int(sys.argv[3]):
        assert time.monotonic() < deadline, "the sibling process never got ready"
        time.sleep(0.01)


def on_fit(line):
    with open(fits, "a") as out:
        out.write(f"{os.getpid()}\\n")
    time.sleep(0.5)  # a longer fit: the sibling asks while this one is fitting


stack, data = load_or_fit_learner(kb, cache_dir=cache, n_splits=3, on_fit=on_fit)
print(len(stack.predict_batch(data.metafeatures.iloc[:3])["order"]))
"""


@pytest.fixture(scope="module")
def kb() -> Snapshot:
    return _synthetic_kb()


def _child(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _entry(cache: Path) -> Path:
    (entry,) = [p for p in cache.glob("*/*")]
    return entry


def _rewrite_checksum(entry: Path, name: str) -> None:
    """Make stack.json's sha256 of ``name`` match its (damaged) content again."""
    doc = json.loads((entry / "stack.json").read_text())
    doc["files"][name] = hashlib.sha256((entry / name).read_bytes()).hexdigest()
    (entry / "stack.json").write_text(json.dumps(doc))


# ------------------------------------------------------- a damaged entry is refitted
def test_cut_lightgbm_model_with_matching_checksum_is_refitted(
    kb: Snapshot, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    load_or_fit_learner(kb, cache_dir=cache, n_splits=3)
    entry = _entry(cache)
    booster = max((entry / "boosters").glob("*.txt"), key=lambda p: p.stat().st_size)
    complete = booster.read_text()
    booster.write_text(complete[: len(complete) // 2])
    _rewrite_checksum(entry, f"boosters/{booster.name}")
    cut = Path(shutil.copytree(entry, tmp_path / "cut"))
    child = _child(cache, tmp_path / "fits")  # in a child: LightGBM used to abort it
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err[-2000:]
    assert len((tmp_path / "fits").read_text().splitlines()) == 1  # refitted, once
    assert _entry(cache) == entry and booster.read_text() == complete  # replaced
    load_stack(entry)
    fits: list[str] = []
    load_or_fit_learner(kb, cache_dir=cache, n_splits=3, on_fit=fits.append)
    assert fits == []  # the replaced entry loads
    with pytest.raises(MetaModelError, match="incomplete or damaged"):
        load_stack(cut)  # refused before LightGBM reads it


def test_model_text_check_refuses_every_cut_and_accepts_the_whole(
    kb: Snapshot, tmp_path: Path
) -> None:
    load_or_fit_learner(kb, cache_dir=tmp_path, n_splits=3)
    text = next((_entry(tmp_path) / "boosters").glob("*.txt")).read_text()
    check_model_text(text)
    for end in range(0, len(text) - len("null\n"), max(1, len(text) // 400)):
        with pytest.raises(MetaModelError):
            check_model_text(text[:end])
    wrong = text.replace("leaf_value=", "leaf_valve=", 1)  # a field LightGBM requires
    with pytest.raises(MetaModelError, match="lacks a required field"):
        check_model_text(wrong)
    with pytest.raises(MetaModelError, match="other than numbers"):
        check_model_text(text.replace("threshold=", "threshold=x", 1))


def test_unreadable_entry_files_are_refitted(kb: Snapshot, tmp_path: Path) -> None:
    load_or_fit_learner(kb, cache_dir=tmp_path, n_splits=3)
    entry = _entry(tmp_path)
    (entry / "arrays.npz").write_bytes(b"not a zip archive")
    _rewrite_checksum(entry, "arrays.npz")
    with pytest.raises(MetaModelError, match="cannot load"):
        load_stack(entry)
    meta = json.loads((entry / "metadata.json").read_text())
    (entry / "metadata-tasks.parquet").write_bytes(b"not parquet")
    meta["files"]["metadata-tasks.parquet"] = hashlib.sha256(b"not parquet").hexdigest()
    (entry / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(MetaModelError, match="cannot load"):
        load_metadata(entry)
    fits: list[str] = []
    load_or_fit_learner(kb, cache_dir=tmp_path, n_splits=3, on_fit=fits.append)
    assert len(fits) == 1
    load_stack(entry), load_metadata(entry)  # replaced: both load again


# ------------------------------------------------------------ no usable cache folder
def test_unusable_cache_answers_from_memory_and_warns_once(
    kb: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_folder))
    fits: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stack, data = load_or_fit_learner(kb, n_splits=3, on_fit=fits.append)
        again, _ = load_or_fit_learner(kb, n_splits=3, on_fit=fits.append)
    assert again is stack and len(fits) == 1 and "kept in memory" in fits[0]
    cache_warnings = [w for w in caught if issubclass(w.category, CacheWarning)]
    assert len(cache_warnings) == 1 and "cannot be written" in str(cache_warnings[0].message)
    assert len(stack.predict_batch(data.metafeatures.iloc[:3])["order"]) == 3
    assert cached_metadata(kb, "lightgbm", "classification", n_splits=3) is data
    lines: list[str] = []
    load_or_fit_learner(kb, n_splits=3, on_fit=fits.append, on_warning=lines.append, refit=True)
    assert len(lines) == 1 and len(fits) == 2  # told once, on the line it was given


def test_cli_recommend_without_a_usable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_folder))
    monkeypatch.setenv("AUTOMETA_STORE", f"sqlite:///{tmp_path / 'none.db'}")
    data = load_iris(as_frame=True)
    path = tmp_path / "iris.csv"
    data.frame.to_csv(path, index=False)
    result = CliRunner().invoke(cli, ["recommend", str(path), "--top", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and len(json.loads(result.stdout)["recommendations"])
    lines = [line for line in result.stderr.splitlines() if "model cache" in line]
    assert len(lines) == 1 and lines[0].startswith("autometa: warning:"), result.stderr


# ------------------------------------------------------------- two processes at once
def test_two_processes_fit_a_missing_entry_once(tmp_path: Path) -> None:
    cache, fits = tmp_path / "cache", tmp_path / "fits"
    children = [_child(cache, fits, 2) for _ in range(2)]
    results = [child.communicate(timeout=180) for child in children]
    for child, (_, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err[-2000:]
    assert [out.strip() for out, _ in results] == ["3", "3"]
    assert len(fits.read_text().splitlines()) == 1  # one fitted, the other waited and loaded
    entry = _entry(cache)  # nothing else left beside it: no lock, staging or old folder
    load_stack(entry), load_metadata(entry)


def test_swap_replaces_a_complete_entry_by_rename(tmp_path: Path) -> None:
    old, new = tmp_path / "entry", tmp_path / ".tmp-new"
    for folder, text in ((old, "old"), (new, "new")):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "file").write_text(text)
    swap_in(new, old)
    assert (old / "sub" / "file").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["entry"]  # the old one is gone too
