"""The fitted-model cache's files: a lock per entry, an atomic swap into place, and what
happens when no cache can be written.

A process about to fit (or unpack) a cache entry first takes ``<entry>.lock``
(``fcntl.flock``; no lock where fcntl is missing), so a second process asking for the same
stack waits for the first one's fit and then loads it instead of fitting it again. The
lock file is removed by its holder (a waiter that finds it gone locks the new one). A
finished entry replaces the old one by ``rename``: readers see the old complete entry, no
entry, or the new complete one, never a half-written or half-removed folder. Where the
cache cannot be written at all (``XDG_CACHE_HOME`` names a file, a read-only folder), the
fitted stack is kept in memory for the process and one warning says so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from autometa.exceptions import CacheWarning

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows: no lock (the swap is still atomic)
    fcntl = None

#: Stacks fitted where no cache could be written, by entry path: kept for this process.
_MEMORY: dict[str, Any] = {}


@contextlib.contextmanager
def entry_lock(target: Path) -> Iterator[OSError | None]:
    """Hold ``<target>.lock`` while the block runs. Yields None, or the OSError that makes
    the cache unusable (its folder cannot be created or written; nothing is locked)."""
    path = target.with_name(f"{target.name}.lock")
    fd: int | None = None
    error: OSError | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire(path)
    except OSError as exc:
        error = exc
    try:
        yield error
    finally:
        if fd is not None:
            _release(fd, path)


def _acquire(path: Path) -> int:
    """An open descriptor of ``path``, exclusively locked (retried when the holder removed
    the file meanwhile: the lock must be on the file that is there)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a file system without locks (some network mounts): go on
            return fd
        except BaseException:
            os.close(fd)
            raise
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _release(fd: int, path: Path) -> None:
    """Remove the lock file while still holding it, then unlock (by closing)."""
    if fcntl is None:
        os.close(fd)
    with contextlib.suppress(OSError):
        path.unlink()
    if fcntl is not None:
        os.close(fd)


def store(write: Callable[[Path], Any], target: Path, merge: bool = False) -> None:
    """Let ``write`` fill a staging folder beside ``target``, then rename it to
    ``target`` (or, with ``merge``, rename its files into it), so a crash or a concurrent
    writer never leaves a half-written cache entry."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
    try:
        write(staging)
        if merge:
            for path in staging.iterdir():
                path.replace(target / path.name)
        else:
            swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def try_store(write: Callable[[Path], Any], target: Path) -> OSError | None:
    """:func:`store`, returning the OSError that prevented it (None when stored)."""
    try:
        store(write, target)
    except OSError as exc:
        return exc
    return None


def swap_in(staging: Path, target: Path) -> None:
    """Move the complete folder ``staging`` to ``target`` by ``rename``. An existing
    ``target`` is first renamed aside (and removed afterwards); if another writer puts a
    complete ``target`` in place between the two renames, that one is kept and
    ``staging`` is left for the caller to remove."""
    aside: Path | None = None
    if target.exists():
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=".old-"))
        with contextlib.suppress(FileNotFoundError):  # removed meanwhile
            target.rename(aside / target.name)
    try:
        staging.rename(target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)


def recall(target: Path) -> Any:
    """What :func:`remember` kept for ``target`` in this process, or None."""
    return _MEMORY.get(str(target))


def remember(target: Path, value: Any) -> None:
    """Keep ``value`` for ``target`` for the rest of this process (no usable cache)."""
    _MEMORY[str(target)] = value


def warn_uncached(target: Path, error: OSError, tell: Callable[[str], None] | None) -> None:
    """Say (one line) that the cache of ``target`` cannot be written: to ``tell`` when
    given, else as a :class:`~autometa.exceptions.CacheWarning`."""
    reason = f"{error.strerror}: {error.filename}" if error.strerror else str(error)
    message = (
        f"the model cache cannot be written ({reason}); the fitted meta-learner is kept "
        "in memory for this process only (set XDG_CACHE_HOME to a writable folder)"
    )
    if tell is not None:
        tell(message)
    else:
        warnings.warn(message, CacheWarning, stacklevel=3)
