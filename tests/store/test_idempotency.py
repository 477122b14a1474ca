"""Idempotency records on SQLite and on a real PostgreSQL: claims, replays, conflicts, races."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from store.database import create_engine
from store.idempotency import (
    ClaimLost,
    Conflict,
    Fresh,
    IdempotencyStore,
    IdempotencyUnavailable,
    InProgress,
    InvalidIdempotencyKey,
    Replay,
    Unknown,
    idempotency_subkey,
)
from tests.store.conftest import Clock, down_engine, raw_rows

PEPPER = b"a-test-pepper-of-at-least-32-characters"
KEY = idempotency_subkey(PEPPER)
OPERATION = "submitApplication"
PAYLOAD = b'{"offerId":"offer-1","candidateId":"c-1"}'
OTHER_PAYLOAD = b'{"offerId":"offer-2","candidateId":"c-1"}'


def _store(engine: AsyncEngine, clock: Clock | None = None) -> IdempotencyStore:
    return IdempotencyStore(engine, KEY, ttl_s=3600, lease_s=30, clock=clock or Clock())


async def _fresh(store: IdempotencyStore, client: str = "cli_a", key: str = "k-1") -> Fresh:
    claim = await store.begin(client, key, OPERATION, PAYLOAD)
    assert isinstance(claim, Fresh)
    return claim


async def test_the_same_key_and_payload_replays_the_first_result(engine: AsyncEngine) -> None:
    store = _store(engine)
    claim = await _fresh(store)
    assert claim.client_reference.startswith("hub-")
    assert await store.begin("cli_a", "k-1", OPERATION, PAYLOAD) == InProgress()
    await store.complete(claim, "QXBwbGljYXRpb246MQ==")
    assert await store.begin("cli_a", "k-1", OPERATION, PAYLOAD) == Replay("QXBwbGljYXRpb246MQ==")
    assert await store.begin("cli_a", "k-1", OPERATION, PAYLOAD) == Replay("QXBwbGljYXRpb246MQ==")


async def test_the_same_key_with_another_payload_or_operation_conflicts(
    engine: AsyncEngine,
) -> None:
    store = _store(engine)
    claim = await _fresh(store)
    assert await store.begin("cli_a", "k-1", OPERATION, OTHER_PAYLOAD) == Conflict()
    await store.complete(claim, "app-1")
    assert await store.begin("cli_a", "k-1", OPERATION, OTHER_PAYLOAD) == Conflict()
    assert await store.begin("cli_a", "k-1", "recordFollowUp", PAYLOAD) == Conflict()
    assert await store.begin("cli_a", "k-1", OPERATION, PAYLOAD) == Replay("app-1")


async def test_another_clients_identical_key_is_its_own_record(engine: AsyncEngine) -> None:
    store = _store(engine)
    first = await _fresh(store, "cli_a")
    await store.complete(first, "app-of-a")
    second = await _fresh(store, "cli_b")  # not a Replay of the first client's result
    assert second.client_reference != first.client_reference
    await store.complete(second, "app-of-b")
    assert await store.begin("cli_b", "k-1", OPERATION, PAYLOAD) == Replay("app-of-b")
    assert await store.begin("cli_a", "k-1", OPERATION, PAYLOAD) == Replay("app-of-a")


async def test_an_unknown_outcome_is_reconciled_by_one_caller_with_the_same_reference(
    engine: AsyncEngine,
) -> None:
    store = _store(engine)
    claim = await _fresh(store)
    await store.mark_unknown(claim)
    retries = await asyncio.gather(
        *(store.begin("cli_a", "k-1", OPERATION, PAYLOAD) for _ in range(10))
    )
    unknown = [c for c in retries if isinstance(c, Unknown)]
    assert len(unknown) == 1 and retries.count(InProgress()) == 9
    # The retry asks the owner by the reference the first attempt sent.
    assert unknown[0].client_reference == claim.client_reference
    with pytest.raises(ClaimLost):  # the first attempt no longer holds the key
        await store.complete(claim, "app-1")
    await store.complete(unknown[0], "app-1")
    assert await store.begin("cli_a", "k-1", OPERATION, PAYLOAD) == Replay("app-1")


async def test_an_abandoned_key_may_be_used_again(engine: AsyncEngine) -> None:
    store = _store(engine)
    claim = await _fresh(store)
    await store.abandon(claim)
    again = await store.begin("cli_a", "k-1", OPERATION, OTHER_PAYLOAD)
    assert isinstance(again, Fresh) and again.client_reference != claim.client_reference
    with pytest.raises(ClaimLost):
        await store.abandon(claim)  # gone: a stale holder removes nothing of the new claim
    assert await store.begin("cli_a", "k-1", OPERATION, OTHER_PAYLOAD) == InProgress()


async def test_a_holder_past_its_lease_is_taken_over_as_unknown(
    engine: AsyncEngine, clock: Clock
) -> None:
    store = _store(engine, clock)
    claim = await _fresh(store)
    clock.advance(seconds=29)
    assert await store.begin("cli_a", "k-1", OPERATION, PAYLOAD) == InProgress()
    clock.advance(seconds=2)
    # The holder may have reached the partner before it died: not Fresh, but Unknown.
    taken = await store.begin("cli_a", "k-1", OPERATION, PAYLOAD)
    assert isinstance(taken, Unknown) and taken.client_reference == claim.client_reference
    with pytest.raises(ClaimLost):
        await store.mark_unknown(claim)
    await store.complete(taken, "app-1")
    assert await store.begin("cli_a", "k-1", OPERATION, PAYLOAD) == Replay("app-1")


async def test_records_expire_after_their_ttl_and_are_purged(
    engine: AsyncEngine, clock: Clock
) -> None:
    store = _store(engine, clock)
    await store.complete(await _fresh(store, key="old"), "app-old")
    clock.advance(minutes=30)
    await store.complete(await _fresh(store, key="young"), "app-young")
    clock.advance(minutes=31)  # "old" is 61 minutes old: past the TTL of one hour
    assert await store.begin("cli_a", "young", OPERATION, PAYLOAD) == Replay("app-young")
    assert await store.purge_expired() == 1
    assert await store.purge_expired() == 0
    # An expired key is a new key again, whatever its payload.
    clock.advance(minutes=30)
    assert isinstance(await store.begin("cli_a", "young", OPERATION, OTHER_PAYLOAD), Fresh)


async def test_fifty_concurrent_calls_with_one_key_give_one_fresh_claim(
    engine: AsyncEngine,
) -> None:
    store = _store(engine)
    claims = await asyncio.gather(
        *(store.begin("cli_a", "k-50", OPERATION, PAYLOAD) for _ in range(50))
    )
    fresh = [c for c in claims if isinstance(c, Fresh)]
    assert len(fresh) == 1 and claims.count(InProgress()) == 49
    await store.complete(fresh[0], "app-50")
    replays = await asyncio.gather(
        *(store.begin("cli_a", "k-50", OPERATION, PAYLOAD) for _ in range(49))
    )
    assert set(replays) == {Replay("app-50")}


async def test_waiters_see_the_result_once_the_holder_completes(engine: AsyncEngine) -> None:
    store = _store(engine)
    claim = await _fresh(store)

    async def holder() -> None:
        await asyncio.sleep(0.05)
        await store.complete(claim, "app-1")

    *waited, _ = await asyncio.gather(
        *(store.wait("cli_a", "k-1", OPERATION, PAYLOAD, timeout_s=30) for _ in range(10)),
        holder(),
    )
    assert set(waited) == {Replay("app-1")}
    other = await _fresh(store, key="k-2")
    assert await store.wait("cli_a", "k-2", OPERATION, PAYLOAD, timeout_s=0.1) == InProgress()
    await store.abandon(other)


async def test_neither_the_key_nor_the_payload_is_stored(engine: AsyncEngine) -> None:
    store = _store(engine)
    canary_key = "CANARY-key-jeanne.dupont@example.org"
    canary_payload = b'{"lastName":"CANARY-Dupont","birthDate":"1999-04-12"}'
    claim = await store.begin("cli_a", canary_key, OPERATION, canary_payload)
    assert isinstance(claim, Fresh)
    await store.complete(claim, "QXBwbGljYXRpb246OQ==")
    rows = [row for table, row in await raw_rows(engine) if table == "idempotency_records"]
    assert len(rows) == 1
    for value in rows[0]:
        assert "CANARY" not in str(value) and "1999" not in str(value)
    expected_hash = hmac.new(KEY, canary_key.encode(), hashlib.sha256).hexdigest()
    assert expected_hash in rows[0]
    assert hashlib.sha256(canary_payload).hexdigest() in rows[0]


async def test_keys_and_operations_are_bounded(engine: AsyncEngine) -> None:
    store = _store(engine)
    for key, operation in (("", OPERATION), ("k" * 201, OPERATION), ("k", ""), ("k", "o" * 101)):
        with pytest.raises(InvalidIdempotencyKey):
            await store.begin("cli_a", key, operation, PAYLOAD)


def test_the_key_hash_is_derived_from_the_pepper_never_the_pepper_itself() -> None:
    assert hmac.new(PEPPER, b"idempotency", hashlib.sha256).digest() == KEY
    assert KEY != PEPPER and idempotency_subkey(b"p" * 32) != KEY


async def test_mutations_fail_closed_when_the_store_is_down(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engines = [
        down_engine(tmp_path),
        create_engine(f"sqlite:///{tmp_path}/never-migrated.sqlite3"),
        create_engine(f"postgresql://postgres@127.0.0.1:{port}/test"),
    ]
    try:
        for unreachable in engines:
            store = _store(unreachable)
            with pytest.raises(IdempotencyUnavailable):
                await store.begin("cli_a", "k-1", OPERATION, PAYLOAD)
            with pytest.raises(IdempotencyUnavailable):
                await store.purge_expired()
    finally:
        for unreachable in engines:
            await unreachable.dispose()


async def test_a_claim_whose_store_went_down_cannot_be_completed(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    claim = await _fresh(_store(engine))
    unreachable = down_engine(tmp_path)
    try:
        with pytest.raises(IdempotencyUnavailable):
            await _store(unreachable).complete(claim, "app-1")
    finally:
        await unreachable.dispose()
