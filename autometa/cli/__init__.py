"""Command line interface: one click group with thin commands that call the library."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from autometa import __version__
from autometa.cli._benchmark import benchmark_group
from autometa.cli._harvest import harvest_group
from autometa.cli._metafeatures import metafeatures_cmd
from autometa.cli._recommend import recommend_cmd
from autometa.cli._store import store_group
from autometa.cli._tune import tune_cmd


class _OneLineErrors(click.Group):
    """A group whose usage errors (bad option values, missing arguments) print one line,
    ``Error: ... (see 'autometa recommend --help')``, not click's usage block."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from exc


def _one_line(exc: click.UsageError) -> click.UsageError:
    """The same error without its context, so click prints only its message line."""
    if exc.ctx is None or isinstance(exc, click.exceptions.NoArgsIsHelpError):
        return exc  # no context, or no arguments at all: click shows the help
    return click.UsageError(f"{exc.format_message()} (see '{exc.ctx.command_path} --help')")


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autometa")
def cli() -> None:
    """autometa: hyperparameter recommendations for tabular data, learned from prior runs.

    Typical use: `autometa recommend data.csv --target y`. Every command takes
    --help; JSON output (--format json) is stable for scripts. User mistakes
    exit with code 2 and one line on stderr.
    """


#: Read-only commands whose process may skip the interpreter's teardown.
FAST_EXIT = frozenset({"recommend", "metafeatures"})

cli.add_command(recommend_cmd)
cli.add_command(tune_cmd)
cli.add_command(metafeatures_cmd)
cli.add_command(store_group)
cli.add_command(harvest_group)
cli.add_command(benchmark_group)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point.

    As a console script (``argv`` None), the read-only commands end the process with
    ``os._exit`` once output is flushed: tearing down SciPy, scikit-learn and LightGBM
    takes a noticeable part of a short command, and nothing is left to write. Commands
    that write (harvest, store) or run worker pools exit normally.
    """
    if argv is not None or not FAST_EXIT.intersection(sys.argv[1:2]):
        cli.main(args=None if argv is None else list(argv), prog_name="autometa")
        return
    try:
        cli.main(prog_name="autometa", obj={"fresh_process": True})
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)
