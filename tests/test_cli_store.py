"""`autometa store` and `autometa harvest` through the CLI, on a real harvested store."""

from __future__ import annotations

import json
from pathlib import Path

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
