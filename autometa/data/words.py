"""Each interface in its own words: a library message names ``target=``, the CLI's
``--target``.

Messages that tell the user which setting to change call :func:`setting`; the CLI runs its
commands inside :func:`cli_words`, so the same message says ``--task regression`` there
and ``task='regression'`` in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_CLI = [False]  # a process-wide switch: a forked helper inherits the command's words


def setting(name: str, value: str | None = None, *, placeholder: str | None = None) -> str:
    """How the user sets ``name`` (to ``value``) in the interface in use; without a value,
    the CLI's form names ``placeholder`` for it (``--target COLUMN``, ``target=``)."""
    if _CLI[0]:
        flag = f"--{name.replace('_', '-')}"
        shown = value if value is not None else placeholder
        return flag if shown is None else f"{flag} {shown}"
    return f"{name}=" if value is None else f"{name}={value!r}"


def in_cli() -> bool:
    """Whether messages speak the CLI's words now."""
    return _CLI[0]


@contextmanager
def cli_words() -> Iterator[None]:
    """Within this block, :func:`setting` speaks the CLI's words."""
    before = _CLI[0]
    _CLI[0] = True
    try:
        yield
    finally:
        _CLI[0] = before
