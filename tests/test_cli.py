"""The command line: contracts of the JSON output, and user mistakes as one line + exit 2."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris

from autometa import __version__
from autometa.cli import cli


@pytest.fixture
def iris_csv(tmp_path: Path) -> Path:
    frame = load_iris(as_frame=True).frame
    frame["species"] = frame.pop("target").map({0: "setosa", 1: "versicolor", 2: "virginica"})
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version_and_help() -> None:
    code, out, _ = run("--version")
    assert code == 0 and __version__ in out
    code, out, _ = run("--help")
    assert code == 0
    for command in ("metafeatures", "store", "harvest"):
        assert command in out


def _commands(group: click.Group, path: str = "autometa") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, f"{path} {name}")
        else:
            found.append((f"{path} {name}", command))
    return found


def test_every_command_and_option_is_explained_in_help() -> None:
    commands = _commands(cli)
    assert {"autometa recommend", "autometa harvest local", "autometa benchmark loo"} <= {
        name for name, _ in commands
    }
    unexplained = [
        f"{name} {param.opts[0]}"
        for name, command in commands
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden and not param.help
    ]
    assert unexplained == []
    assert [name for name, command in commands if not command.help] == []


def test_metafeatures_json_contract(iris_csv: Path) -> None:
    code, out, _ = run("metafeatures", str(iris_csv), "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert payload["task_type"] == "multiclass"
    assert len(payload["fingerprint"]) == 64
    assert payload["NumberOfInstances"] == 150
    assert payload["NumberOfClasses"] == 3
    assert payload["ClassEntropy"] == pytest.approx(1.584962500721156)  # log2(3)
    assert payload["MeanAttributeEntropy"] is None  # no nominal attributes: null, as OpenML
    flat = [k for k, v in payload.items() if isinstance(v, dict | list)]
    assert flat == []


def test_metafeatures_table_and_groups(iris_csv: Path) -> None:
    code, out, _ = run("metafeatures", str(iris_csv), "--group", "simple")
    assert code == 0
    assert "NumberOfInstances" in out and "kNN1NErrRate" not in out
    assert "150 rows, 4 features, task multiclass" in out


def test_target_and_task_options(iris_csv: Path) -> None:
    code, out, _ = run(
        "metafeatures", str(iris_csv), "--target", "petal length (cm)", "--format", "json"
    )
    assert code == 0 and json.loads(out)["task_type"] == "regression"
    code, _, err = run("metafeatures", str(iris_csv), "--task", "regression")
    assert code == 2 and "regression" in err.lower()


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        (None, (), "not found"),
        (b"", (), "empty"),
        (b"a,b,c\n", (), "no data rows"),
        (b"a,b\n1,2\n3,4\n5,6\n7,8\n9,1\n", ("--target", "zz"), "'zz'"),
        (b"a,b\n1,x\n2,x\n3,x\n4,x\n5,x\n6,x\n", (), "class"),
        (b"a,a,b\n1,2,x\n", (), "duplicate"),
        ("a,b\n1,caf\xe9\n2,th\xe9\n".encode("latin-1"), (), "encoding"),
    ],
)
def test_user_mistakes_are_one_line_exit_2(
    tmp_path: Path, content: bytes | None, args: tuple[str, ...], expected: str
) -> None:
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run("metafeatures", str(path), *args)
    assert code == 2
    assert out == "" and "Traceback" not in err
    assert expected.lower() in err.lower()
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("recommend", "DATA", "--top", "0"), "'--top': 0 is not in the range"),
        (("recommend", "DATA", "--model", "xgboost"), "'xgboost' is not one of"),
        (("recommend", "DATA", "--bogus"), "No such option '--bogus'"),
        (("recommend",), "Missing argument 'DATA'"),
        (("store", "nonsense"), "No such command 'nonsense'"),
        (("metafeatures", "DATA", "--format", "xml"), "'xml' is not one of"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    iris_csv: Path, args: tuple[str, ...], expected: str
) -> None:
    code, out, err = run(*(str(iris_csv) if a == "DATA" else a for a in args))
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [err.strip()]  # one line, no usage block
    assert err.startswith("Error: ") and expected in err and "--help')" in err


def test_dropped_columns_warn_on_stderr(tmp_path: Path) -> None:
    frame = load_iris(as_frame=True).frame
    frame.insert(0, "row_id", [f"r{i}" for i in range(len(frame))])
    frame.insert(1, "const", 1.0)
    path = tmp_path / "ids.csv"
    frame.to_csv(path, index=False)
    code, out, err = run("metafeatures", str(path), "--format", "json")
    assert code == 0
    assert "row_id" in err and "const" in err
    assert json.loads(out)["NumberOfFeatures"] == 5  # 4 kept features + target


def test_wide_data_announces_the_landmarkers_time(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(30, 500)), columns=[f"f{i}" for i in range(500)])
    frame["y"] = rng.integers(0, 2, 30)
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    code, _, err = run("metafeatures", str(path), "--group", "simple", "--format", "json")
    assert code == 0 and "computing meta-features" not in err  # no landmarkers asked for
    code, _, err = run("metafeatures", str(path), "--format", "json")
    assert code == 0 and "computing meta-features of 500 features" in err


def test_console_script_runs_as_a_process(iris_csv: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "autometa", "metafeatures", str(iris_csv), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["NumberOfInstances"] == 150
    bad = subprocess.run(
        [sys.executable, "-m", "autometa", "metafeatures", "/nonexistent.csv"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().startswith("Error:")
    version = subprocess.run(  # a command outside FAST_EXIT ends normally
        [sys.executable, "-m", "autometa", "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("autometa, version")


def test_same_data_same_fingerprint_across_formats(iris_csv: Path, tmp_path: Path) -> None:
    parquet = tmp_path / "iris.parquet"
    pd.read_csv(iris_csv).to_parquet(parquet)
    prints = [json.loads(run("metafeatures", str(p), "--format", "json")[1])["fingerprint"]
              for p in (iris_csv, parquet)]  # fmt: skip
    assert prints[0] == prints[1]


def test_data_from_standard_input_in_any_format(iris_csv: Path, tmp_path: Path) -> None:
    args = ["metafeatures", "-", "--format", "json"]
    expected = json.loads(run("metafeatures", str(iris_csv), "--format", "json")[1])
    parquet = tmp_path / "iris.parquet"
    pd.read_csv(iris_csv).to_parquet(parquet)
    arff = b"% iris\n@RELATION iris\n@ATTRIBUTE a NUMERIC\n@ATTRIBUTE c {x,y}\n@DATA\n"
    csv = iris_csv.read_bytes()
    for content in (csv, gzip.compress(csv), parquet.read_bytes()):
        result = CliRunner().invoke(cli, args, input=content)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == expected
    rows = b"".join(f"{i}.5,{'xy'[i % 2]}\n".encode() for i in range(40))
    result = CliRunner().invoke(cli, args, input=arff + rows)
    assert result.exit_code == 0 and json.loads(result.stdout)["NumberOfInstances"] == 40
    mistakes = {
        b"": "standard input is empty; pipe a data file in, e.g. `cat data.csv | autometa "
        "metafeatures -`",  # this command's words
        b"a,b\n": "standard input has a header but no",
    }
    for content, message in mistakes.items():
        result = CliRunner().invoke(cli, args, input=content)
        assert result.exit_code == 2 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_standard_input_is_copied_in_chunks_up_to_a_limit(
    iris_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autometa.cli._common as common

    monkeypatch.setattr(common, "MAX_STDIN_BYTES", 4096)  # 8 GiB by default
    args = ["metafeatures", "-", "--target", "species", "--format", "json"]
    result = CliRunner().invoke(cli, args, input=b"0" * 10_000)  # /dev/zero, cut short
    assert result.exit_code == 2 and "standard input is larger than" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    small = iris_csv.read_bytes()[:4000]  # within the limit: read as usual
    result = CliRunner().invoke(cli, args, input=small[: small.rfind(b"\n") + 1])
    assert result.exit_code == 0, result.output
