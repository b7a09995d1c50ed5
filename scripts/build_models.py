"""Fit the shipped meta-models: one stack per (family, task kind, default metric) on the
shipped snapshot alone, written to ``metadata_store/models/`` as zip archives with
``models.json`` (the snapshot's checksum, the format version, each archive's sha256).

    python scripts/build_models.py [--out metadata_store/models] [--family lightgbm ...]

Rerun after the snapshot or the stack's defaults change: a fresh install only uses
archives whose checksum and format match, and fits the others itself.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from autometa.meta.shipped import build
from autometa.store.knowledge import knowledge_base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("metadata_store/models"))
    parser.add_argument("--family", action="append", help="default: every family")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)  # no archive of an older build stays behind
    manifest = build(knowledge_base(user=False), args.out, args.family)
    size = sum(p.stat().st_size for p in args.out.iterdir()) / 2**20
    print(f"{len(manifest['models'])} models, {size:.1f} MiB in {args.out}")


if __name__ == "__main__":
    main()
