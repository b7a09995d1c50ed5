#!/usr/bin/env python
"""Build the size anchors: subsamples of the large tables at 1k, 3k, 10k, 30k and 100k rows.

The corpus caps every table at 3,000 rows, so the knowledge base alone never sees how the best
configuration moves with the number of rows. For every catalog table with more rows than the
cap, and for the anchor-only tables of ``metadata_store/anchors.csv``, this writes a seeded
(stratified for classification) subsample at each anchor size up to the table's row count,
as ``<out>/<name>@<k>k.parquet``. The 3k anchor of a catalog table is its corpus file, so it
is not written again. Each anchor is its own task named ``<name>@<k>k`` in its table's
group: the leave-group-out benchmark holds all sizes of a table out together.

``<out>/index.csv`` lists every anchor and ``<out>/index_<k>k.csv`` the anchors of one size,
in the corpus index format, so that a harvest can go size by size (small ones first)::

    python scripts/build_anchors.py --wheels /tmp/am_wheels --out corpus/anchors
    autometa harvest local corpus/anchors/index_1k.csv --families lightgbm=32 --folds 3

Re-running skips anchors whose file is up to date (same entry, size, seed and format).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_corpus as bc  # this folder; a standalone build tool

REPO = Path(__file__).resolve().parents[1]
SIZES = (1000, 3000, 10000, 30000, 100000)
CORPUS_CAP = 3000


def label(size: int) -> str:
    """``1000`` -> ``1k``."""
    return f"{size // 1000}k"


def anchor_entries(catalog: pd.DataFrame, extra: pd.DataFrame, sizes: tuple[int, ...]) -> list:
    """(entry, size) pairs: catalog tables above the cap at every other size they reach,
    anchor-only tables at every size they reach."""
    pairs = []
    for frame, skip in ((catalog, {CORPUS_CAP}), (extra, set())):
        for _, entry in frame.iterrows():
            n = int(entry["n_rows"])
            if frame is catalog and n <= CORPUS_CAP:
                continue
            pairs += [(entry, s) for s in sizes if s <= n and s not in skip]
    return pairs


def build_anchor(entry: pd.Series, size: int, sources: bc.Sources, out: Path, seed: int) -> dict:
    """Write one anchor file; its index row."""
    name = f"{entry['name']}@{label(size)}"
    df = bc.prepare(bc.load_raw(entry, sources), entry)
    sub = bc.subsample(df, entry["target"], entry["task_type"], size, seed, entry["name"])
    path = out / bc.file_name(name)
    tmp = path.with_suffix(".parquet.tmp")
    sub.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    tmp.replace(path)
    row = {k: entry[k] for k in bc.CATALOG_COLUMNS}
    row.update(
        name=name,
        n_rows=len(sub),
        split="anchor",
        path=path.name,
        n_rows_original=len(df),
        subsampled=len(sub) < len(df),
        cap=size,
        seed=seed,
        build_key=bc.build_key(entry, size, seed),
        sha256=bc.sha256_file(path),
    )
    return row


def build(pairs: list, sources: bc.Sources, out: Path, seed: int) -> tuple[pd.DataFrame, list]:
    """Build every anchor not up to date; write the indexes; returns the index and problems."""
    out.mkdir(parents=True, exist_ok=True)
    old = {}
    if (out / "index.csv").exists():
        prev = pd.read_csv(out / "index.csv", dtype=str, keep_default_na=False)
        old = {r["name"]: r for r in prev.to_dict("records")}
    rows, problems = [], []
    for i, (entry, size) in enumerate(pairs, 1):
        name = f"{entry['name']}@{label(size)}"
        prior = old.get(name)
        if prior is not None and bc._reusable(prior, entry, out, size, seed):
            rows.append(prior)
            continue
        print(f"anchors: {i}/{len(pairs)} {name}", file=sys.stderr)
        try:
            rows.append(build_anchor(entry, size, sources, out, seed))
        except Exception as exc:  # one bad source must not stop the others
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    index = pd.DataFrame(rows, columns=[*bc.INDEX_COLUMNS])
    index.to_csv(out / "index.csv", index=False)
    for size in sorted({int(c) for c in index["cap"]}):
        part = index[index["cap"].astype(int) == size]
        part.to_csv(out / f"index_{label(size)}.csv", index=False)
    return index, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, required=True, help="wheels / unpacked sources")
    parser.add_argument("--out", type=Path, default=REPO / "corpus" / "anchors")
    parser.add_argument("--catalog", type=Path, default=REPO / "metadata_store" / "catalog.csv")
    parser.add_argument("--extra", type=Path, default=REPO / "metadata_store" / "anchors.csv")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="anchor row counts")
    parser.add_argument("--seed", type=int, default=0, help="subsampling seed (default: 0)")
    parser.add_argument("--no-download", action="store_true", help="never call pip download")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    read = lambda p: pd.read_csv(p, dtype={"drop": str}, keep_default_na=False)  # noqa: E731
    pairs = anchor_entries(read(args.catalog), read(args.extra), sizes)
    sources = bc.locate_sources(args.wheels, args.out / ".cache", download=not args.no_download)
    index, problems = build(pairs, sources, args.out, args.seed)
    for problem in problems:
        print("PROBLEM", problem, file=sys.stderr)
    print(f"{len(index)} anchors -> {args.out} in {time.perf_counter() - start:.1f}s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
