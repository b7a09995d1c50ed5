"""Leave-group-out benchmark of search strategies on the stored evaluations
(``autometa.benchmark.search``): mean normalised regret and mean rank after 1, 3, 5, 10, 20
and 50 trials for random search, cold TPE, TPE with the stack's top five enqueued, and
MetaSampler.

    python benchmarks/bench_search.py [--kinds classification regression] [--seeds 0,1,2,3,4]
        [--trials 50] [--jobs 2] [--json search.json] [--checkpoint search.jsonl]
        [--meta KEY=VALUE ...]
    python benchmarks/bench_search.py --report search.jsonl [more.jsonl ...]   # tables only
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import pandas as pd

from autometa.benchmark.search import (
    BUDGETS,
    METHODS,
    benchmark_search,
    mean_rank,
    summarise_search,
)
from autometa.exceptions import AutometaError
from autometa.store.knowledge import knowledge_base


def _options(pairs: list[str]) -> dict[str, float | int | str | None]:
    """``KEY=VALUE`` pairs: None, an int, a float, else the text (``adapt=neural``)."""
    out: dict[str, float | int | str | None] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if value == "None":
            out[key] = None
            continue
        for kind in (int, float, str):
            try:
                out[key] = kind(value)
                break
            except ValueError:
                continue
    return out


def _markdown(table: pd.DataFrame, digits: int) -> str:
    head = "| method | " + " | ".join(f"{c} trials" for c in table.columns) + " |"
    rule = "|---|" + "---:|" * len(table.columns)
    rows = [
        f"| {name} | " + " | ".join(f"{v:.{digits}f}" for v in row) + " |"
        for name, row in table.iterrows()
    ]
    return "\n".join([head, rule, *rows])


def _print_tables(kind: str, results: pd.DataFrame, trials: int, note: str = "") -> None:
    budgets = [b for b in BUDGETS if b <= trials]
    tasks = results["task_id"].nunique()
    print(f"### {kind}: mean regret ({tasks} tasks{note})\n")
    print(_markdown(summarise_search(results, budgets), 4) + "\n")
    print(f"### {kind}: mean rank\n")
    print(_markdown(mean_rank(results, budgets), 2) + "\n")


def _report(paths: list[str], kinds: list[str], trials: int, plot: str | None) -> None:
    """The tables of finished searches in checkpoint files (e.g. separate method runs)."""
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    frame = pd.DataFrame(rows)
    for kind in kinds:
        _print_tables(kind, frame[frame["kind"] == kind], trials)
    if plot:
        _plot(frame, kinds, trials, plot)


def _plot(frame: pd.DataFrame, kinds: list[str], trials: int, path: str) -> None:
    """Mean regret after each trial, one panel per task kind (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 3.6), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        part = frame[frame["kind"] == kind]
        curves = summarise_search(part, range(1, trials + 1))
        for method, curve in curves.iterrows():
            ax.plot(curve.index, curve.to_numpy() + 1e-4, label=method)
        ax.set(title=kind, xlabel="trials", ylabel="mean regret (+1e-4)", yscale="log")
    axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", nargs="+", default=["classification", "regression"])
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--store", default=None, help="a store URL beside the snapshot")
    parser.add_argument("--json", help="write the per-search regret curves here")
    parser.add_argument(
        "--checkpoint", help="JSON-lines file of finished folds: a rerun resumes from it"
    )
    parser.add_argument("--meta", nargs="*", default=[], help="MetaSampler KEY=VALUE options")
    parser.add_argument(
        "--report", nargs="+", help="only print the tables of these checkpoint files (merged)"
    )
    parser.add_argument("--plot", help="with --report: write the regret curves to this PNG")
    args = parser.parse_args()
    if args.report:
        _report(args.report, args.kinds, args.trials, args.plot)
        return
    kb = knowledge_base(args.store)
    out = {}
    for kind in args.kinds:
        start = time.perf_counter()
        try:
            results = benchmark_search(
                kb, kind, methods=args.methods.split(","),
                seeds=[int(s) for s in args.seeds.split(",")], n_trials=args.trials,
                n_splits=args.splits or None, n_jobs=args.jobs,
                sampler_options=_options(args.meta), checkpoint=args.checkpoint,
                progress=lambda line: print(line, file=sys.stderr, flush=True),
            )  # fmt: skip
        except (AutometaError, ValueError) as exc:
            sys.exit(f"bench_search: {exc}")
        _print_tables(kind, results, args.trials, f", {time.perf_counter() - start:.0f} s")
        out[kind] = results.to_dict(orient="records")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh)


if __name__ == "__main__":
    main()
