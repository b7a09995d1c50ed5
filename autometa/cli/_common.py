"""Helpers shared by the CLI commands: error handling, output, dataset options."""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from autometa.exceptions import AutometaError, DataError

F = TypeVar("F", bound=Callable[..., Any])

TASK_CHOICES = ("binary", "multiclass", "classification", "regression")
#: The DATA argument that means "read standard input".
STDIN = "-"
_SNIFF_BYTES = 1 << 16
#: Most bytes read from standard input (a file argument has no limit).
MAX_STDIN_BYTES = 8 << 30
_ARFF = re.compile(rb"^(?:[ \t\r]*(?:%[^\n]*)?\n)*[ \t]*@relation\b", re.IGNORECASE)


#: What the commands report as a user mistake: one line, exit code 2.
USER_ERRORS = (AutometaError, FileNotFoundError, PermissionError, IsADirectoryError)


class UserError(click.ClickException):
    """A user mistake: printed as one line, exit code 2 (like click's usage errors)."""

    exit_code = 2


def handle_errors(func: F) -> F:
    """Turn library errors into one clear line and exit code 2 instead of a traceback, in
    the CLI's words (:mod:`autometa.data.words`); the libraries' Python warnings stay off
    stderr (what matters reaches the user as autometa's own warning: and note: lines)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from autometa.data.words import cli_words

        try:
            with cli_words(), warnings.catch_warnings():  # messages name --options
                warnings.simplefilter("ignore")  # NumPy's and scikit-learn's: ours are lines
                return func(*args, **kwargs)
        except USER_ERRORS as exc:
            raise UserError(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def echo_json(payload: Any) -> None:
    """Print JSON with NaN/inf turned into null (strict JSON for scripts)."""
    click.echo(json.dumps(_json_safe(payload), indent=2, allow_nan=False))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _json_safe(value.item())
    return value


def echo_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    """Print a plain aligned text table."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        return f"{value:.6g}"
    return str(value)


def format_option(func: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="Output format; json is stable for scripts.",
    )(func)


def data_options(func: F) -> F:
    """Options shared by every command that reads a user's dataset."""
    options = [
        click.option(
            "--target",
            help="Target column (default: the last column, said on stderr; refused when it "
            "looks like an id or free text).",
        ),
        click.option(
            "--task",
            type=click.Choice(TASK_CHOICES),
            help="Override the inferred task type.",
        ),
        click.option("--encoding", default="utf-8", show_default=True, help="Text encoding."),
        click.option(
            "--categorical",
            multiple=True,
            help="Treat this column as categorical (repeatable).",
        ),
        click.option("--numeric", multiple=True, help="Treat this column as numeric (repeatable)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def load_user_dataset(
    path: str,
    target: str | None,
    task: str | None,
    encoding: str,
    categorical: Sequence[str],
    numeric: Sequence[str],
    echo: bool = True,
) -> Any:
    """Load a dataset for a command (``-``: standard input), echoing intake warnings to
    stderr (unless ``echo`` is False: the command prints them with its answer)."""
    from autometa.data import load_dataset

    options = dict(
        target=target,
        task=task,
        encoding=encoding,
        categorical=list(categorical) or None,
        numeric=list(numeric) or None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path != STDIN:
            dataset = load_dataset(path, **options)
        else:
            with tempfile.TemporaryDirectory(prefix="autometa-stdin-") as folder:
                file = spooled_stdin(Path(folder))
                try:
                    dataset = load_dataset(file, name="stdin", **options)
                except DataError as exc:
                    raise DataError(str(exc).replace(str(file), "standard input")) from exc
    for message in dataset.warnings if echo else ():
        click.echo(f"warning: {message}", err=True)
    return dataset


def _command_name() -> str:
    context = click.get_current_context(silent=True)
    return context.command_path.split()[-1] if context is not None else "recommend"


def spooled_stdin(folder: Path, limit: int | None = None) -> Path:
    """Standard input saved as ``folder/stdin.<format>[.gz]``, the format told by its
    content: Parquet (``PAR1``), ARFF (``@relation`` after comments), else delimited text;
    gzip-compressed input is recognised too. Copied in chunks, at most ``limit`` bytes
    (default :data:`MAX_STDIN_BYTES`): larger input is refused, not read into memory."""
    limit = MAX_STDIN_BYTES if limit is None else limit
    spool = folder / "stdin.bin"
    size = 0
    with spool.open("wb") as out:
        while chunk := sys.stdin.buffer.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise DataError(
                    f"standard input is larger than {limit / 2**30:.3g} GiB; save it to a "
                    "file and pass its path instead of -"
                )
            out.write(chunk)
    if size == 0:
        raise DataError(
            "standard input is empty; pipe a data file in, e.g. `cat data.csv | autometa "
            f"{_command_name()} -`"
        )
    with spool.open("rb") as raw:
        head = raw.read(_SNIFF_BYTES)
    gzipped = head[:2] == b"\x1f\x8b"
    if gzipped:
        with contextlib.suppress(OSError, EOFError), gzip.open(spool) as unpacked:
            head = unpacked.read(_SNIFF_BYTES)
    suffix = ".parquet" if head[:4] == b"PAR1" else ".arff" if _ARFF.match(head) else ".csv"
    file = folder / f"stdin{suffix}{'.gz' if gzipped else ''}"
    spool.rename(file)
    return file
