"""Idempotency records: a mutation retried with the same key is applied once.

A record is scoped to the client (``client_id``, the API client or token id) and names its key by
a keyed hash (HMAC-SHA-256): another client's identical key is another record, and a copy of the
database cannot tell which keys were used. It holds the SHA-256 of the mutation's canonical
arguments (the caller gives the canonical bytes), never the arguments; the global id of what was
created or changed (``result_ref``), never the answer; and the ``client_reference`` the hub sends
the partner, so that a retry can ask the owner what became of an attempt.

:meth:`IdempotencyStore.begin` answers one :data:`Claim`:

- :class:`Fresh` — the caller owns the key: call the partner with ``client_reference``, then
  :meth:`~IdempotencyStore.complete` (done), :meth:`~IdempotencyStore.mark_unknown` (the
  partner may have applied it: a timeout after sending) or :meth:`~IdempotencyStore.abandon` (a
  definite failure before anything reached the partner: the key may be used again);
- :class:`Replay` — the same key and arguments were done: answer ``result_ref`` again;
- :class:`Conflict` — the same key with other arguments (or another operation): BAD_USER_INPUT;
- :class:`InProgress` — another call holds the key: :meth:`~IdempotencyStore.wait` polls, bounded;
- :class:`Unknown` — an earlier attempt's outcome is unknown, and this caller now owns the key:
  ask the owner by ``client_reference``, then complete, mark unknown or abandon as for Fresh.

Exactly one concurrent caller gets Fresh (the primary key (client_id, key_hash) lets one insert
in) or Unknown (a conditional update lets one caller take the record over). A holder that dies
leaves its claim for ``lease_s``; after it the next ``begin`` takes the record over as Unknown,
since the dead holder may have reached the partner. A holder whose claim was taken over cannot
write any more (:class:`ClaimLost`). Records expire ``ttl_s`` after they were made.

When the database cannot be read or written, every method raises
:class:`IdempotencyUnavailable`: mutations fail closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from store.models import StoreModel

__all__ = [
    "DEFAULT_LEASE_S",
    "DEFAULT_TTL_S",
    "Claim",
    "ClaimLost",
    "Conflict",
    "Fresh",
    "IdempotencyStore",
    "IdempotencyUnavailable",
    "InProgress",
    "InvalidIdempotencyKey",
    "Replay",
    "State",
    "Unknown",
    "idempotency_subkey",
]

DEFAULT_TTL_S = 86_400.0
DEFAULT_LEASE_S = 30.0
MAX_KEY_LENGTH = 200
_MAX_OPERATION_LENGTH = 100
_TAKE_OVER_ATTEMPTS = 5

_table: Table = StoreModel.metadata.tables["idempotency_records"]


class IdempotencyUnavailable(Exception):
    """The idempotency store cannot be used now; the mutation must not be sent."""


class ClaimLost(Exception):
    """The claim's lease ran out and another call took the key over; this one may not write."""


class InvalidIdempotencyKey(ValueError):
    """An empty or too long key, or an operation name out of bounds."""


class State(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"


@dataclass(frozen=True, slots=True)
class _Ticket:
    """Which record a claim holds, and by which attempt."""

    client_id: str
    key_hash: str
    attempt: str


@dataclass(frozen=True, slots=True)
class Fresh:
    client_reference: str
    ticket: _Ticket = field(repr=False)


@dataclass(frozen=True, slots=True)
class Unknown:
    client_reference: str
    ticket: _Ticket = field(repr=False)


@dataclass(frozen=True, slots=True)
class Replay:
    result_ref: str


@dataclass(frozen=True, slots=True)
class Conflict:
    pass


@dataclass(frozen=True, slots=True)
class InProgress:
    pass


Claim = Fresh | Replay | Conflict | InProgress | Unknown


def idempotency_subkey(pepper: bytes) -> bytes:
    """The key of the idempotency keys' hash, derived from ``HUB_API_KEY_PEPPER``: one secret
    fewer to keep, and never the key API keys are hashed with."""
    return hmac.new(pepper, b"idempotency", hashlib.sha256).digest()


def _now() -> datetime:
    return datetime.now(UTC)


class IdempotencyStore:
    def __init__(
        self,
        engine: AsyncEngine,
        key: bytes,
        ttl_s: float = DEFAULT_TTL_S,
        lease_s: float = DEFAULT_LEASE_S,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._engine = engine
        self._key = key
        self._ttl = timedelta(seconds=ttl_s)
        self._lease = timedelta(seconds=lease_s)
        self._clock = clock

    def key_hash(self, key: str) -> str:
        return hmac.new(self._key, key.encode(), hashlib.sha256).hexdigest()

    async def begin(self, client_id: str, key: str, operation: str, payload_bytes: bytes) -> Claim:
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidIdempotencyKey(f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters")
        if not operation or len(operation) > _MAX_OPERATION_LENGTH:
            raise InvalidIdempotencyKey("an operation name has 1 to 100 characters")
        key_hash = self.key_hash(key)
        payload_hash = hashlib.sha256(payload_bytes).hexdigest()
        try:
            for _ in range(_TAKE_OVER_ATTEMPTS):
                claim = await self._claim(client_id, key_hash, operation, payload_hash)
                if claim is not None:
                    return claim
        except (SQLAlchemyError, OSError):
            raise IdempotencyUnavailable("the idempotency store cannot be used") from None
        # Each round lost a race that another caller won: that caller holds the key now.
        return InProgress()

    async def wait(
        self,
        client_id: str,
        key: str,
        operation: str,
        payload_bytes: bytes,
        timeout_s: float,
        poll_s: float = 0.05,
    ) -> Claim:
        """:meth:`begin` again until the key is no longer in progress, or ``timeout_s`` passed
        (then :class:`InProgress`)."""
        deadline = time.monotonic() + timeout_s
        while True:
            claim = await self.begin(client_id, key, operation, payload_bytes)
            if not isinstance(claim, InProgress) or time.monotonic() >= deadline:
                return claim
            await asyncio.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))

    async def complete(self, claim: Fresh | Unknown, result_ref: str) -> None:
        """The mutation was applied; ``result_ref`` is the global id of what it made or changed."""
        await self._update(claim, state=State.DONE, result_ref=result_ref)

    async def mark_unknown(self, claim: Fresh | Unknown) -> None:
        """The partner may have applied it (it timed out after the call was sent)."""
        await self._update(claim, state=State.OUTCOME_UNKNOWN, claimed_until=self._clock())

    async def abandon(self, claim: Fresh | Unknown) -> None:
        """Nothing reached the partner: forget the key, so it may be used again."""
        try:
            async with self._engine.begin() as connection:
                removed = await connection.execute(delete(_table).where(_held(claim.ticket)))
        except (SQLAlchemyError, OSError):
            raise IdempotencyUnavailable("the idempotency store cannot be used") from None
        if removed.rowcount != 1:
            raise ClaimLost("another call took this idempotency key over")

    async def purge_expired(self) -> int:
        """Remove the records past their TTL; how many were removed."""
        try:
            async with self._engine.begin() as connection:
                removed = await connection.execute(
                    delete(_table).where(_table.c.expires_at <= self._clock())
                )
        except (SQLAlchemyError, OSError):
            raise IdempotencyUnavailable("the idempotency store cannot be used") from None
        return int(removed.rowcount)

    async def _claim(
        self, client_id: str, key_hash: str, operation: str, payload_hash: str
    ) -> Claim | None:
        """One round of :meth:`begin`; None when a race was lost and the round must be run
        again."""
        now = self._clock()
        attempt = secrets.token_hex(16)
        reference = "hub-" + secrets.token_hex(16)
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    insert(_table),
                    [
                        {
                            "client_id": client_id,
                            "key_hash": key_hash,
                            "operation": operation,
                            "payload_hash": payload_hash,
                            "state": State.IN_PROGRESS,
                            "result_ref": None,
                            "client_reference": reference,
                            "attempt": attempt,
                            "claimed_until": now + self._lease,
                            "created_at": now,
                            "expires_at": now + self._ttl,
                        }
                    ],
                )
            return Fresh(reference, _Ticket(client_id, key_hash, attempt))
        except IntegrityError:
            pass  # the key is known: read what became of it
        this = and_(_table.c.client_id == client_id, _table.c.key_hash == key_hash)
        async with self._engine.begin() as connection:
            row = (await connection.execute(select(_table).where(this))).first()
            if row is None:
                return None  # removed (abandoned, purged) since: insert again
            if row.expires_at <= now:
                # A record past its TTL is gone for every purpose: the key is new again.
                await connection.execute(delete(_table).where(this, _table.c.expires_at <= now))
                return None
            if row.payload_hash != payload_hash or row.operation != operation:
                return Conflict()
            if row.state == State.DONE:
                return Replay(row.result_ref or "")
            if row.state == State.IN_PROGRESS and row.claimed_until > now:
                return InProgress()
            # OUTCOME_UNKNOWN, or IN_PROGRESS past its lease (its holder died after it may have
            # called the partner): one caller takes it over, by the attempt it read.
            taken = await connection.execute(
                update(_table)
                .where(this, _table.c.attempt == row.attempt)
                .values(state=State.IN_PROGRESS, attempt=attempt, claimed_until=now + self._lease)
            )
            if taken.rowcount != 1:
                return InProgress()
            return Unknown(row.client_reference, _Ticket(client_id, key_hash, attempt))

    async def _update(self, claim: Fresh | Unknown, **values: Any) -> None:
        try:
            async with self._engine.begin() as connection:
                changed = await connection.execute(
                    update(_table).where(_held(claim.ticket)).values(**values)
                )
        except (SQLAlchemyError, OSError):
            raise IdempotencyUnavailable("the idempotency store cannot be used") from None
        if changed.rowcount != 1:
            raise ClaimLost("another call took this idempotency key over")


def _held(ticket: _Ticket) -> Any:
    return and_(
        _table.c.client_id == ticket.client_id,
        _table.c.key_hash == ticket.key_hash,
        _table.c.attempt == ticket.attempt,
        _table.c.state == State.IN_PROGRESS,
    )
