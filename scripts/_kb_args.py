"""Shared command line of the knowledge-base analysis scripts: --store and --kinds."""

from __future__ import annotations

import argparse
from typing import Any

from autometa.exceptions import AutometaError
from autometa.metrics import TASK_KINDS
from autometa.store.knowledge import knowledge_base


def add_kinds(parser: argparse.ArgumentParser) -> None:
    """``--kinds``: one or more task kinds, all by default."""
    parser.add_argument(
        "--kinds",
        nargs="+",
        default=list(TASK_KINDS),
        choices=list(TASK_KINDS),
        help="task kinds to evaluate (default: all)",
    )


def add_kind(parser: argparse.ArgumentParser) -> None:
    """Optional positional ``kind``: one task kind, classification by default."""
    parser.add_argument(
        "kind",
        nargs="?",
        default="classification",
        choices=list(TASK_KINDS),
        help="task kind (default: classification)",
    )


def parse_kb_args(doc: str, store_help: str) -> tuple[argparse.Namespace, Any]:
    """Parse ``--store URL`` and ``--kinds``; return the arguments and the knowledge base
    (the store alone when given, else the shipped snapshot)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--store", help=store_help)
    add_kinds(parser)
    args = parser.parse_args()
    try:
        kb = knowledge_base(args.store, shipped=args.store is None, user=args.store is not None)
    except AutometaError as exc:  # a bad URL or a missing store: one line, exit 2
        parser.error(str(exc))
    return args, kb
