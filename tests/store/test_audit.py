"""The audit trail on SQLite and on a real PostgreSQL: events, pseudonyms, pages, purge, export."""

from __future__ import annotations

import hashlib
import hmac
import io
import socket
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import store.audit
from identity.principal import Principal, new_principal
from store.audit import (
    UNNAMED_OPERATION,
    Action,
    AuditEntry,
    AuditFilter,
    AuditLog,
    AuditUnavailable,
    InvalidAuditEvent,
    InvalidCursor,
    Outcome,
    RecordRef,
)
from store.database import create_engine
from tests.store.conftest import Clock, down_engine, raw_rows

KEY = b"an-audit-key-of-at-least-32-characters"
CENTRE = new_principal("TRAINING_CENTRE", "0732727T", "staff-17", client_id="cli_0123456789ab")
CANDIDATE = new_principal("CANDIDATE", "0732727T", "cand-btp-0001", token_id="jti-42")


async def _record(
    audit: AuditLog,
    actor: Principal = CENTRE,
    operation: str | None = "Dossier",
    action: Action = Action.READ,
    ids: tuple[str, ...] = ("c-1",),
    outcome: Outcome = Outcome.OK,
) -> store.audit.AuditEvent:
    return await audit.record(
        actor,
        operation=operation,
        action=action,
        entity="Candidate",
        records=[RecordRef("cfa-btp", i) for i in ids],
        outcome=outcome,
    )


async def test_a_request_s_events_are_written_together_or_not_at_all(
    engine: AsyncEngine, clock: Clock
) -> None:
    audit = AuditLog(engine, KEY, clock)
    refs = [RecordRef("cfa-btp", "a-1"), RecordRef("cfa-btp", "a-2")]
    written = await audit.record_all(
        CENTRE,
        operation="Applications",
        entries=[
            AuditEntry(Action.READ, "Application", refs),
            AuditEntry(Action.READ, "Candidate", [RecordRef("cfa-btp", "c-1")]),
        ],
    )
    page = await audit.page()
    assert sorted(e.id for e in page.events) == sorted(e.id for e in written)
    by_entity = {e.entity: e for e in page.events}
    assert len(by_entity["Application"].record_refs) == 2
    assert by_entity["Candidate"].record_refs == (audit.pseudonym("cfa-btp", "Candidate", "c-1"),)

    with pytest.raises(InvalidAuditEvent):  # the second entry is refused: the first not kept
        await audit.record_all(
            CENTRE,
            operation="Applications",
            entries=[
                AuditEntry(Action.READ, "Application", refs),
                AuditEntry(Action.READ, "not an entity"),
            ],
        )
    assert len((await audit.page()).events) == 2


async def test_an_event_says_who_when_what_and_which_records_by_pseudonym(
    engine: AsyncEngine, clock: Clock
) -> None:
    audit = AuditLog(engine, KEY, clock)
    written = await _record(audit, ids=("c-1", "c-2"))
    page = await audit.page()
    (event,) = page.events
    assert event == written and page.next_cursor is None
    assert event.at == clock.now and event.at.utcoffset() is not None
    assert (event.client_id, event.role, event.organisation) == (
        "cli_0123456789ab",
        "TRAINING_CENTRE",
        "0732727T",
    )
    assert event.subject_ref == audit.subject_ref("staff-17") and "staff" not in event.subject_ref
    assert event.record_refs == (
        audit.pseudonym("cfa-btp", "Candidate", "c-1"),
        audit.pseudonym("cfa-btp", "Candidate", "c-2"),
    )
    assert (event.operation, event.action, event.entity, event.outcome) == (
        "Dossier",
        Action.READ,
        "Candidate",
        Outcome.OK,
    )
    # A token's id stands for the client when the credential is a JWT.
    assert (await _record(audit, actor=CANDIDATE)).client_id == "jti-42"


def test_a_pseudonym_is_the_keyed_hash_the_brief_names() -> None:
    audit = AuditLog(down_engine(Path("/nonexistent")), KEY)
    expected = hmac.new(KEY, b"cfa-btp:Candidate:c-1", hashlib.sha256).hexdigest()[:32]
    assert audit.pseudonym("cfa-btp", "Candidate", "c-1") == expected
    assert audit.pseudonym("hub3e", "Candidate", "c-1") != expected
    assert audit.pseudonym("cfa-btp", "Application", "c-1") != expected
    other_key = AuditLog(down_engine(Path("/nonexistent")), b"x" * 32)
    assert other_key.pseudonym("cfa-btp", "Candidate", "c-1") != expected
    # The subject's hash has a key of its own: a subject never passes for a record reference.
    assert audit.subject_ref("cfa-btp:Candidate:c-1") != expected
    assert audit.subject_ref("") == ""


async def test_an_operation_is_a_name_or_a_fixed_label_never_query_text(
    engine: AsyncEngine,
) -> None:
    audit = AuditLog(engine, KEY)
    assert (await _record(audit, operation=None)).operation == UNNAMED_OPERATION
    assert (await _record(audit, operation="")).operation == UNNAMED_OPERATION
    with pytest.raises(InvalidAuditEvent, match="never its text"):
        await _record(audit, operation="{ candidate(id: 1) { lastName } }")
    with pytest.raises(InvalidAuditEvent, match="entity"):
        await audit.record(CENTRE, operation="X", action=Action.READ, entity="Candidate name")
    assert len((await audit.page()).events) == 2  # the refused ones wrote nothing


async def test_each_filter_field_narrows_the_page(engine: AsyncEngine, clock: Clock) -> None:
    audit = AuditLog(engine, KEY, clock)
    early = await _record(audit, operation="Early", ids=("c-1",))
    clock.advance(hours=1)
    write = await _record(audit, operation="Apply", action=Action.WRITE, ids=("c-2",))
    clock.advance(hours=1)
    mine = await _record(audit, actor=CANDIDATE, operation="Mine", ids=("c-1", "c-3"))

    async def ids(**fields: object) -> list[str]:
        page = await audit.page(AuditFilter(**fields))  # type: ignore[arg-type]
        return [e.id for e in page.events]

    assert await ids() == [mine.id, write.id, early.id]  # newest first
    assert await ids(since=write.at) == [mine.id, write.id]
    assert await ids(until=write.at) == [early.id]
    assert await ids(role="CANDIDATE") == [mine.id]
    assert await ids(organisation="0732727T") == [mine.id, write.id, early.id]
    assert await ids(organisation="0740001A") == []
    assert await ids(operation="Apply") == [write.id]
    assert await ids(action=Action.WRITE) == [write.id]
    # The right of access: every event naming one record, by its pseudonym.
    assert await ids(record_ref=audit.pseudonym("cfa-btp", "Candidate", "c-1")) == [
        mine.id,
        early.id,
    ]
    assert await ids(role="TRAINING_CENTRE", action=Action.READ) == [early.id]
    with pytest.raises(InvalidAuditEvent, match="32 lowercase hex"):
        await ids(record_ref="c-1")
    with pytest.raises(InvalidAuditEvent, match="time zone"):
        await ids(since=write.at.replace(tzinfo=None))


async def test_pages_walk_every_event_once_newest_first(engine: AsyncEngine, clock: Clock) -> None:
    audit = AuditLog(engine, KEY, clock)
    written = []
    for i in range(5):
        written.append(await _record(audit, ids=(f"c-{i}",)))
        if i != 2:  # two events at the same instant: the id breaks the tie
            clock.advance(seconds=1)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await audit.page(first=2, after=cursor)
        pages += 1
        seen.extend(e.id for e in page.events)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3 and len(seen) == 5 and set(seen) == {e.id for e in written}
    instants = [e.at for e in (await audit.page(first=5)).events]
    assert instants == sorted(instants, reverse=True)
    with pytest.raises(InvalidAuditEvent, match="first"):
        await audit.page(first=0)


async def test_the_cursor_refuses_tampering(engine: AsyncEngine, clock: Clock) -> None:
    audit = AuditLog(engine, KEY, clock)
    for i in range(3):
        await _record(audit, ids=(f"c-{i}",))
        clock.advance(seconds=1)
    cursor = (await audit.page(first=1)).next_cursor
    assert cursor is not None
    assert len((await audit.page(first=1, after=cursor)).events) == 1  # the honest one works
    encoded, signature = cursor.split(".")
    flipped = encoded[:-2] + ("A" if encoded[-2] != "A" else "B") + encoded[-1]
    forged_payload = store.audit._b64(orjson.dumps(["2099-01-01T00:00:00+00:00", "aud_z", "x"]))
    tampered = [
        f"{flipped}.{signature}",  # another position, the old signature
        f"{encoded}.{signature[::-1]}",  # another signature
        f"{forged_payload}.{signature}",  # a made-up position
        "garbage",
        "",
        "a.b.c",
        "%%%.%%%",
    ]
    for bad in tampered:
        with pytest.raises(InvalidCursor):
            await audit.page(first=1, after=bad)
    # Signed, but for another filter, or by another key: refused as well.
    with pytest.raises(InvalidCursor):
        await audit.page(AuditFilter(role="TRAINING_CENTRE"), first=1, after=cursor)
    with pytest.raises(InvalidCursor):
        await AuditLog(engine, b"k" * 32, clock).page(first=1, after=cursor)


async def test_purge_removes_events_past_the_retention_with_their_references(
    engine: AsyncEngine, clock: Clock
) -> None:
    audit = AuditLog(engine, KEY, clock)
    await _record(audit, ids=("old-1", "old-2"))
    await _record(audit, ids=("old-3",))
    clock.advance(days=40)
    kept = await _record(audit, ids=("new-1",))
    assert await audit.purge(30) == 2
    assert [e.id for e in (await audit.page()).events] == [kept.id]
    async with engine.connect() as connection:
        refs = (await connection.execute(text("SELECT record_ref FROM audit_event_records"))).all()
    assert [r[0] for r in refs] == [audit.pseudonym("cfa-btp", "Candidate", "new-1")]
    assert await audit.purge(30) == 0
    with pytest.raises(InvalidAuditEvent):
        await audit.purge(0)


async def test_export_writes_json_lines_oldest_first_within_the_bounds(
    engine: AsyncEngine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.audit, "_EXPORT_BATCH", 2)  # several batches from few events
    audit = AuditLog(engine, KEY, clock)
    written = []
    for i in range(5):
        written.append(await _record(audit, ids=(f"c-{i}",)))
        clock.advance(minutes=1)
    everything = io.StringIO()
    assert await audit.export_jsonl(everything) == 5
    lines = [orjson.loads(line) for line in everything.getvalue().splitlines()]
    assert [line["id"] for line in lines] == [e.id for e in written]
    assert lines[0] == written[0].as_json() and lines[0]["record_refs"] == list(
        written[0].record_refs
    )
    bounded = io.StringIO()
    assert await audit.export_jsonl(bounded, since=written[1].at, until=written[3].at) == 2
    assert [orjson.loads(x)["id"] for x in bounded.getvalue().splitlines()] == [
        written[1].id,
        written[2].id,
    ]


async def test_no_personal_value_reaches_any_row(engine: AsyncEngine) -> None:
    canary_subject = "CANARY-Jeanne-Dupont-1999-04-12"
    canary_record = "CANARY-jeanne.dupont@example.org"
    audit = AuditLog(engine, KEY)
    actor = new_principal("CANDIDATE", "0732727T", canary_subject, token_id="jti-1")
    await audit.record(
        actor,
        operation="MyDossier",
        action=Action.READ,
        entity="Candidate",
        records=[RecordRef("cfa-btp", canary_record)],
    )
    rows = await raw_rows(engine)
    assert any(table == "audit_events" for table, _ in rows)
    assert any(table == "audit_event_records" for table, _ in rows)
    for _, row in rows:
        for value in row:
            assert "CANARY" not in str(value) and "Dupont" not in str(value)


async def test_recording_fails_closed_when_the_store_is_down(tmp_path: Path) -> None:
    unreachable = down_engine(tmp_path)
    try:
        audit = AuditLog(unreachable, KEY)
        with pytest.raises(AuditUnavailable):
            await _record(audit)
        with pytest.raises(AuditUnavailable):
            await audit.page()
        with pytest.raises(AuditUnavailable):
            await audit.purge(30)
        with pytest.raises(AuditUnavailable):
            await audit.export_jsonl(io.StringIO())
    finally:
        await unreachable.dispose()
    # A database never migrated (no audit table) is as unusable.
    bare = create_engine(f"sqlite:///{tmp_path}/bare.sqlite3")
    try:
        with pytest.raises(AuditUnavailable):
            await _record(AuditLog(bare, KEY))
    finally:
        await bare.dispose()


async def test_recording_fails_closed_when_postgresql_is_unreachable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = create_engine(f"postgresql://postgres@127.0.0.1:{port}/test")
    try:
        with pytest.raises(AuditUnavailable):
            await _record(AuditLog(unreachable, KEY))
    finally:
        await unreachable.dispose()
