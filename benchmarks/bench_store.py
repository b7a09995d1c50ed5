"""Write/read throughput of the store: SQLite file vs PostgreSQL, measured side by side.

    python benchmarks/bench_store.py [--rows 100000] [--batch 1000] [--repeat 3]
                                  [--postgres-url postgresql+psycopg://...]

Without --postgres-url a temporary, durable (fsync on) PostgreSQL cluster is started
(needs the server binaries, e.g. `apt-get install -y postgresql`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from autometa.store import EvaluationRecord, TaskRecord, open_store
from autometa.store.testing import find_pg_bin, temporary_postgresql

N_TASKS, N_FOLDS = 10, 10


def _rows(n_rows: int, task_ids: list[int], config_ids: list[int]) -> list[EvaluationRecord]:
    return [
        EvaluationRecord(
            task_ids[i % N_TASKS],
            config_ids[i // (N_TASKS * N_FOLDS)],
            (i // N_TASKS) % N_FOLDS,
            "roc_auc",
            0.5 + (i % 997) / 2000,
            fit_seconds=0.01,
        )
        for i in range(n_rows)
    ]


def _one_run(url: str, n_rows: int, batch: int) -> dict[str, float]:
    """rows/s for new rows, for re-sent rows (all duplicates), and for reading them back."""
    with open_store(url) as store:
        tasks = [
            store.add_task(TaskRecord(f"t{i}", "local", f"fp{i}", "binary", "y", 100, 5))
            for i in range(N_TASKS)
        ]
        n_configs = -(-n_rows // (N_TASKS * N_FOLDS))
        configs = [store.add_configuration("rf", {"i": i}, "1", f"h{i}") for i in range(n_configs)]
        rows = _rows(n_rows, tasks, configs)
        result = {}
        for label in ("insert", "duplicates"):
            start = time.perf_counter()
            inserted = sum(
                store.add_evaluations(rows[i : i + batch]) for i in range(0, n_rows, batch)
            )
            result[label] = n_rows / (time.perf_counter() - start)
            assert inserted == (n_rows if label == "insert" else 0)
        start = time.perf_counter()
        assert len(store.evaluations_frame()) == n_rows
        result["read"] = n_rows / (time.perf_counter() - start)
    return result


@contextmanager
def _sqlite_urls() -> Iterator[Callable[[], str]]:
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1_000))
        yield lambda: f"sqlite:///{Path(tmp) / f'bench{next(counter)}.db'}"


@contextmanager
def _postgres_urls(url: str | None) -> Iterator[Callable[[], str] | None]:
    if url is not None:
        yield lambda: url  # caller's database: reused, so pass an empty one per repeat
    elif find_pg_bin() is None:
        yield None
    else:
        with temporary_postgresql(durable=True) as server:
            yield server.create_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=100_000,
        help="evaluation rows written per run (default: 100000)",
    )
    parser.add_argument(
        "--batch", type=int, default=1_000, help="rows per add_evaluations call (default: 1000)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per backend, interleaved; medians shown (default: 3)",
    )
    parser.add_argument(
        "--postgres-url",
        help="an existing, empty PostgreSQL database (default: a temporary durable cluster)",
    )
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"sqlite": [], "postgresql": []}
    with _sqlite_urls() as sqlite_url, _postgres_urls(args.postgres_url) as pg_url:
        for _ in range(args.repeat):  # interleave backends so noise hits both alike
            results["sqlite"].append(_one_run(sqlite_url(), args.rows, args.batch))
            if pg_url is not None:
                results["postgresql"].append(_one_run(pg_url(), args.rows, args.batch))
    print(f"rows={args.rows:,} batch={args.batch:,} repeat={args.repeat} (median rows/s)")
    print(f"{'backend':<12}{'insert':>12}{'duplicates':>12}{'read':>12}{'insert vs sqlite':>18}")
    base = statistics.median(r["insert"] for r in results["sqlite"])
    for backend, runs in results.items():
        if not runs:
            print(f"{backend:<12}  (skipped: no server binaries and no --postgres-url)")
            continue
        med = {k: statistics.median(r[k] for r in runs) for k in ("insert", "duplicates", "read")}
        print(
            f"{backend:<12}{med['insert']:>12,.0f}{med['duplicates']:>12,.0f}"
            f"{med['read']:>12,.0f}{med['insert'] / base:>17.2f}x"
        )


if __name__ == "__main__":
    main()
