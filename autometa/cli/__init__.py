"""Command line interface: one click group with thin commands that call the library."""

from __future__ import annotations

from collections.abc import Sequence

import click

from autometa import __version__
from autometa.cli._benchmark import benchmark_group
from autometa.cli._harvest import harvest_group
from autometa.cli._metafeatures import metafeatures_cmd
from autometa.cli._recommend import recommend_cmd
from autometa.cli._store import store_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autometa")
def cli() -> None:
    """autometa: hyperparameter recommendations for tabular data, learned from prior runs.

    Typical use: `autometa recommend data.csv --target y`. Every command takes
    --help; JSON output (--format json) is stable for scripts. User mistakes
    exit with code 2 and one line on stderr.
    """


cli.add_command(recommend_cmd)
cli.add_command(metafeatures_cmd)
cli.add_command(store_group)
cli.add_command(harvest_group)
cli.add_command(benchmark_group)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="autometa")
