"""Leave-group-out benchmark over several draws of the seeded meta-features.

The landmarkers' folds and the 2,000-row subsample of larger tables follow a seed, and one
draw moves the benchmark's stack top-1 by about +-0.002 (docs/research.md, "LightGBM
landmarkers on folds of their own"): judge small changes over several draws.

    python benchmarks/bench_draws.py --store sqlite:///work_store/kb.db --seeds 0,1000,2000
    python benchmarks/bench_draws.py --store ... -- --stack-param caution=1   # a stack variant

Seed 0 is the store as it is (the harvest's draw). For every other seed a copy of the SQLite
store gets every corpus task's meta-features recomputed with that seed
(``scripts/reseed_metafeatures.py``); then ``benchmarks/bench_loo.py --store COPY --json``
runs on each draw, with any arguments after ``--``. Copies and results are kept in ``--work``
and reused, so an interrupted run resumes. Prints, per task kind, each draw's rows for the
chosen methods and their mean and standard deviation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESEED = HERE.parent / "scripts" / "reseed_metafeatures.py"
MEASURES = (("regret_top1", 4), ("regret_top5", 4), ("pct_worse_than_default", 1))


def sqlite_path(url: str) -> Path:
    """The file behind a SQLite store URL or path (``resolve_url``); ValueError for any other
    store and for a file that is not there."""
    from autometa.exceptions import AutometaError
    from autometa.store._url import is_memory, resolve_url

    try:
        parsed = resolve_url(url)
    except AutometaError as exc:
        raise ValueError(str(exc)) from exc
    if parsed.get_backend_name() != "sqlite" or is_memory(parsed):
        raise ValueError(f"--store must be a SQLite file (a file to copy), got {url!r}")
    path = Path(str(parsed.database))
    if not path.is_file():
        raise ValueError(f"no store file at {path}")
    return path


def run_draw(store: Path, seed: int, work: Path, index: str, extra: list[str]) -> dict[str, Any]:
    """The benchmark's JSON for one draw (computed once, then read from ``work``)."""
    tag = hashlib.sha256(json.dumps(extra).encode()).hexdigest()[:8]
    out = work / f"loo-seed{seed}-{tag}.json"
    if not out.exists():
        db = store
        if seed != 0:
            db = work / f"{store.stem}-seed{seed}.db"
            if not db.exists():
                partial = db.with_suffix(".partial")
                shutil.copyfile(store, partial)
                reseed = [sys.executable, str(RESEED),
                          f"sqlite:///{partial}", "--seed", str(seed),
                          "--index", index]  # fmt: skip
                subprocess.run(reseed, check=True)
                partial.rename(db)
        bench = [sys.executable, str(HERE / "bench_loo.py"), "--store", f"sqlite:///{db}",
                 "--json", str(out), *extra]  # fmt: skip
        subprocess.run(bench, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def summarise(draws: dict[int, dict[str, Any]], methods: list[str]) -> str:
    """Markdown per task kind: each draw's methods, then their mean and sd over draws."""
    lines: list[str] = []
    kinds = next(iter(draws.values()))["task_kinds"]
    for kind in kinds:
        lines += [f"\n### {kind}\n", "| method | draw | top-1 regret | best-of-top-5 | % worse |",
                  "|---|---|---:|---:|---:|"]  # fmt: skip
        for method in methods:
            rows = {s: d["task_kinds"][kind]["summary"].get(method) for s, d in draws.items()}
            rows = {s: r for s, r in rows.items() if r is not None}
            for seed, r in rows.items():
                cells = " | ".join(f"{r[m]:.{p}f}" for m, p in MEASURES)
                lines.append(f"| {method} | seed {seed} | {cells} |")
            if len(rows) > 1:
                cells = " | ".join(
                    f"**{statistics.mean(r[m] for r in rows.values()):.{p}f}** +- "
                    f"{statistics.stdev(r[m] for r in rows.values()):.{p}f}"
                    for m, p in MEASURES
                )
                lines.append(f"| {method} | mean +- sd | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", required=True, help="the working store: a SQLite file or URL")
    parser.add_argument("--seeds", default="0,1000,2000", help="one draw per seed; 0 = as stored")
    parser.add_argument("--work", type=Path, default=Path("work_store/draws"),
                        help="where reseeded copies and results are kept and reused")  # fmt: skip
    parser.add_argument("--index", default="corpus/index.csv", help="the corpus to reseed")
    parser.add_argument("--methods", default="stack,stack_guarded,knn,surrogate,selector",
                        help="benchmark rows to show, comma-separated")  # fmt: skip
    parser.add_argument("bench_args", nargs="*", help="after --: passed on to bench_loo.py")
    args = parser.parse_args(argv)
    extra = args.bench_args
    try:
        store = sqlite_path(args.store)
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError as exc:
        parser.error(str(exc))
    args.work.mkdir(parents=True, exist_ok=True)
    draws = {}
    for seed in seeds:
        print(f"draw seed {seed} ...", file=sys.stderr)
        try:
            draws[seed] = run_draw(store, seed, args.work, args.index, extra)
        except subprocess.CalledProcessError as exc:  # the script printed its own reason
            parser.error(f"{Path(exc.cmd[1]).name} failed with exit {exc.returncode} (above)")
    print(summarise(draws, args.methods.split(",")))


if __name__ == "__main__":
    main()
