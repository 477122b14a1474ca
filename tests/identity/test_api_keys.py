"""API keys against a real (SQLite) gateway database: checked by keyed hash, revoked within
the cache's TTL, and an outage of the database neither accepts nor refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.api_keys import ApiKeyVerifier, IssuedKey, hash_secret, issue_key, pepper_bytes
from identity.errors import IdentityUnavailable, Unauthenticated
from identity.principal import Principal, Role
from store.clients import insert_client, revoke_client
from store.database import create_engine
from store.migrate import upgrade
from store.models import ApiClient

PEPPER = pepper_bytes("a-test-pepper-of-at-least-32-characters")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path}/hub.sqlite3")
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def _add(engine: AsyncEngine, key: IssuedKey, client_id: str = "cli_1") -> None:
    await insert_client(
        engine,
        ApiClient(
            id=client_id,
            name="centre app",
            role="TRAINING_CENTRE",
            organisation="0732727T",
            subject="app-1",
            created_at=datetime.now(UTC),
            key_id=key.key_id,
            key_hash=hash_secret(key.secret, PEPPER),
        ),
    )


def test_keys_have_the_documented_form_and_entropy() -> None:
    key = issue_key()
    prefix, key_id, secret = key.key.split("_", 2)
    assert prefix == "ahk" and key_id == key.key_id and secret == key.secret
    assert len(key_id) == 16 and len(secret) == 43  # 256 bits of secret
    assert issue_key().secret != key.secret
    assert hash_secret(key.secret, PEPPER) != hash_secret(key.secret, b"x" * 32)
    with pytest.raises(ValueError, match="32 characters"):
        pepper_bytes("short")


async def test_a_stored_key_gives_its_client_principal(engine: AsyncEngine) -> None:
    key = issue_key()
    await _add(engine, key)
    verifier = ApiKeyVerifier(engine, PEPPER, ttl_s=0)
    assert await verifier.verify(key.key) == Principal(
        Role.TRAINING_CENTRE, "0732727T", "app-1", client_id="cli_1"
    )


async def test_wrong_secrets_unknown_ids_and_other_peppers_are_refused(engine: AsyncEngine) -> None:
    key = issue_key()
    await _add(engine, key)
    verifier = ApiKeyVerifier(engine, PEPPER, ttl_s=0)
    other = issue_key()
    for wrong in (
        f"ahk_{key.key_id}_{other.secret}",  # right id, wrong secret
        other.key,  # unknown id
        key.key[:-1],  # not the form
        key.key + "x",
    ):
        with pytest.raises(Unauthenticated):
            await verifier.verify(wrong)
    with pytest.raises(Unauthenticated):
        await ApiKeyVerifier(engine, b"another-pepper-of-32-characters!", 0).verify(key.key)


async def test_a_revocation_takes_effect_once_the_cache_entry_expires(
    engine: AsyncEngine,
) -> None:
    key = issue_key()
    await _add(engine, key)
    clock = Clock()
    verifier = ApiKeyVerifier(engine, PEPPER, ttl_s=5, clock=clock)
    assert (await verifier.verify(key.key)).client_id == "cli_1"
    assert await revoke_client(engine, "cli_1", datetime.now(UTC))
    assert (await verifier.verify(key.key)).client_id == "cli_1"  # cached: within the TTL
    clock.now += 5.1
    with pytest.raises(Unauthenticated) as refused:
        await verifier.verify(key.key)
    assert refused.value.check == "api_key_revoked"


async def test_an_unknown_key_id_is_cached_too(engine: AsyncEngine) -> None:
    """A flood of one bad key costs one query per TTL; a key added since is found after it."""
    key = issue_key()
    clock = Clock()
    verifier = ApiKeyVerifier(engine, PEPPER, ttl_s=5, clock=clock)
    with pytest.raises(Unauthenticated):
        await verifier.verify(key.key)
    await _add(engine, key)
    with pytest.raises(Unauthenticated):
        await verifier.verify(key.key)  # the negative answer, from the cache
    clock.now += 5.1
    assert (await verifier.verify(key.key)).organisation == "0732727T"


async def test_an_unreadable_database_is_neither_yes_nor_no(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/never-migrated.sqlite3")
    try:
        with pytest.raises(IdentityUnavailable):
            await ApiKeyVerifier(engine, PEPPER, ttl_s=5).verify(issue_key().key)
    finally:
        await engine.dispose()
