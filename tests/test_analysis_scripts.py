"""The knowledge-base analysis scripts' own pieces: repeat views, reseeded meta-features and
the summary over meta-feature draws."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

from autometa.harvest.corpus import CorpusEntry
from autometa.store.snapshot import Snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from _repeats import repeat_view
from bench_draws import summarise
from bench_race import _raced_key
from reseed_metafeatures import describe


def test_repeat_view_keeps_one_repeat_of_folds() -> None:
    ev = pd.DataFrame(
        {"task_id": 1, "config_id": 1, "fold": range(6), "metric": "roc_auc", "value": 0.5}
    )
    kb = Snapshot({}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), ev)
    assert repeat_view(kb, 0).evaluations["fold"].tolist() == [0, 1, 2]
    assert repeat_view(kb, 1).evaluations["fold"].tolist() == [3, 4, 5]
    assert repeat_view(kb, None).evaluations["fold"].tolist() == list(range(6))


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


def test_a_bad_store_url_is_one_line_and_exit_2() -> None:
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    for script, args in (
        ("repeat_check.py", ["--store", "bogus://x"]),
        ("reseed_metafeatures.py", ["bogus://x"]),
        ("repeat_oracle.py", ["--store", "bogus://x"]),
    ):
        done = subprocess.run(
            [sys.executable, str(scripts / script), *args], capture_output=True, text=True
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "unknown store URL scheme 'bogus'" in done.stderr.strip().splitlines()[-1]


def test_draws_are_summarised_with_their_mean_and_spread() -> None:
    def draw(top1: float) -> dict:
        row = {"regret_top1": top1, "regret_top5": 0.03, "pct_worse_than_default": 10.0}
        return {"task_kinds": {"regression": {"summary": {"stack": row}}}}

    text = summarise({0: draw(0.03), 1000: draw(0.05)}, ["stack", "knn"])
    assert "| stack | seed 1000 | 0.0500 | 0.0300 | 10.0 |" in text
    assert "| stack | mean +- sd | **0.0400** +- 0.0141 | **0.0300** +- 0.0000 |" in text
    assert "knn" not in text  # a method the benchmark did not report is left out


def test_draws_need_a_sqlite_store_file(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "bench_draws.py"
    for url in ("postgresql://x/y", f"sqlite:///{tmp_path / 'none.db'}"):
        done = subprocess.run(
            [sys.executable, str(script), "--store", url], capture_output=True, text=True
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr


def test_a_missing_corpus_index_is_one_line_and_exit_2(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "landmarker_noise.py"
    missing = str(tmp_path / "none.csv")
    done = subprocess.run(
        [sys.executable, str(script), "--index", missing], capture_output=True, text=True
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "does not exist" in done.stderr.strip().splitlines()[-1]


def test_the_race_benchmark_reorders_the_first_candidates_by_their_race_folds() -> None:
    class Data:  # what _raced_key reads of a MetaData
        config_ids = np.array([10, 11, 12, 13, 14])

    key = np.array([5.0, 4.0, 3.0, 2.0, 1.0])  # ranked 10, 11, 12, 13, 14
    y = np.array([0.9, 0.2, 1.0, np.nan, 0.5])  # 13 not evaluated on the task: not ranked
    folds = pd.DataFrame(
        {
            "config_id": [10] * 6 + [11] * 6 + [14] * 6,
            "fold": list(range(6)) * 3,
            # 10 wins the first repeat, 14 (the default) both together, 11 has a failed fold
            "value": [0.9, 0.9, 0.9, 0.1, 0.1, 0.1] + [1.0] * 5 + [None] + [0.6] * 6,
        }
    )
    one = _raced_key(key, y, folds, Data(), 2, 1, 4, +1)  # race the top 2 and the default
    assert list(Data.config_ids[np.argsort(-one)][:4]) == [11, 10, 14, 12]
    two = _raced_key(key, y, folds, Data(), 2, 2, 4, +1)  # 11 failed a fold: last of the race
    assert list(Data.config_ids[np.argsort(-two)][:4]) == [14, 10, 11, 12]
    lower = _raced_key(key, y, folds, Data(), 2, 2, 4, -1)  # lower is better (RMSE)
    assert list(Data.config_ids[np.argsort(-lower)][:3]) == [10, 14, 11]
    assert np.isneginf(one[3])  # the unevaluated one stays unranked


def test_the_race_benchmark_names_a_missing_file_in_one_line(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "bench_race.py"
    missing = str(tmp_path / "keys.npz")
    done = subprocess.run(
        [sys.executable, str(script), "bench", missing, missing], capture_output=True, text=True
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "keys.npz" in done.stderr.strip().splitlines()[-1]
