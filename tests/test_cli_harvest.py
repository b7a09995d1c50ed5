"""`autometa harvest local`: user mistakes are one line and exit code 2, Ctrl-C says how to
resume (small generated data files, no real corpus)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

import autometa.harvest.local as local
from autometa.cli import cli
from autometa.exceptions import HarvestError
from autometa.harvest import harvest_local, read_corpus
from autometa.store import open_store


def _data(folder: Path, n: int = 2) -> list[Path]:
    """``n`` small binary-classification CSVs (target ``y``) of different shapes."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        rows, cols = 60 + 20 * i, 3 + i
        X = rng.normal(size=(rows, cols))
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(cols)])
        frame["y"] = (X[:, 0] + rng.normal(size=rows) > 0).astype(int)
        paths.append(folder / f"d{i}.csv")
        frame.to_csv(paths[-1], index=False)
    return paths


def _harvest(*args: Any) -> Result:
    return CliRunner().invoke(cli, ["harvest", "local", *map(str, args), "--quiet"])


def _one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], result.output


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--max-units", "0", "x>=1"),
        ("--max-units", "-1", "x>=1"),
        ("--timeout", "0", "x>0"),
        ("--timeout", "-1", "x>0"),
        ("--timeout", "nan", "not a finite number"),
        ("--timeout", "inf", "not a finite number"),
        ("--families", "lightgbm=2,lightgbm=3", "lightgbm is listed twice"),
        ("--families", "lightgbm=", "expected FAMILY=COUNT"),
        ("--families", "lightgbm=0", "at least 1"),
        ("--families", ",", "no family"),
    ],
)
def test_bad_options_are_refused_up_front(
    tmp_path: Path, option: str, value: str, fragment: str
) -> None:
    store = tmp_path / "s.db"
    result = _harvest(_data(tmp_path, 1)[0], "--target", "y", "--store", f"sqlite:///{store}",
                      f"{option}={value}")  # fmt: skip
    _one_line_error(result, option, fragment)
    assert not store.exists()


def test_help_says_what_a_bare_family_means() -> None:
    result = CliRunner().invoke(cli, ["harvest", "local", "--help"])
    assert "without =COUNT gets 32" in " ".join(result.output.split())


def test_malformed_scheduler_address_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    store = f"sqlite:///{tmp_path / 's.db'}"
    result = _harvest(*_data(tmp_path), "--target", "y", "--store", store, "--scheduler", "bogus")
    _one_line_error(result, "bad Dask scheduler address 'bogus'", "tcp://HOST:PORT")
    with open_store(store) as s:
        assert s.tasks_frame().empty  # refused before any task was loaded


@pytest.mark.parametrize("header", ["name,target", "name,path", "path,target"])
def test_index_lacking_a_column_is_named(tmp_path: Path, header: str) -> None:
    _data(tmp_path, 1)
    values = {"name": "t/d0", "path": "d0.csv", "target": "y"}
    index = tmp_path / "index.csv"
    index.write_text(f"{header}\n{','.join(values[c] for c in header.split(','))}\n")
    missing = ({"name", "path", "target"} - set(header.split(","))).pop()
    result = _harvest(index, "--store", f"sqlite:///{tmp_path / 's.db'}")
    _one_line_error(result, "lacks column(s)", missing)


def test_index_is_not_mixed_with_data_files(tmp_path: Path) -> None:
    data = _data(tmp_path, 1)[0]
    index = tmp_path / "index.csv"
    index.write_text("name,path,target\nt/d0,d0.csv,y\n")
    result = _harvest(index, data, "--store", f"sqlite:///{tmp_path / 's.db'}")
    _one_line_error(result, "is a corpus index", "alone")
    empty = tmp_path / "empty.csv"
    empty.write_text("name,path,target\n")
    _one_line_error(_harvest(empty), "has no entries")


def test_data_file_with_name_and_target_columns_is_data_given_target(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    data = tmp_path / "people.csv"
    pd.DataFrame(
        {"name": [f"p{i}" for i in range(60)], "x": rng.normal(size=60), "target": [0, 1] * 30}
    ).to_csv(data, index=False)
    store = f"sqlite:///{tmp_path / 's.db'}"
    result = _harvest(data, "--target", "target", "--store", store, "--families", "linear=1",
                      "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tasks"] == 1
    # without --target the same header reads as a corpus index lacking path
    _one_line_error(_harvest(data, "--store", store), "lacks column(s) path")


def test_no_task_loaded_is_an_error(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    result = _harvest(*_data(tmp_path), "--target", "nope", "--store", store)
    _one_line_error(result, "no task could be loaded (2 of 2 failed)", "'nope' not found")


def test_no_task_loaded_by_a_bug_keeps_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(local, "register_task", broken)
    corpus = [local.CorpusEntry(name=p.stem, path=str(p)) for p in _data(tmp_path)]
    with open_store("sqlite://") as store, pytest.raises(RuntimeError) as info:
        harvest_local(store, corpus, {"linear": 1}, progress=False)
    assert "no task could be loaded (2 of 2 failed); d0 failed" in "".join(info.value.__notes__)


def test_read_corpus_rejects_an_empty_index(tmp_path: Path) -> None:
    index = tmp_path / "index.csv"
    index.write_text("name,path,target\n")
    with pytest.raises(HarvestError, match="has no entries"):
        read_corpus(index)


def test_ctrl_c_says_what_is_saved_and_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _data(tmp_path)
    store = f"sqlite:///{tmp_path / 's.db'}"
    args = [*files, "--target", "y", "--store", store, "--families", "linear=2", "--format", "json"]
    rows_for, calls = local.rows_for, []

    def interrupted(unit: Any, results: Any) -> list[Any]:
        calls.append(unit)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return rows_for(unit, results)

    monkeypatch.setattr(local, "rows_for", interrupted)
    result = _harvest(*args)
    assert result.exit_code == 130, result.output
    assert result.output.strip().splitlines() == [
        "interrupted: 2 configurations (24 rows) of this run are saved; run the same "
        "command again to resume"
    ]
    monkeypatch.setattr(local, "rows_for", rows_for)
    summary = json.loads(_harvest(*args).stdout)
    assert (summary["units_skipped"], summary["units_run"]) == (2, 2)
