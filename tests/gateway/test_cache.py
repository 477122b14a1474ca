"""The hub's cache: tiers, TTLs by data class, single-flight, stale-if-error, fail-open.

The Redis tests use a real Redis (tests.services.redis_url), one namespace per test, and delete
their keys afterwards; the outage tests start a private redis-server they can kill or freeze.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from adapters.errors import SourceUnavailable
from adapters.types import DataClass, Provenance, Record
from sources.cache import HubCache
from tests.services import redis_server_binary, redis_url

ROOT = Path(__file__).resolve().parents[2]

PUBLIC = DataClass.PUBLIC
REFERENCE = DataClass.REFERENCE
AGGREGATE = DataClass.AGGREGATE
PERSONAL = DataClass.PERSONAL

CANARIES = ("camille.canary@example.org", "Canarybirdsson", "1999-12-31")


def same(value: Any) -> Any:
    return value


class Loader:
    """A partner stand-in that counts its calls and can be told to fail."""

    def __init__(self, value: Any = None, *, fails_with: BaseException | None = None) -> None:
        self.value = value if value is not None else {"offers": [{"id": "o1"}]}
        self.fails_with = fails_with
        self.calls = 0

    async def __call__(self) -> Any:
        self.calls += 1
        await asyncio.sleep(0)
        if self.fails_with is not None:
            raise self.fails_with
        return self.value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


CacheFactory = Callable[..., HubCache]


@pytest.fixture
async def make_cache() -> AsyncIterator[CacheFactory]:
    """HubCache.from_url, with every cache closed after the test, pass or fail."""
    made: list[HubCache] = []

    def make(url: str = "memory://", **kw: Any) -> HubCache:
        made.append(HubCache.from_url(url, **kw))
        return made[-1]

    yield make
    for cache in made:
        await cache.aclose()


@pytest.fixture
def memory_cache(make_cache: CacheFactory) -> HubCache:
    return make_cache()


# --- keys -------------------------------------------------------------------------------------


def test_key_is_namespaced_versioned_and_hashed() -> None:
    cache = HubCache()
    key = cache.key("candidate_search", {"email": CANARIES[0], "name": CANARIES[1]})
    assert re.fullmatch(r"hub:v1:candidate_search:[0-9a-f]{64}", key)
    assert not any(canary.lower() in key.lower() for canary in CANARIES)
    assert HubCache(version=2).key("offer_page", 1).startswith("hub:v2:offer_page:")


def test_key_is_canonical_but_tells_values_apart() -> None:
    cache = HubCache()
    assert cache.key("k", {"a": 1, "b": 2}) == cache.key("k", {"b": 2, "a": 1})
    assert cache.key("k", {"x", "y"}) == cache.key("k", {"y", "x"})
    distinct = {cache.key("k", part) for part in (1, "1", 1.5, True, None, [1], ("2",))}
    assert len(distinct) == 7
    assert cache.key("k", "scope-a", 1) != cache.key("k", "scope-b", 1)
    assert cache.key("k", 1) != cache.key("other", 1)


def test_key_refuses_free_text_kinds_and_unknown_types() -> None:
    cache = HubCache()
    with pytest.raises(ValueError, match="snake_case"):
        cache.key("Offers of " + CANARIES[1])
    with pytest.raises(TypeError, match="JSON-like"):
        cache.key("k", object())


def test_unsupported_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="memory:// or redis://") as caught:
        HubCache("mongodb://admin:s3cret-canary@127.0.0.1:27017")
    assert "s3cret-canary" not in str(caught.value)


# --- memory tier ------------------------------------------------------------------------------


async def test_miss_then_hit(memory_cache: HubCache) -> None:
    load = Loader({"offers": [{"id": "o1"}]})
    first = await memory_cache.get_or_load(
        PUBLIC, "offer_page", ("q",), load, encode=same, decode=same
    )
    second = await memory_cache.get_or_load(
        PUBLIC, "offer_page", ("q",), load, encode=same, decode=same
    )
    assert (first.from_cache, second.from_cache) == (False, True)
    assert first.value == second.value == {"offers": [{"id": "o1"}]}
    assert load.calls == 1
    assert memory_cache.stats.hits_local == 1
    assert (memory_cache.stats.misses, memory_cache.stats.loads) == (1, 1)


async def test_value_expires_after_its_ttl(memory_cache: HubCache) -> None:
    load = Loader()
    for _ in range(2):
        await memory_cache.get_or_load(
            AGGREGATE, "cell", (1,), load, encode=same, decode=same, ttl=0.2
        )
    assert load.calls == 1
    await asyncio.sleep(0.3)
    again = await memory_cache.get_or_load(
        AGGREGATE, "cell", (1,), load, encode=same, decode=same, ttl=0.2
    )
    assert again.from_cache is False
    assert load.calls == 2


async def test_a_returned_value_cannot_poison_the_cache(memory_cache: HubCache) -> None:
    load = Loader({"offers": [{"id": "o1"}]})
    first = await memory_cache.get_or_load(
        PUBLIC, "offer_page", ("q",), load, encode=same, decode=same
    )
    first.value["offers"].append({"id": "injected"})
    second = await memory_cache.get_or_load(
        PUBLIC, "offer_page", ("q",), load, encode=same, decode=same
    )
    assert second.value == {"offers": [{"id": "o1"}]}


async def test_records_round_trip_with_provenance(memory_cache: HubCache) -> None:
    fetched = Provenance("francetravail", "1", "2025-01-01T00:00:00Z")
    record = Record("Offer", {"title": "Boulanger"}, [fetched])

    async def load() -> list[Record]:
        return [record]

    def encode(records: list[Record]) -> Any:
        return [r.to_json() for r in records]

    def decode(data: Any) -> list[Record]:
        return [Record.from_json(r) for r in data]

    await memory_cache.get_or_load(PUBLIC, "offer_page", ("q",), load, encode=encode, decode=decode)
    hit = await memory_cache.get_or_load(
        PUBLIC, "offer_page", ("q",), load, encode=encode, decode=decode
    )
    assert hit.from_cache
    assert hit.value == [record]


async def test_local_tier_stays_bounded_in_bytes(make_cache: CacheFactory) -> None:
    cache = make_cache(local_max_bytes=64 * 1024)
    load = Loader({"n": 1})
    for i in range(20_000):
        await cache.get_or_load(REFERENCE, "commune", (i,), load, encode=same, decode=same)
    assert 0 < cache.local_bytes <= 64 * 1024
    latest = await cache.get_or_load(
        REFERENCE, "commune", (19_999,), load, encode=same, decode=same
    )
    oldest = await cache.get_or_load(REFERENCE, "commune", (0,), load, encode=same, decode=same)
    assert (latest.from_cache, oldest.from_cache) == (True, False)


async def test_the_byte_bound_counts_sizes_not_entries(make_cache: CacheFactory) -> None:
    cache = make_cache(local_max_bytes=100_000)
    small, large = Loader({"n": 1}), Loader({"text": "x" * 30_000})
    for i in range(3):
        await cache.get_or_load(PUBLIC, "offer_page", ("large", i), large, encode=same, decode=same)
    assert cache.local_entries == 3
    await cache.get_or_load(PUBLIC, "offer_page", ("large", 3), large, encode=same, decode=same)
    assert cache.local_entries == 3  # a fourth 30 kB answer pushes the oldest out
    for i in range(100):
        await cache.get_or_load(PUBLIC, "offer_page", ("small", i), small, encode=same, decode=same)
    assert cache.local_entries > 100  # while a hundred small ones fit beside two large ones
    assert cache.local_bytes <= 100_000


async def test_a_value_larger_than_the_tier_is_served_but_not_kept(
    make_cache: CacheFactory,
) -> None:
    cache = make_cache(local_max_bytes=1_000)
    load = Loader({"text": "x" * 5_000})
    for _ in range(2):
        result = await cache.get_or_load(
            PUBLIC, "offer_page", ("q",), load, encode=same, decode=same
        )
        assert result.value == {"text": "x" * 5_000}
    assert (load.calls, cache.local_entries) == (2, 0)


async def test_a_zero_sized_local_tier_caches_nothing(make_cache: CacheFactory) -> None:
    cache = make_cache(local_max_bytes=0)
    load = Loader()
    for _ in range(2):
        await cache.get_or_load(PUBLIC, "offer_page", ("q",), load, encode=same, decode=same)
    assert (load.calls, cache.local_entries) == (2, 0)


async def test_payloads_are_served_as_stored_until_they_expire(make_cache: CacheFactory) -> None:
    cache = make_cache()
    key = cache.key("response", "q")
    await cache.set_payload(key, b'{"data":{}}', fresh_for=0.2)
    assert await cache.get_payload(key) == b'{"data":{}}'
    await asyncio.sleep(0.25)
    assert await cache.get_payload(key) is None


async def test_personal_data_is_never_cached_nor_shared_between_callers(
    memory_cache: HubCache,
) -> None:
    gate = asyncio.Event()
    calls = 0

    async def load() -> dict[str, str]:
        nonlocal calls
        calls += 1
        await gate.wait()
        return {"email": CANARIES[0]}

    callers = [
        asyncio.create_task(
            memory_cache.get_or_load(PERSONAL, "candidate", ("c1",), load, encode=same, decode=same)
        )
        for _ in range(3)
    ]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*callers)
    again = await memory_cache.get_or_load(
        PERSONAL, "candidate", ("c1",), load, encode=same, decode=same
    )
    assert calls == 4
    assert not any(r.from_cache for r in [*results, again])
    assert memory_cache.local_entries == 0
    assert memory_cache.stats.bypassed == 4


# --- single-flight ----------------------------------------------------------------------------


async def test_concurrent_cold_requests_call_the_partner_once(memory_cache: HubCache) -> None:
    gate = asyncio.Event()
    calls = 0

    async def load() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await gate.wait()
        return {"total": 42}

    callers = [
        asyncio.create_task(
            memory_cache.get_or_load(PUBLIC, "offer_page", ("q",), load, encode=same, decode=same)
        )
        for _ in range(100)
    ]
    for _ in range(100):
        if memory_cache.stats.coalesced == 99:
            break
        await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*callers)
    assert calls == 1
    assert memory_cache.stats.coalesced == 99
    assert all(r.value == {"total": 42} for r in results)
    assert results[0].value is not results[1].value  # each caller decodes its own copy


async def test_followers_are_answered_when_the_leader_is_cancelled(
    memory_cache: HubCache,
) -> None:
    gate = asyncio.Event()
    load_calls = 0

    async def load() -> dict[str, int]:
        nonlocal load_calls
        load_calls += 1
        await gate.wait()
        return {"total": 7}

    def ask() -> asyncio.Task[Any]:
        return asyncio.create_task(
            memory_cache.get_or_load(PUBLIC, "offer_page", ("q",), load, encode=same, decode=same)
        )

    leader = ask()
    await asyncio.sleep(0)
    follower = ask()
    await asyncio.sleep(0)
    leader.cancel()
    gate.set()
    async with asyncio.timeout(5):  # a bound against hanging, not a speed assertion
        result = await follower
    assert result.value == {"total": 7}
    assert leader.cancelled()
    assert load_calls == 1


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached(
    memory_cache: HubCache,
) -> None:
    failing = Loader(fails_with=SourceUnavailable("francetravail", "503"))
    results = await asyncio.gather(
        *(
            memory_cache.get_or_load(
                PUBLIC, "offer_page", ("q",), failing, encode=same, decode=same
            )
            for _ in range(5)
        ),
        return_exceptions=True,
    )
    assert all(isinstance(r, SourceUnavailable) for r in results)
    assert failing.calls == 1
    good = Loader({"total": 1})
    result = await memory_cache.get_or_load(
        PUBLIC, "offer_page", ("q",), good, encode=same, decode=same
    )
    assert (result.value, result.from_cache, good.calls) == ({"total": 1}, False, 1)


# --- stale-if-error ---------------------------------------------------------------------------


async def test_public_data_is_served_stale_when_the_partner_fails(
    make_cache: CacheFactory,
) -> None:
    cache = make_cache(ttls={PUBLIC: 0.2}, stale_windows={PUBLIC: 30.0})

    async def ask(load: Loader) -> Any:
        return await cache.get_or_load(PUBLIC, "offer_page", ("q",), load, encode=same, decode=same)

    await ask(Loader({"version": 1}))
    await asyncio.sleep(0.3)

    stale = await ask(Loader(fails_with=SourceUnavailable("francetravail", "503")))
    assert (stale.value, stale.from_cache, stale.stale) == ({"version": 1}, True, True)
    assert stale.age_s >= 0.2
    assert cache.stats.stale_served == 1

    with pytest.raises(ValueError, match="a bug"):  # not a partner failure: no cover-up
        await ask(Loader(fails_with=ValueError("a bug")))

    fresh = await ask(Loader({"version": 2}))
    assert (fresh.value, fresh.from_cache, fresh.stale) == ({"version": 2}, False, False)
    assert (await ask(Loader({"version": 3}))).value == {"version": 2}


async def test_nothing_is_served_past_the_stale_window(make_cache: CacheFactory) -> None:
    cache = make_cache(ttls={PUBLIC: 0.1}, stale_windows={PUBLIC: 0.2})
    await cache.get_or_load(PUBLIC, "offer_page", ("q",), Loader(), encode=same, decode=same)
    await asyncio.sleep(0.4)
    with pytest.raises(SourceUnavailable):
        await cache.get_or_load(
            PUBLIC,
            "offer_page",
            ("q",),
            Loader(fails_with=SourceUnavailable("francetravail", "503")),
            encode=same,
            decode=same,
        )


async def test_reference_data_has_no_stale_window_by_default(make_cache: CacheFactory) -> None:
    cache = make_cache(ttls={REFERENCE: 0.1})
    await cache.get_or_load(REFERENCE, "commune", ("73008",), Loader(), encode=same, decode=same)
    await asyncio.sleep(0.2)
    with pytest.raises(SourceUnavailable):
        await cache.get_or_load(
            REFERENCE,
            "commune",
            ("73008",),
            Loader(fails_with=SourceUnavailable("insee", "down")),
            encode=same,
            decode=same,
        )


# --- shared tier: a real Redis ----------------------------------------------------------------


@pytest.fixture
def namespace() -> str:
    return f"hubtest_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client(namespace: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url())
    yield client
    keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def namespace_keys(client: aioredis.Redis, namespace: str) -> list[str]:
    return sorted([key.decode() async for key in client.scan_iter(match=f"{namespace}:*")])


@pytest.fixture
def replica(make_cache: CacheFactory) -> Callable[..., HubCache]:
    """One gateway replica's cache; a generous timeout where the shared tier must answer."""

    def make(url: str, namespace: str, **kw: Any) -> HubCache:
        kw.setdefault("shared_timeout_s", 2.0)
        return make_cache(url, namespace=namespace, **kw)

    return make


@pytest.mark.redis
async def test_two_replicas_share_a_hit(
    redis_client: aioredis.Redis, namespace: str, replica: Callable[..., HubCache]
) -> None:
    first, second = replica(redis_url(), namespace), replica(redis_url(), namespace)
    first_load, second_load = Loader({"total": 12}), Loader({"total": 99})
    loaded = await first.get_or_load(
        PUBLIC, "offer_page", ("q",), first_load, encode=same, decode=same
    )
    shared = await second.get_or_load(
        PUBLIC, "offer_page", ("q",), second_load, encode=same, decode=same
    )
    assert loaded.from_cache is False
    assert (shared.value, shared.from_cache) == ({"total": 12}, True)
    assert second_load.calls == 0
    assert second.stats.hits_shared == 1
    local = await second.get_or_load(
        PUBLIC, "offer_page", ("q",), second_load, encode=same, decode=same
    )
    assert local.from_cache and second.stats.hits_local == 1


@pytest.mark.redis
async def test_a_payload_is_shared_between_replicas_until_it_expires(
    redis_client: aioredis.Redis, namespace: str, replica: Callable[..., HubCache]
) -> None:
    first, second = replica(redis_url(), namespace), replica(redis_url(), namespace)
    key = first.key("response", "q")
    await first.set_payload(key, b'{"data":{"n":1}}', fresh_for=0.5)
    assert 0 < await redis_client.pttl(key) <= 500
    assert await second.get_payload(key) == b'{"data":{"n":1}}'
    assert second.local_entries == 1  # kept locally until the same instant
    await asyncio.sleep(0.6)
    assert await second.get_payload(key) is None
    assert await first.get_payload(key) is None


@pytest.mark.redis
async def test_every_redis_key_is_hashed_with_a_ttl_and_no_personal_data(
    redis_client: aioredis.Redis, namespace: str, replica: Callable[..., HubCache]
) -> None:
    cache = replica(redis_url(), namespace)
    email, name, birth = CANARIES
    scope = f"principal:{email}"
    await cache.get_or_load(
        REFERENCE, "commune", (name,), Loader({"name": "Chambéry"}), encode=same, decode=same
    )
    await cache.get_or_load(
        PUBLIC, "offer_page", (scope, {"q": name}), Loader(), encode=same, decode=same
    )
    await cache.get_or_load(
        AGGREGATE, "observatory_cell", (scope, birth), Loader({"n": 11}), encode=same, decode=same
    )
    await cache.get_or_load(
        PERSONAL,
        "candidate",
        (email,),
        Loader({"email": email, "name": name, "birth_date": birth}),
        encode=same,
        decode=same,
    )

    keys = await namespace_keys(redis_client, namespace)
    assert len(keys) == 3  # the PERSONAL answer is not there
    ttls = {}
    for key in keys:
        assert re.fullmatch(rf"{namespace}:v1:[a-z_]+:[0-9a-f]{{64}}", key)
        assert not any(canary.lower() in key.lower() for canary in CANARIES)
        ttl = await redis_client.ttl(key)
        assert ttl > 0
        ttls[key.split(":")[2]] = ttl
        value = await redis_client.get(key)
        assert value is not None
        assert email.encode() not in value and birth.encode() not in value
    assert 3600 < ttls["commune"] <= 24 * 3600  # REFERENCE: a day
    assert 60 < ttls["offer_page"] <= 60 + 600  # PUBLIC: a minute, plus its stale window
    assert 60 < ttls["observatory_cell"] <= 15 * 60  # AGGREGATE: a quarter of an hour
    assert cache.local_entries == 3


@pytest.mark.redis
async def test_a_stale_value_from_another_replica_covers_a_partner_failure(
    redis_client: aioredis.Redis, namespace: str, replica: Callable[..., HubCache]
) -> None:
    policy: dict[str, Any] = {"ttls": {PUBLIC: 0.2}, "stale_windows": {PUBLIC: 30.0}}
    first = replica(redis_url(), namespace, **policy)
    second = replica(redis_url(), namespace, **policy)
    await first.get_or_load(
        PUBLIC, "offer_page", ("q",), Loader({"v": 1}), encode=same, decode=same
    )
    await asyncio.sleep(0.3)
    failing = Loader(fails_with=SourceUnavailable("francetravail", "503"))
    result = await second.get_or_load(
        PUBLIC, "offer_page", ("q",), failing, encode=same, decode=same
    )
    assert (result.value, result.stale, failing.calls) == ({"v": 1}, True, 1)


@pytest.mark.redis
async def test_delete_forgets_the_key_in_both_tiers(
    redis_client: aioredis.Redis, namespace: str, replica: Callable[..., HubCache]
) -> None:
    cache = replica(redis_url(), namespace)
    await cache.get_or_load(PUBLIC, "offer_page", ("q",), Loader(), encode=same, decode=same)
    assert len(await namespace_keys(redis_client, namespace)) == 1
    await cache.delete("offer_page", "q")
    assert await namespace_keys(redis_client, namespace) == []
    assert cache.local_entries == 0


async def test_unreachable_redis_fails_open_and_backs_off(
    make_cache: CacheFactory, caplog: pytest.LogCaptureFixture
) -> None:
    cache = make_cache(f"redis://127.0.0.1:{free_port()}/0", shared_backoff_s=60.0)
    caplog.set_level(logging.WARNING, logger="sources.cache")
    for i in range(3):
        load = Loader({"n": i})
        result = await cache.get_or_load(
            PUBLIC, "offer_page", (CANARIES[0], i), load, encode=same, decode=same
        )
        assert (result.value, result.from_cache, load.calls) == ({"n": i}, False, 1)
    assert cache.stats.shared_errors == 1  # then the back-off spares the dead Redis
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "shared cache unavailable" in warnings[0]
    assert CANARIES[0] not in caplog.text


# --- a private Redis that a test can kill or freeze -------------------------------------------


class PrivateRedis:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            for _ in range(100):
                try:
                    if await client.ping():
                        return
                except (OSError, aioredis.ConnectionError):
                    await asyncio.sleep(0.05)
            raise RuntimeError("private redis-server did not start")
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self, frozen: bool) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(redis_server_binary())
    server.start()
    try:
        await server.ready()
        yield server
    finally:
        if server.process is not None:
            server.freeze(False)
        server.stop()


@pytest.mark.redis
async def test_redis_killed_mid_test_then_restarted(
    private_redis: PrivateRedis, replica: Callable[..., HubCache]
) -> None:
    first = replica(private_redis.url, "hub", shared_backoff_s=0.2)
    second = replica(private_redis.url, "hub", shared_backoff_s=0.2)

    async def ask(cache: HubCache, query: str, load: Loader) -> Any:
        return await cache.get_or_load(
            PUBLIC, "offer_page", (query,), load, encode=same, decode=same
        )

    await ask(first, "before", Loader({"v": "before"}))
    assert (await ask(second, "before", Loader())).from_cache

    private_redis.stop()
    during = Loader({"v": "during"})
    result = await ask(second, "during", during)
    assert (result.value, during.calls) == ({"v": "during"}, 1)
    assert second.stats.shared_errors >= 1
    assert (await ask(second, "before", Loader())).value == {"v": "before"}  # local tier

    private_redis.start()
    await private_redis.ready()
    await asyncio.sleep(0.3)  # past the back-off
    await ask(first, "after", Loader({"v": "after"}))
    recovered_load = Loader()
    recovered = await ask(second, "after", recovered_load)
    assert (recovered.value, recovered.from_cache, recovered_load.calls) == (
        {"v": "after"},
        True,
        0,
    )


@pytest.mark.redis
async def test_frozen_redis_fails_open_then_recovers(
    private_redis: PrivateRedis, replica: Callable[..., HubCache]
) -> None:
    cache = replica(private_redis.url, "hub", shared_timeout_s=0.2, shared_backoff_s=0.2)
    await cache.get_or_load(PUBLIC, "offer_page", ("warm",), Loader(), encode=same, decode=same)

    private_redis.freeze(True)
    load = Loader({"v": "frozen"})
    result = await cache.get_or_load(
        PUBLIC, "offer_page", ("cold",), load, encode=same, decode=same
    )
    assert (result.value, load.calls) == ({"v": "frozen"}, 1)
    assert cache.stats.shared_errors >= 1

    private_redis.freeze(False)
    await asyncio.sleep(0.3)  # past the back-off
    await cache.get_or_load(PUBLIC, "offer_page", ("thawed",), Loader(), encode=same, decode=same)
    client = aioredis.Redis.from_url(private_redis.url)
    assert await client.exists(cache.key("offer_page", "thawed")) == 1
    await client.aclose()


# --- two operating-system processes -----------------------------------------------------------

REPLICA_SCRIPT = """
import asyncio, json, os, sys

from adapters.types import DataClass
from sources.cache import HubCache


async def main() -> None:
    url, namespace = sys.argv[1], sys.argv[2]
    cache = HubCache.from_url(url, namespace=namespace, shared_timeout_s=2.0)
    calls = []

    async def load():
        calls.append(1)
        return {"answered_by": os.getpid()}

    result = await cache.get_or_load(DataClass.PUBLIC, "offer_page", ("rome:D1102",), load,
                                     encode=lambda v: v, decode=lambda v: v)
    print(json.dumps({"value": result.value, "from_cache": result.from_cache,
                      "loads": len(calls)}))


asyncio.run(main())
"""


@pytest.fixture
def replica_script(tmp_path: Path) -> Iterator[Path]:
    script = tmp_path / "replica.py"
    script.write_text(REPLICA_SCRIPT)
    yield script


def run_replica(script: Path, url: str, namespace: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script), url, namespace],
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


@pytest.mark.redis
async def test_two_processes_share_one_partner_call(
    redis_client: aioredis.Redis, namespace: str, replica_script: Path
) -> None:
    url = redis_url()
    first = await asyncio.to_thread(run_replica, replica_script, url, namespace)
    second = await asyncio.to_thread(run_replica, replica_script, url, namespace)
    assert (first["from_cache"], first["loads"]) == (False, 1)
    assert (second["from_cache"], second["loads"]) == (True, 0)
    assert second["value"] == first["value"]  # the first process's pid, not the second's
