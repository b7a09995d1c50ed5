"""`autometa recommend`'s helper process (autometa/cli/_worker.py): same answers, same
errors, and a fallback when it is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_breast_cancer, load_diabetes

from autometa.cli import cli
from autometa.cli._worker import RecommendWorker, WorkerLost, wanted
from autometa.data import load_dataset

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")


def _mixed_classification() -> pd.DataFrame:
    """Breast cancer with a categorical, a boolean and missing values added."""
    data = load_breast_cancer(as_frame=True)
    frame = data.data.copy()
    rng = np.random.default_rng(0)
    frame["grade"] = pd.cut(frame["mean radius"], 4, labels=["a", "b", "c", "d"]).astype(str)
    frame["flag"] = frame["mean texture"] > 20
    frame.loc[rng.random(len(frame)) < 0.1, "mean area"] = np.nan
    frame["diagnosis"] = data.target.map(dict(enumerate(data.target_names)))
    return frame


@pytest.fixture(scope="module")
def csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("worker")
    paths = {"cls": folder / "cancer.csv", "reg": folder / "diabetes.csv"}
    _mixed_classification().to_csv(paths["cls"], index=False)
    load_diabetes(as_frame=True).frame.to_csv(paths["reg"], index=False)
    return paths


def _cli(
    path: Path | str, *args: str, worker: str, tmp_path: Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess:
    """A fresh console-script process: with the helper (``worker=""``, the default) or
    without it (``"0"``)."""
    env = {k: v for k, v in os.environ.items() if k != "AUTOMETA_WORKER"}
    if worker:
        env["AUTOMETA_WORKER"] = worker
    env["AUTOMETA_STORE"] = f"sqlite:///{tmp_path / 'none.db'}"  # no user store
    command = [sys.executable, "-m", "autometa", "recommend", str(path), *args]
    done = subprocess.run(command, capture_output=True, input=stdin, env=env)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


@pytest.mark.parametrize(
    ("kind", "args", "count"),
    [
        ("cls", ("--top", "5", "--exclude-self"), 5),  # not stored: nothing to exclude
        ("reg", ("--top", "3"), 3),
        ("reg", ("--top", "2", "--race", "1"), 2),  # the helper races on its sample
    ],
)
def test_helper_process_answers_as_the_command_does_in_process(
    csvs: dict[str, Path], tmp_path: Path, kind: str, args: tuple[str, ...], count: int
) -> None:
    helped = _cli(csvs[kind], *args, "--format", "json", worker="", tmp_path=tmp_path)
    alone = _cli(csvs[kind], *args, "--format", "json", worker="0", tmp_path=tmp_path)
    assert helped.returncode == 0 and alone.returncode == 0, helped.stderr + alone.stderr
    assert helped.stdout == alone.stdout  # byte for byte: same ranking, scores, neighbours
    recs = json.loads(helped.stdout)["recommendations"]
    assert len(recs) == count
    assert all(r["race_score"] is not None for r in recs) == ("--race" in args)


def test_standard_input_with_the_helper(csvs: dict[str, Path], tmp_path: Path) -> None:
    args = ("--top", "2", "--format", "json")
    piped = _cli("-", *args, worker="", tmp_path=tmp_path, stdin=csvs["cls"].read_bytes())
    named = _cli(csvs["cls"], *args, worker="", tmp_path=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == named.stdout  # the answer depends on the content, not the name


def test_helper_errors_are_one_line_and_exit_2(csvs: dict[str, Path], tmp_path: Path) -> None:
    for args, expected in [
        (("--metric", "rmse"), "does not apply"),  # raised in the helper
        (("--target", "nope"), "not found"),  # raised here, while the helper still imports
    ]:
        done = _cli(csvs["cls"], *args, worker="", tmp_path=tmp_path)
        assert done.returncode == 2 and done.stdout == ""
        assert "Traceback" not in done.stderr and expected in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_a_lost_worker_is_reported_and_the_command_falls_back(
    csvs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # forked from this test process, which has run LightGBM: the helper must not run it
    # (see _worker's docstring), so it is only ever killed here
    dataset = load_dataset(_mixed_classification(), target="diagnosis")
    worker = RecommendWorker("sqlite://", None)
    worker._process.kill()
    worker._process.join()
    with pytest.raises(WorkerLost):
        worker.recommend(dataset)
    worker.close()

    original = RecommendWorker.recommend

    def killed_first(self: RecommendWorker, data: object, **kwargs: object) -> object:
        self._process.kill()  # the helper dies (OOM killer, a signal) before answering
        self._process.join()
        return original(self, data, **kwargs)

    monkeypatch.setattr(RecommendWorker, "recommend", killed_first)
    monkeypatch.setenv("AUTOMETA_WORKER", "1")
    monkeypatch.setenv("AUTOMETA_STORE", f"sqlite:///{tmp_path / 'none.db'}")
    args = ["recommend", str(csvs["cls"]), "--format", "json"]
    result = CliRunner().invoke(cli, args, obj={"fresh_process": True})
    assert result.exit_code == 0, result.output
    assert "continuing in this process" in result.stderr
    monkeypatch.setenv("AUTOMETA_WORKER", "0")
    assert json.loads(result.stdout) == json.loads(CliRunner().invoke(cli, args).stdout)


def test_when_a_helper_is_wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOMETA_WORKER", raising=False)
    assert not wanted(False)  # not the console script in a fresh process
    assert not wanted(True)  # this process has imported the meta-learner already
    for name in ("autometa.meta", "lightgbm", "sklearn"):
        monkeypatch.delitem(sys.modules, name)
    assert wanted(True)
    monkeypatch.setenv("AUTOMETA_WORKER", "0")
    assert not wanted(True)
    monkeypatch.setenv("AUTOMETA_WORKER", "1")
    assert wanted(False)
    monkeypatch.setattr(sys, "platform", "darwin")  # no fork there: work in-process
    assert not wanted(True)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_the_helper_never_outlives_the_command(signal_name: str, tmp_path: Path) -> None:
    import signal
    import time

    env = {**os.environ, "AUTOMETA_WORKER": "1"}
    env["AUTOMETA_STORE"] = f"sqlite:///{tmp_path / 'none.db'}"
    command = [sys.executable, "-m", "autometa", "recommend", "-"]
    # standard input stays open: the command waits for its data, the helper for the command
    parent = subprocess.Popen(command, stdin=subprocess.PIPE, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not (helpers := _children(parent.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert helpers, "no helper process started"
        time.sleep(1.0)  # the helper is importing and loading
        parent.send_signal(getattr(signal, signal_name))
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{h}").exists() for h in helpers) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = [h for h in helpers if Path(f"/proc/{h}/status").exists()]
        zombies = [h for h in alive if "zombie" in Path(f"/proc/{h}/status").read_text()]
        assert alive == zombies  # ended (a zombie waits for init to reap it)
    finally:
        parent.kill()
