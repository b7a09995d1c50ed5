"""Claims of a harvest: its owner name, when another harvest's claim may be taken over,
and the units it may run (those no other live harvest is evaluating)."""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autometa.store.records import Claim

if TYPE_CHECKING:
    from autometa.harvest.local import HarvestSummary, Unit
    from autometa.store.sql import Store

#: Seconds added to a unit's longest run (dataset loading, a busy store, a slow scheduler).
CLAIM_MARGIN_S = 600.0
#: Age at which a claim is stale when the harvest has no timeout.
NO_TIMEOUT_STALE_S = 24 * 3600.0


def stale_after(timeout: float | None, n_folds: int) -> float:
    """Seconds after which another harvest's claim is taken over: a unit may wait behind
    one other on its worker, then run each fold up to ``timeout``, plus CLAIM_MARGIN_S."""
    if timeout is None:
        return NO_TIMEOUT_STALE_S
    return 2 * timeout * n_folds + CLAIM_MARGIN_S


@lru_cache(maxsize=1)
def _pid_space() -> str:
    """A short id of the process-id namespace this process runs in: on Linux the kernel's
    boot id and the pid namespace (containers of one host differ), elsewhere the host."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        space = f"{boot} {os.readlink('/proc/self/ns/pid')}"
    except OSError:
        space = socket.gethostname()
    return hashlib.sha256(space.encode()).hexdigest()[:12]


def owner_name() -> str:
    """A name unique to one harvest run: ``HOST/PID/PID-SPACE/RANDOM``."""
    host = socket.gethostname()[:120].replace("/", "_") or "host"
    return f"{host}/{os.getpid()}/{_pid_space()}/{uuid.uuid4().hex[:8]}"


def owner_is_gone(owner: str) -> bool:
    """Whether ``owner`` (an :func:`owner_name`) is a process of this machine's pid
    namespace that no longer runs; False whenever that cannot be known for sure."""
    parts = owner.rsplit("/", 3)
    if len(parts) != 4 or parts[2] != _pid_space() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid <= 0 or sys.platform == "win32":  # os.kill would end a Windows process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def unit_claim(unit: Unit, owner: str) -> Claim:
    """The claim of ``owner`` on ``unit``."""
    return Claim(unit.task_id, unit.config_id, unit.repeat, owner)


def claimed(
    store: Store,
    units: Iterable[Unit],
    owner: str,
    summary: HarvestSummary,
    *,
    stale: float,
    on_skip: Callable[[], Any],
) -> Iterator[Unit]:
    """The units of ``units`` that ``owner`` claims, each claimed as it is requested (just
    before it is dispatched). A unit another live harvest holds is counted in
    ``summary.units_claimed_elsewhere``, one found finished meanwhile in
    ``summary.units_skipped``; either calls ``on_skip``."""
    for unit in units:
        outcome = store.claim(
            unit_claim(unit, owner), unit.folds, stale_after=stale, reclaim=owner_is_gone
        )
        if outcome in ("claimed", "taken_over"):
            yield unit
            continue
        if outcome == "held":
            summary.units_claimed_elsewhere += 1
        else:
            summary.units_skipped += 1
        on_skip()
