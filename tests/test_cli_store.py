"""`autometa store` and `autometa harvest` through the CLI, on a real harvested store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from autometa.cli import cli
from tests.test_harvest import _write_corpus


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_harvest_info_verify_export_import(tmp_path: Path) -> None:
    index = _write_corpus(tmp_path)
    url = f"sqlite:///{tmp_path / 'a.db'}"
    code, out, err = invoke(
        "harvest", "local", str(index), "--store", url, "--families", "lightgbm=2,linear=2",
        "--quiet", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["tasks"] == 3 and summary["units_run"] == 12 and summary["errors"] == 0
    assert summary["evaluations_per_minute"] > 0

    code, out, _ = invoke("store", "info", "--store", url, "--format", "json")
    info = json.loads(out)
    assert info["tasks"]["by_task_type"] == {"binary": 1, "multiclass": 1, "regression": 1}
    assert info["evaluations"]["by_family"] == {"lightgbm": 66, "linear": 66}
    assert set(info["evaluations"]["by_metric"]) == {
        "roc_auc", "log_loss", "accuracy", "balanced_accuracy", "rmse", "mae", "r2",
    }  # fmt: skip

    code, out, _ = invoke("store", "verify", "--store", url, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["ok"], report["problems"]
    assert report["density"]["lightgbm"]["binary"]["density"] == 1.0

    code, _, err = invoke("store", "export", str(tmp_path / "snap"), "--store", url)
    assert code == 0, err
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text())
    assert manifest["counts"]["evaluations"] == 132
    other = f"sqlite:///{tmp_path / 'b.db'}"
    for _ in range(2):  # importing twice adds nothing the second time
        code, _, err = invoke("store", "import", str(tmp_path / "snap"), "--store", other)
        assert code == 0, err
    code, out, _ = invoke("store", "info", "--store", other, "--format", "json")
    assert json.loads(out)["evaluations"]["total"] == 132


def test_corrupt_snapshot_is_one_line_error(tmp_path: Path) -> None:
    index = _write_corpus(tmp_path)
    url = f"sqlite:///{tmp_path / 'a.db'}"
    invoke("harvest", "local", str(index), "--store", url, "--families", "linear=1", "--quiet")
    invoke("store", "export", str(tmp_path / "snap"), "--store", url)
    (tmp_path / "snap" / "evaluations.parquet").write_bytes(b"garbage")
    code, _, err = invoke("store", "import", str(tmp_path / "snap"), "--store", url)
    assert code == 2 and "checksum" in err.lower() and "Traceback" not in err


def test_unknown_store_scheme_lists_valid_ones() -> None:
    code, _, err = invoke("store", "info", "--store", "mongodb://x/y")
    assert code == 2 and "sqlite" in err and "postgresql" in err


def test_a_store_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    code, _, err = invoke("store", "info", "--store", f"sqlite:///{tmp_path}")  # a directory
    assert code == 2 and "Traceback" not in err
    assert "unable to open database file" in err and len(err.strip().splitlines()) == 1


def _small_store(tmp_path: Path) -> str:
    from autometa.store import open_store
    from tests.test_store import _seed

    url = f"sqlite:///{tmp_path / 'small.db'}"
    with open_store(url) as store:
        _seed(store)
    return url


def test_read_only_commands_refuse_a_missing_store_file(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    assert invoke("store", "export", str(snap), "--store", _small_store(tmp_path))[0] == 0
    before = (snap / "manifest.json").read_text()
    typo = f"sqlite:///{tmp_path / 'typo.db'}"
    for args in (
        ("store", "info", "--store", typo),
        ("store", "verify", "--store", typo),
        ("store", "export", str(snap), "--store", typo),
        ("benchmark", "loo", "--store", typo, "--no-shipped"),
    ):
        code, _, err = invoke(*args)
        assert code == 2, (args, err)
        assert err.strip().splitlines() == [
            f"Error: Store file {tmp_path / 'typo.db'} does not exist; check the URL "
            "(commands that write, e.g. `autometa harvest`, create it)"
        ]
    assert not (tmp_path / "typo.db").exists()
    assert (snap / "manifest.json").read_text() == before  # the good snapshot is untouched
    code, out, _ = invoke("store", "info", "--store", "sqlite://", "--format", "json")
    assert code == 0 and json.loads(out)["tasks"]["total"] == 0  # in-memory still works


def test_verify_without_a_user_store_says_there_is_none_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUTOMETA_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    code, _, err = invoke("store", "verify")
    assert code == 2 and err.startswith("Error: There is no user store yet (")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "autometa" / "store.db").exists()


def test_export_refuses_a_directory_that_is_not_a_snapshot(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    code, _, err = invoke("store", "export", str(tmp_path / "docs"), "--store", "sqlite://")
    assert code == 2 and "is not an autometa snapshot" in err and "Traceback" not in err
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["a.txt"]


def test_bad_snapshot_content_and_schema_version_are_one_line(tmp_path: Path) -> None:
    import sqlite3

    from tests.test_store import _rewrite

    url = _small_store(tmp_path)
    invoke("store", "export", str(tmp_path / "snap"), "--store", url)
    _rewrite(tmp_path / "snap", "evaluations", lambda d: d.assign(fold="x"))  # checksum matches
    code, _, err = invoke("store", "import", str(tmp_path / "snap"), "--store", url)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "evaluations.parquet: column 'fold'" in err
    conn = sqlite3.connect(tmp_path / "small.db")
    conn.execute("UPDATE schema_info SET version = 'abc'")
    conn.commit()
    conn.close()
    code, _, err = invoke("store", "info", "--store", url)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "unreadable schema version 'abc'" in err
