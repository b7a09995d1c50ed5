"""The command-line tools outside the package: every benchmark answers --help, a bad input
is one line (no traceback), and the meta-feature reseeding build tool moves only seeded
meta-features."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from autometa.harvest.corpus import CorpusEntry

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))
sys.path.insert(0, str(ROOT / "scripts"))
from reseed_metafeatures import describe  # noqa: E402


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True)


def _one_line_error(done: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert done.returncode == code and "Traceback" not in done.stderr, done.stderr
    return done.stderr.strip().splitlines()[-1]


def test_scripts_holds_only_build_tools_and_benchmarks_are_listed() -> None:
    tools = {p.name for p in (ROOT / "scripts").iterdir() if p.suffix in (".py", ".sh")}
    assert tools == {
        "build_anchors.py", "build_corpus.py", "build_models.py", "build_store.sh", "install.sh",
        "reseed_metafeatures.py", "synthetic_tasks.py",
    }  # fmt: skip
    scripts_readme = (ROOT / "scripts" / "README.md").read_text()
    assert all(f"`{name}`" in scripts_readme for name in tools)
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    assert BENCHMARKS and all(f"`{p.name}`" in readme for p in BENCHMARKS)


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_every_benchmark_answers_help(script: Path) -> None:
    done = _run(script, "--help")
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_reseeding_moves_only_the_seeded_metafeatures(tmp_path: Path) -> None:
    frame = load_breast_cancer(as_frame=True).frame
    frame.to_csv(tmp_path / "bc.csv", index=False)
    entry = CorpusEntry(name="bc", path=str(tmp_path / "bc.csv"), target="target")
    name, fingerprint, seed0 = describe(0, None, entry)
    _, same_fingerprint, seed1 = describe(1000, None, entry)
    assert name == "bc" and fingerprint == same_fingerprint
    moved = {k for k in seed0 if not np.isclose(seed0[k] or 0.0, seed1[k] or 0.0)}
    assert "autometa.GBMHighAUC" in moved  # cross-validated on other folds
    assert "NumberOfInstances" not in moved and "ClassEntropy" not in moved
    assert "autometa.ProbeMaxGain" in moved  # the probes share the LightGBM landmarkers' folds
    landmarkers = ("AUC", "Kappa", "ErrRate", "autometa.Probe")
    assert moved <= {k for k in seed0 if any(part in k for part in landmarkers)}


def test_reseeding_names_a_bad_store_url_in_one_line() -> None:
    done = _run(ROOT / "scripts" / "reseed_metafeatures.py", "bogus://x")
    assert "unknown store URL scheme 'bogus'" in _one_line_error(done)


def test_draws_need_a_sqlite_store_file(tmp_path: Path) -> None:
    for url in ("postgresql://x/y", f"sqlite:///{tmp_path / 'none.db'}"):
        _one_line_error(_run(ROOT / "benchmarks" / "bench_draws.py", "--store", url))


def test_the_race_benchmark_names_a_missing_file_in_one_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "keys.npz")
    done = _run(ROOT / "benchmarks" / "bench_race.py", "bench", missing, missing)
    assert "keys.npz" in _one_line_error(done)


def test_the_live_check_names_a_missing_index_in_one_line(tmp_path: Path) -> None:
    args = ("--index", str(tmp_path / "none.csv"), "--no-cache", "--quiet")
    done = _run(ROOT / "benchmarks" / "live_check.py", *args)
    assert "no corpus index at" in _one_line_error(done, code=1)
    done = _run(ROOT / "benchmarks" / "live_check.py", *args, "--methods", "default,grid")
    assert "unknown method(s) grid" in _one_line_error(done, code=1)
