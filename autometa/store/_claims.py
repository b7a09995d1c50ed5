"""Claims: which running harvest evaluates which unit (task, configuration, repeat).

Each operation runs inside one write transaction (SQLite ``BEGIN IMMEDIATE``; on
PostgreSQL the holder's row is locked), so two harvests never both take one unit. Ages are
measured by the database's clock, so machines sharing a server need no common clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from sqlalchemy import Double, and_, cast, delete, extract, func, select, update
from sqlalchemy.engine import Connection

from autometa.store import schema as s
from autometa.store._ops import _insert
from autometa.store.records import Claim

ClaimOutcome = Literal["claimed", "taken_over", "held", "done"]
_UNIX_EPOCH_JULIAN_DAY = 2440587.5


def db_clock(conn: Connection) -> Any:
    """SQL for now, in seconds since the epoch, by the database's clock."""
    if conn.dialect.name == "postgresql":
        return cast(extract("epoch", func.clock_timestamp()), Double)
    return (func.julianday("now") - _UNIX_EPOCH_JULIAN_DAY) * 86400.0


def _where(claim: Claim) -> Any:
    c = s.claims
    return and_(*(c.c[k] == v for k, v in claim.key().items()))


def claim_unit(
    conn: Connection,
    claim: Claim,
    folds: Sequence[int],
    *,
    stale_after: float,
    reclaim: Callable[[str], bool],
) -> ClaimOutcome:
    """Take ``claim`` (see :meth:`autometa.store.sql.Store.claim`)."""
    c = s.claims
    now = db_clock(conn)
    outcome: ClaimOutcome = "held"
    for _ in range(3):  # a claim released between our INSERT and SELECT: insert again
        values = {**claim.key(), "owner": claim.owner, "claimed_at": now}
        insert = _insert(conn, c).values(**values).on_conflict_do_nothing()
        if conn.execute(insert.returning(c.c.owner)).first() is not None:
            outcome = "claimed"
            break
        query = select(c.c.owner, (now - c.c.claimed_at).label("age")).where(_where(claim))
        held = conn.execute(query.with_for_update()).first()
        if held is None:
            continue
        if held.owner == claim.owner:
            outcome = "claimed"
        elif held.age > stale_after or reclaim(held.owner):
            change = update(c).where(_where(claim), c.c.owner == held.owner)
            conn.execute(change.values(owner=claim.owner, claimed_at=now))
            outcome = "taken_over"
        break
    if outcome != "held" and _done(conn, claim, folds):
        release(conn, claim)
        return "done"
    return outcome


def _done(conn: Connection, claim: Claim, folds: Sequence[int]) -> bool:
    """Whether every fold of ``folds`` has a row for the claim's task and configuration."""
    e = s.evaluations
    query = select(func.count(func.distinct(e.c.fold))).where(
        e.c.task_id == int(claim.task_id),
        e.c.config_id == int(claim.config_id),
        e.c.fold.in_([int(f) for f in folds]),
    )
    return int(conn.execute(query).scalar_one()) >= len(set(folds))


def release(conn: Connection, claim: Claim) -> int:
    """Delete ``claim`` if its owner still holds it (a taker-over's claim is kept)."""
    stmt = delete(s.claims).where(_where(claim), s.claims.c.owner == claim.owner)
    return int(conn.execute(stmt).rowcount)


def release_owner(conn: Connection, owner: str) -> int:
    """Delete every claim ``owner`` holds; returns how many."""
    return int(conn.execute(delete(s.claims).where(s.claims.c.owner == owner)).rowcount)
