"""`autometa store`: inspect, check and move the metadata store."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from autometa.cli._common import echo_json, echo_table, format_option, handle_errors

F = TypeVar("F", bound=Callable[..., Any])


def store_option(func: F) -> F:
    return click.option(
        "--store",
        "store_url",
        help="Your store of evaluations: a SQLite file (path.db or sqlite:///path.db) or "
        "postgresql+psycopg://user:pass@host/db. Default: $AUTOMETA_STORE if set, else "
        "store.db in your user data folder.",
    )(func)


@click.group("store")
def store_group() -> None:
    """Inspect, verify, export and import the metadata store."""


@store_group.command("info")
@store_option
@format_option
@handle_errors
def info_cmd(store_url: str | None, fmt: str) -> None:
    """Counts per model family, task type, metric and source.

    With --store: that store only. Without: the knowledge base recommendations use, i.e.
    the shipped snapshot plus your user store (if any), with each part and the union.
    Families harvested from OpenML flows without an autometa family (openml:...) show the
    space inferred from their stored configurations.
    """
    from autometa.harvest.openml import inferred_spaces
    from autometa.store import knowledge as kb
    from autometa.store import open_store

    if store_url is not None:
        with open_store(store_url, read_only=True) as store:
            info = store.info()
            if spaces := inferred_spaces(store):
                info["inferred_spaces"] = spaces
    else:
        info = {}
        if (path := kb.shipped_snapshot_dir()) is not None:
            info["shipped"] = {"path": str(path), **kb.info(kb.read_snapshot(path))}
        if kb.user_store_exists():
            with open_store(None, read_only=True) as store:
                info["user_store"] = store.info()
        knowledge = kb.knowledge_base()
        info["knowledge_base"] = kb.info(knowledge)
        if spaces := inferred_spaces(knowledge):
            info["inferred_spaces"] = spaces
    if fmt == "json":
        echo_json(info)
        return
    rows = []
    for section, value in info.items():
        if isinstance(value, dict):
            rows.extend((section, k, v) for k, v in _flatten(value))
        else:
            rows.append((section, "", value))
    echo_table(rows, headers=("section", "key", "value"))


def _flatten(mapping: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{name}."))
        else:
            out.append((name, value))
    return out


@store_group.command("verify")
@store_option
@format_option
@handle_errors
def verify_cmd(store_url: str | None, fmt: str) -> None:
    """Check integrity: checksums, config hashes, orphans, density.

    The store must exist. Exit code 1 when a problem is found."""
    from autometa.store import open_store

    with open_store(store_url, read_only=True) as store:
        report = store.verify(config_hasher=_config_hash)
    if fmt == "json":
        echo_json(report)
    else:
        click.echo("ok" if report["ok"] else "problems found:")
        for problem in report.get("problems", []):
            click.echo(f"  - {problem}")
        density = report.get("density", {})
        if density:
            echo_table(list(_flatten(density)), headers=("family/task type", "density"))
    if not report["ok"]:
        sys.exit(1)


def _config_hash(family: str, params: Any, space_version: str) -> str:
    """Recompute a configuration's hash with the current search space, when it can (the
    generic hash for a family without a space, e.g. ``openml:SVC``)."""
    from autometa.exceptions import SpaceError
    from autometa.spaces import generic_config_hash, get_space, has_space

    if not has_space(family):
        return generic_config_hash(family, params)
    try:
        return get_space(family).config_hash(params, version=space_version)
    except SpaceError as exc:  # unknown family or parameter: reported as a hash mismatch
        return f"invalid: {exc}"


@store_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@store_option
@click.option(
    "--build-command",
    help="The command that built the store, recorded in the manifest "
    "(default: this export command).",
)
@handle_errors
def export_cmd(directory: str, store_url: str | None, build_command: str | None) -> None:
    """Write the store as a Parquet snapshot with a manifest into DIRECTORY.

    DIRECTORY must be new, empty or an earlier snapshot, which is replaced only once the
    new one is complete. The store must exist."""
    from autometa.store import export_snapshot, open_store

    command = build_command or "autometa " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    with open_store(store_url, read_only=True) as store:
        manifest = export_snapshot(store, directory, build_command=command)
    click.echo(f"exported {manifest['counts']} to {directory}")


@store_group.command("import")
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
@store_option
@handle_errors
def import_cmd(directory: str, store_url: str | None) -> None:
    """Add a snapshot (checksums verified) to the store; importing twice adds nothing."""
    from autometa.store import import_snapshot, open_store

    with open_store(store_url) as store:
        counts = import_snapshot(directory, store)
    click.echo(f"imported {counts}")
