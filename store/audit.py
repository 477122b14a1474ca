"""The audit trail: one event per read or write of personal data, never the data itself.

An event says who (the credential's client id or token id, the role, the organisation — a UAI,
SIRET or OPCO code, an organisation's and not a person's — and the subject as a keyed hash),
when, which GraphQL operation (its name, never the query text), READ or WRITE, which entity, the
outcome, and which records as pseudonymised references: HMAC-SHA-256 of
``"<partner>:<entity>:<partner id>"`` keyed by ``HUB_AUDIT_KEY``, hex, 32 characters. The
caller hands the partner ids to :meth:`AuditLog.record`, which hashes them: a raw id cannot be
written by mistake. The same key gives the same reference at every replica and every day, so a
candidate's own references (:meth:`AuditLog.pseudonym`) find who read their file.

**Fail closed.** :meth:`AuditLog.record` is awaited before personal data is answered; when the
audit store cannot be written it raises :class:`AuditUnavailable`, and the read fails rather
than go unrecorded. Reading the trail (:meth:`AuditLog.page`) raises it too.

Pages run newest first; their cursor is opaque and signed (a key derived from the audit key),
and names the filter it was made for: a cursor edited, forged or used with another filter is
:class:`InvalidCursor`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

import orjson
from sqlalchemy import ColumnElement, Table, and_, delete, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.models import StoreModel

__all__ = [
    "MAX_PAGE_SIZE",
    "MIN_AUDIT_KEY_LENGTH",
    "UNNAMED_OPERATION",
    "Action",
    "Actor",
    "AuditEntry",
    "AuditEvent",
    "AuditFilter",
    "AuditLog",
    "AuditPage",
    "AuditUnavailable",
    "InvalidAuditEvent",
    "InvalidCursor",
    "Outcome",
    "RecordRef",
    "audit_key_bytes",
]

MIN_AUDIT_KEY_LENGTH = 32
MAX_PAGE_SIZE = 1000
UNNAMED_OPERATION = "(unnamed)"  # the label of an operation sent without a name
_REF_LENGTH = 32
_EXPORT_BATCH = 500
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*", re.ASCII)  # a GraphQL Name
_ENTITY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}", re.ASCII)
_DETAIL = re.compile(r"[A-Za-z0-9_.,:=* -]{1,200}", re.ASCII)
"""What a detail may hold: codes, dimension names, months; no free text, so no value."""


def _detail(detail: str | None) -> str | None:
    if detail is not None and _DETAIL.fullmatch(detail) is None:
        raise InvalidAuditEvent("a detail holds codes, names and months only (200 at most)")
    return detail


_REF = re.compile(r"[0-9a-f]{32}", re.ASCII)

_events: Table = StoreModel.metadata.tables["audit_events"]
_records: Table = StoreModel.metadata.tables["audit_event_records"]


class AuditUnavailable(Exception):
    """The audit store cannot be written or read now; personal data must not be answered."""


class InvalidCursor(ValueError):
    """A cursor this audit log did not make for this filter."""


class InvalidAuditEvent(ValueError):
    """An event or a filter the audit trail cannot hold; the message names the field."""


class Action(StrEnum):
    READ = "READ"
    WRITE = "WRITE"
    COUNT = "COUNT"  # published aggregate cells derived from personal data (the observatory)


class Outcome(StrEnum):
    OK = "OK"
    DENIED_AS_MISSING = "DENIED_AS_MISSING"  # a forbidden record, answered as a missing one
    FAILED = "FAILED"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"  # a write whose partner did not say whether it applied


class Actor(Protocol):
    """Who acted: :class:`identity.principal.Principal` is one (store cannot import it)."""

    @property
    def role(self) -> str: ...
    @property
    def organisation(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def client_id(self) -> str | None: ...
    @property
    def token_id(self) -> str | None: ...


class RecordRef(NamedTuple):
    """A record as its owner names it; only its keyed hash is stored."""

    partner: str
    partner_id: str


class AuditEntry(NamedTuple):
    """What one event of :meth:`AuditLog.record_all` says: an action on records of an entity."""

    action: Action
    entity: str
    records: Sequence[RecordRef] = ()
    outcome: Outcome = Outcome.OK
    detail: str | None = None  # what a COUNT asked: indicator, grid, period (never a value)


class TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    at: datetime
    client_id: str
    role: str
    organisation: str
    subject_ref: str
    operation: str
    action: Action
    entity: str
    record_refs: tuple[str, ...]
    outcome: Outcome
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "client_id": self.client_id,
            "role": self.role,
            "organisation": self.organisation,
            "subject_ref": self.subject_ref,
            "operation": self.operation,
            "action": str(self.action),
            "entity": self.entity,
            "record_refs": list(self.record_refs),
            "outcome": str(self.outcome),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which events a page holds; every field set narrows it. ``since`` is included, ``until``
    excluded; both need a time zone."""

    since: datetime | None = None
    until: datetime | None = None
    role: str | None = None
    organisation: str | None = None
    operation: str | None = None
    action: Action | None = None
    record_ref: str | None = None

    def checked(self) -> AuditFilter:
        for name in ("since", "until"):
            instant = getattr(self, name)
            if instant is not None and instant.tzinfo is None:
                raise InvalidAuditEvent(f"the filter's {name} needs a time zone")
        if self.record_ref is not None and _REF.fullmatch(self.record_ref) is None:
            raise InvalidAuditEvent("a record reference is 32 lowercase hex digits")
        return self

    def digest(self) -> str:
        """What a cursor remembers of the filter it was made for."""
        fields = [
            self.since.astimezone(UTC).isoformat() if self.since else None,
            self.until.astimezone(UTC).isoformat() if self.until else None,
            self.role,
            self.organisation,
            self.operation,
            str(self.action) if self.action else None,
            self.record_ref,
        ]
        return hashlib.sha256(orjson.dumps(fields)).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: tuple[AuditEvent, ...]
    next_cursor: str | None  # None: this was the last page


def audit_key_bytes(key: str) -> bytes:
    if len(key) < MIN_AUDIT_KEY_LENGTH:
        raise ValueError(f"HUB_AUDIT_KEY must be at least {MIN_AUDIT_KEY_LENGTH} characters")
    return key.encode()


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _now() -> datetime:
    return datetime.now(UTC)


class AuditLog:
    """The audit trail in the database of ``engine`` (its own tables, migrated with the rest).

    ``key`` is ``HUB_AUDIT_KEY``'s bytes (:func:`audit_key_bytes`); the subject's hash and the
    cursor's signature use keys derived from it, so none of the three can stand for another.
    """

    def __init__(
        self, engine: AsyncEngine, key: bytes, clock: Callable[[], datetime] = _now
    ) -> None:
        self._engine = engine
        self._key = key
        self._subject_key = _mac(key, b"alternance-hub audit subject")
        self._cursor_key = _mac(key, b"alternance-hub audit cursor")
        self._clock = clock

    def pseudonym(self, partner: str, entity: str, partner_id: str) -> str:
        """The reference the trail names the record ``partner_id`` of ``partner`` by."""
        message = f"{partner}:{entity}:{partner_id}".encode()
        return _mac(self._key, message).hex()[:_REF_LENGTH]

    def subject_ref(self, subject: str) -> str:
        """The hash an actor's subject is stored as ("" for no subject)."""
        return _mac(self._subject_key, subject.encode()).hex()[:_REF_LENGTH] if subject else ""

    async def record(
        self,
        actor: Actor,
        *,
        operation: str | None,
        action: Action,
        entity: str,
        records: Sequence[RecordRef] = (),
        outcome: Outcome = Outcome.OK,
    ) -> AuditEvent:
        """Write one event; :class:`AuditUnavailable` when it cannot be written (fail closed).

        ``operation`` is the GraphQL operation's name (None or "": :data:`UNNAMED_OPERATION`);
        anything else than a GraphQL name (query text) is refused.
        """
        (event,) = await self.record_all(
            actor, operation=operation, entries=[AuditEntry(action, entity, records, outcome)]
        )
        return event

    async def record_all(
        self, actor: Actor, *, operation: str | None, entries: Sequence[AuditEntry]
    ) -> list[AuditEvent]:
        """Write one event per entry (the reads and writes of one request), all in one
        transaction: one commit, not one per event, before the answer leaves. Either every
        event is written or none is (:class:`AuditUnavailable`)."""
        events = [self._event(actor, operation, entry) for entry in entries]
        rows: list[dict[str, Any]] = []
        refs: list[dict[str, Any]] = []
        for event in events:
            row = event.as_json()
            row.pop("record_refs")
            row["at"] = event.at
            rows.append(row)
            refs.extend(
                {"event_id": event.id, "position": i, "record_ref": ref}
                for i, ref in enumerate(event.record_refs)
            )
        if not rows:
            return events
        try:
            async with self._engine.begin() as connection:
                await connection.execute(insert(_events), rows)
                if refs:
                    await connection.execute(insert(_records), refs)
        except (SQLAlchemyError, OSError):
            raise AuditUnavailable("the audit store cannot be written") from None
        return events

    def _event(self, actor: Actor, operation: str | None, entry: AuditEntry) -> AuditEvent:
        if _ENTITY.fullmatch(entry.entity) is None:
            raise InvalidAuditEvent("an entity is a type name: a letter, then letters or digits")
        return AuditEvent(
            id="aud_" + uuid.uuid4().hex,
            at=self._clock(),
            client_id=(actor.client_id or actor.token_id or "")[:64],
            role=str(actor.role),
            organisation=actor.organisation,
            subject_ref=self.subject_ref(actor.subject),
            operation=_operation_label(operation),
            action=Action(entry.action),
            entity=entry.entity,
            record_refs=tuple(
                self.pseudonym(r.partner, entry.entity, r.partner_id) for r in entry.records
            ),
            outcome=Outcome(entry.outcome),
            detail=_detail(entry.detail),
        )

    async def page(
        self, filter: AuditFilter | None = None, first: int = 50, after: str | None = None
    ) -> AuditPage:
        """Up to ``first`` events, newest first, after the cursor ``after``."""
        filter = (filter or AuditFilter()).checked()
        if not 1 <= first <= MAX_PAGE_SIZE:
            raise InvalidAuditEvent(f"first must be between 1 and {MAX_PAGE_SIZE}")
        conditions = _conditions(filter)
        if after is not None:
            at, event_id = self._read_cursor(after, filter)
            conditions.append(
                or_(_events.c.at < at, and_(_events.c.at == at, _events.c.id < event_id))
            )
        order = (_events.c.at.desc(), _events.c.id.desc())
        try:
            async with self._engine.connect() as connection:
                events = await _select(connection, conditions, order, first + 1)
        except (SQLAlchemyError, OSError):
            raise AuditUnavailable("the audit store cannot be read") from None
        more = len(events) > first
        events = events[:first]
        cursor = self._cursor(events[-1], filter) if more else None
        return AuditPage(tuple(events), cursor)

    async def purge(self, older_than_days: int) -> int:
        """Remove the events older than ``older_than_days`` days; how many were removed."""
        if older_than_days < 1:
            raise InvalidAuditEvent("older_than_days must be 1 or more")
        cutoff = self._clock() - timedelta(days=older_than_days)
        old = select(_events.c.id).where(_events.c.at < cutoff)
        try:
            async with self._engine.begin() as connection:
                await connection.execute(delete(_records).where(_records.c.event_id.in_(old)))
                removed = await connection.execute(delete(_events).where(_events.c.at < cutoff))
        except (SQLAlchemyError, OSError):
            raise AuditUnavailable("the audit store cannot be written") from None
        return int(removed.rowcount)

    async def export_jsonl(
        self, stream: TextSink, since: datetime | None = None, until: datetime | None = None
    ) -> int:
        """Write the events from ``since`` (included) to ``until`` (excluded), oldest first, one
        JSON object a line; how many were written."""
        filter = AuditFilter(since=since, until=until).checked()
        try:
            return await self._export(stream, filter)
        except (SQLAlchemyError, OSError):
            raise AuditUnavailable("the audit store cannot be read") from None

    async def _export(self, stream: TextSink, filter: AuditFilter) -> int:
        written = 0
        last: AuditEvent | None = None
        async with self._engine.connect() as connection:
            while True:
                conditions = _conditions(filter)
                if last is not None:
                    conditions.append(
                        or_(
                            _events.c.at > last.at,
                            and_(_events.c.at == last.at, _events.c.id > last.id),
                        )
                    )
                order = (_events.c.at.asc(), _events.c.id.asc())
                batch = await _select(connection, conditions, order, _EXPORT_BATCH)
                for event in batch:
                    stream.write(orjson.dumps(event.as_json()).decode() + "\n")
                written += len(batch)
                if len(batch) < _EXPORT_BATCH:
                    return written
                last = batch[-1]

    def _cursor(self, last: AuditEvent, filter: AuditFilter) -> str:
        payload = orjson.dumps([last.at.isoformat(), last.id, filter.digest()])
        return _b64(payload) + "." + _b64(_mac(self._cursor_key, payload)[:16])

    def _read_cursor(self, cursor: str, filter: AuditFilter) -> tuple[datetime, str]:
        refused = InvalidCursor(
            "invalid cursor: pass the endCursor of a previous page with the same filter"
        )
        try:
            encoded, signature = cursor.split(".")
            payload, mac = _unb64(encoded), _unb64(signature)
        except (ValueError, binascii.Error):
            raise refused from None
        if not hmac.compare_digest(mac, _mac(self._cursor_key, payload)[:16]):
            raise refused
        at, event_id, digest = orjson.loads(payload)
        if digest != filter.digest():
            raise refused
        return datetime.fromisoformat(at), str(event_id)


def _operation_label(operation: str | None) -> str:
    if not operation:
        return UNNAMED_OPERATION
    if _OPERATION_NAME.fullmatch(operation) is None:
        raise InvalidAuditEvent("operation is the GraphQL operation's name, never its text")
    return operation[:100]


def _conditions(filter: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filter.since is not None:
        conditions.append(_events.c.at >= filter.since)
    if filter.until is not None:
        conditions.append(_events.c.at < filter.until)
    for column, value in (
        (_events.c.role, filter.role),
        (_events.c.organisation, filter.organisation),
        (_events.c.operation, filter.operation),
        (_events.c.action, str(filter.action) if filter.action else None),
    ):
        if value is not None:
            conditions.append(column == value)
    if filter.record_ref is not None:
        holding = select(_records.c.event_id).where(_records.c.record_ref == filter.record_ref)
        conditions.append(_events.c.id.in_(holding))
    return conditions


async def _select(
    connection: AsyncConnection,
    conditions: list[ColumnElement[bool]],
    order: tuple[Any, ...],
    limit: int,
) -> list[AuditEvent]:
    rows = (
        await connection.execute(select(_events).where(*conditions).order_by(*order).limit(limit))
    ).all()
    refs: dict[str, list[str]] = {row.id: [] for row in rows}
    if refs:
        found = await connection.execute(
            select(_records.c.event_id, _records.c.record_ref)
            .where(_records.c.event_id.in_(list(refs)))
            .order_by(_records.c.event_id, _records.c.position)
        )
        for event_id, ref in found.all():
            refs[str(event_id)].append(str(ref))
    return [
        AuditEvent(
            id=row.id,
            at=row.at,
            client_id=row.client_id,
            role=row.role,
            organisation=row.organisation,
            subject_ref=row.subject_ref,
            operation=row.operation,
            action=Action(row.action),
            entity=row.entity,
            record_refs=tuple(refs[row.id]),
            outcome=Outcome(row.outcome),
            detail=row.detail,
        )
        for row in rows
    ]
