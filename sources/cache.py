"""The hub's cache: a bounded in-process tier in front of an optional shared tier (Redis).

Caching follows the data class (ARCHITECTURE, principle 4):

- ``PERSONAL``: never cached. :meth:`HubCache.get_or_load` just awaits ``load()``; it does not
  even coalesce concurrent calls, because two principals asking the same question must each get
  the answer the owner gives *them*.
- ``REFERENCE``, ``PUBLIC``, ``AGGREGATE``: cached with a TTL per class (24 h, 60 s, 15 min by
  default). ``PUBLIC`` values are kept ``stale_for`` seconds past their TTL (10 min by default), so
  that a partner failure is answered with the last good value, marked stale (stale-if-error).

Both tiers hold the same bytes: orjson of the envelope ``{"v": encoded value, "t": stored at,
epoch seconds}``. Every caller gets a freshly decoded object, so mutating it cannot poison the
cache, and a value from the local tier is indistinguishable from one read from Redis. The local
tier is bounded in bytes (the sum of its entries' encoded sizes, ``local_max_bytes``), because
one entry may be a single look-up or a page of 500 offers; 0 turns it off (Redis only).

:meth:`HubCache.get_payload` and :meth:`HubCache.set_payload` keep opaque bytes that are served
as they are, with no envelope to decode (the response cache's serialised answers), in the same
two tiers and under the same byte budget.

Keys are ``<namespace>:v<version>:<kind>:<sha256 of the canonical orjson of the parts>``: no raw
value ever appears in a key. When data depends on who asks, the caller puts the principal's scope
in the parts. Bumping ``version`` abandons every key written in an older envelope or encoding.

The shared tier fails open: each call is cut after ``shared_timeout_s``; an error is counted,
logged at most once a minute (without keys or values), and the cache then leaves the shared tier
alone for ``shared_backoff_s``, so a dead Redis costs one timeout per back-off period, not one per
request. Concurrent cold requests for one key run ``load()`` once per process (single-flight).

Usage::

    cache = HubCache.from_url(settings.cache_url)
    result = await cache.get_or_load(
        DataClass.PUBLIC, "offer_page", (partner, *query.cache_key_parts()),
        lambda: adapter.list(query),
        encode=page_to_json, decode=page_from_json,
    )
    result.value, result.from_cache, result.stale, result.age_s
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import re
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Generic, NamedTuple, TypeVar

import orjson
from aiocache import RedisCache
from aiocache.serializers import NullSerializer
from cachetools import TLRUCache
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from adapters.errors import SourceError
from adapters.types import DataClass

__all__ = ["DEFAULT_STALE_WINDOWS", "DEFAULT_TTLS", "CacheResult", "CacheStats", "HubCache"]

T = TypeVar("T")
R = TypeVar("R")
JSON = Any  # what ``encode`` returns and ``decode`` takes: anything orjson can serialize

log = logging.getLogger(__name__)

DEFAULT_TTLS: Mapping[DataClass, float] = {
    DataClass.REFERENCE: 24 * 3600.0,
    DataClass.PUBLIC: 60.0,
    DataClass.AGGREGATE: 15 * 60.0,
}
DEFAULT_STALE_WINDOWS: Mapping[DataClass, float] = {DataClass.PUBLIC: 10 * 60.0}

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_WARN_EVERY_S = 60.0


@dataclass(frozen=True, slots=True)
class CacheResult(Generic[T]):
    value: T
    from_cache: bool  # what Provenance.from_cache should say
    stale: bool = False  # served past its TTL because the partner failed
    age_s: float = 0.0  # seconds since the value was fetched from the partner


@dataclass(slots=True)
class CacheStats:
    """Counters for /metrics and tests; each is a running total for this process."""

    hits_local: int = 0
    hits_shared: int = 0
    misses: int = 0  # no fresh value in either tier (a stale one may have been there)
    loads: int = 0  # calls of load() for cacheable data
    coalesced: int = 0  # callers that joined a load already in flight
    stale_served: int = 0
    bypassed: int = 0  # PERSONAL calls: never cached
    shared_errors: int = 0  # shared-tier calls that failed or timed out

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Entry(NamedTuple):
    payload: bytes  # the serialized envelope, identical in both tiers
    stored_at: float  # epoch seconds: comparable across processes
    keep_until: float  # epoch seconds: when no tier may hold it any more

    @classmethod
    def seal(cls, encoded: JSON, keep_for: float) -> _Entry:
        now = time.time()
        return cls(orjson.dumps({"v": encoded, "t": now}), now, now + keep_for)

    @classmethod
    def parse(cls, payload: bytes, keep_for: float) -> _Entry | None:
        try:
            envelope = orjson.loads(payload)
            stored_at = float(envelope["t"])
            has_value = "v" in envelope
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
        return cls(payload, stored_at, stored_at + keep_for) if has_value else None

    def age(self) -> float:
        return max(0.0, time.time() - self.stored_at)

    def value(self) -> JSON:
        return orjson.loads(self.payload)["v"]


class _Outcome(NamedTuple):
    entry: _Entry
    from_cache: bool
    stale: bool


def _entry_size(entry: _Entry) -> int:
    return len(entry.payload)


def _time_to_use(_key: str, entry: _Entry, now: float) -> float:
    # TLRUCache runs on the monotonic clock; the entry's deadline is on the wall clock.
    return now + (entry.keep_until - time.time())


def _unframe(raw: bytes) -> _Entry | None:
    """A payload read from the shared tier: ``<keep until, epoch seconds>\\n<bytes>``."""
    header, newline, payload = raw.partition(b"\n")
    try:
        keep_until = float(header)
    except ValueError:
        return None
    if not newline or keep_until <= time.time():
        return None
    return _Entry(payload, keep_until, keep_until)


def _canonical(obj: Any) -> Any:
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=lambda item: orjson.dumps(item, default=_canonical))
    raise TypeError


def _is_partner_failure(exc: BaseException) -> bool:
    return isinstance(exc, SourceError)


def _shared_tier(url: str, timeout_s: float) -> RedisCache | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "memory":
        return None
    if parts.scheme not in ("redis", "rediss"):
        # The URL itself is not repeated: it may hold a password.
        raise ValueError(
            f"unsupported cache URL scheme {parts.scheme!r}: use memory:// or redis://host:port/db"
        )
    unquote = urllib.parse.unquote
    # One immediate retry, so a pooled connection broken by a Redis restart is replaced at once
    # instead of costing an error and a back-off; the overall timeout still bounds the call.
    pool_kwargs: dict[str, Any] = {"retry": Retry(NoBackoff(), 1)}
    if parts.username:
        pool_kwargs["username"] = unquote(parts.username)
    return RedisCache(
        endpoint=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(parts.path.strip("/") or 0),
        password=unquote(parts.password) if parts.password else None,
        ssl=parts.scheme == "rediss",
        # The envelope is already bytes; Redis must hand them back undecoded.
        serializer=NullSerializer(encoding=None),
        # Timeouts are ours (asyncio.timeout around every call), not aiocache's wait_for.
        timeout=None,
        create_connection_timeout=timeout_s,
        connection_pool_kwargs=pool_kwargs,
    )


class HubCache:
    """Memory tier (always) plus shared tier (``redis://``), policy by :class:`DataClass`."""

    def __init__(
        self,
        url: str = "memory://",
        *,
        namespace: str = "hub",
        version: int = 1,
        local_max_bytes: int = 64 * 1024 * 1024,
        shared_timeout_s: float = 0.05,
        shared_backoff_s: float = 2.0,
        ttls: Mapping[DataClass, float] | None = None,
        stale_windows: Mapping[DataClass, float] | None = None,
        is_partner_failure: Callable[[BaseException], bool] = _is_partner_failure,
    ) -> None:
        if not _NAME.match(namespace):
            raise ValueError("cache namespace must be a snake_case name")
        self._prefix = f"{namespace}:v{int(version)}:"
        self._ttls = {**DEFAULT_TTLS, **(ttls or {})}
        self._stale_windows = {**DEFAULT_STALE_WINDOWS, **(stale_windows or {})}
        self._is_partner_failure = is_partner_failure
        # local_max_bytes=0 turns the local tier off (TLRUCache(0) would refuse every entry).
        self._local: TLRUCache[str, _Entry] = TLRUCache(
            max(local_max_bytes, 1), _time_to_use, getsizeof=_entry_size
        )
        self._local_on = local_max_bytes > 0
        self._shared = _shared_tier(url, shared_timeout_s)
        self._shared_timeout_s = shared_timeout_s
        self._shared_backoff_s = shared_backoff_s
        self._shared_closed_until = 0.0  # monotonic; the shared tier is skipped before it
        self._shared_failing = False
        self._last_warning = float("-inf")
        self._flights: dict[str, asyncio.Task[_Outcome]] = {}
        self._plain_flights: dict[str, asyncio.Future[Any]] = {}
        self.stats = CacheStats()
        # (data class, hit): a partner answer asked for and found fresh (hit) or not, so that
        # /metrics shows the hit ratio of each data class.
        self.lookups: Counter[tuple[DataClass, bool]] = Counter()

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> HubCache:
        """``memory://`` (one process) or ``redis://[user:password@]host:port/db`` (replicas)."""
        return cls(url, **kw)

    @property
    def local_entries(self) -> int:
        return len(self._local)

    @property
    def local_bytes(self) -> int:
        """The encoded size of what the local tier holds (never above ``local_max_bytes``)."""
        return int(self._local.currsize)

    def fresh_for(self, data_class: DataClass, ttl: float | None = None) -> float:
        """How long a value of ``data_class`` stays fresh (``ttl`` overrides the default)."""
        return self._ttls.get(data_class, 0.0) if ttl is None else ttl

    def key(self, kind: str, *parts: object) -> str:
        """The storage key: namespaced, versioned, hashed; ``kind`` is a snake_case constant."""
        if not _NAME.match(kind):
            raise ValueError("cache kind must be a snake_case name")
        try:
            canonical = orjson.dumps(parts, default=_canonical, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError as exc:
            raise TypeError(
                "cache key parts must be JSON-like (str, numbers, None, lists, tuples, sets, "
                "dicts with str keys, dataclasses, enums)"
            ) from exc
        return f"{self._prefix}{kind}:{hashlib.sha256(canonical).hexdigest()}"

    async def get_or_load(
        self,
        data_class: DataClass,
        kind: str,
        parts: tuple[object, ...],
        load: Callable[[], Awaitable[T]],
        *,
        encode: Callable[[T], JSON],
        decode: Callable[[JSON], T],
        ttl: float | None = None,
        stale_for: float | None = None,
    ) -> CacheResult[T]:
        """The cached value for (kind, parts), else ``load()``'s, stored for the next caller.

        ``ttl`` and ``stale_for`` override the data class's defaults for this call. ``load`` runs
        in its own task, shared by concurrent callers of the same key: a caller cancelled while
        waiting does not cancel it, so ``load`` must carry its own deadline (partner adapters do).
        """
        if data_class is DataClass.PERSONAL:
            self.stats.bypassed += 1
            return CacheResult(await load(), from_cache=False)
        fresh_for = self._ttls[data_class] if ttl is None else ttl
        if stale_for is None:
            stale_for = self._stale_windows.get(data_class, 0.0)
        keep_for = fresh_for + stale_for
        if not 0 < fresh_for <= keep_for:
            raise ValueError("ttl must be positive and stale_for not negative")
        key = self.key(kind, *parts)

        entry = self._local.get(key)
        if entry is not None and entry.age() < fresh_for:
            self.stats.hits_local += 1
            self.lookups[data_class, True] += 1
            return CacheResult(decode(entry.value()), from_cache=True, age_s=entry.age())

        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.create_task(self._fill(key, fresh_for, keep_for, load, encode))
            self._flights[key] = flight
            flight.add_done_callback(functools.partial(self._landed, key))
        else:
            self.stats.coalesced += 1
        outcome = await asyncio.shield(flight)
        self.lookups[data_class, outcome.from_cache] += 1
        return CacheResult(
            decode(outcome.entry.value()),
            from_cache=outcome.from_cache,
            stale=outcome.stale,
            age_s=outcome.entry.age() if outcome.from_cache else 0.0,
        )

    async def get_many(
        self,
        data_class: DataClass,
        kind: str,
        parts_list: Sequence[tuple[object, ...]],
        *,
        decode: Callable[[JSON], T],
        ttl: float | None = None,
    ) -> list[CacheResult[T] | None]:
        """Fresh values for many keys at once (local tier, then one shared-tier round trip).

        Batched look-ups use it with :meth:`set_many`: the hits are served, and only the misses
        go to the partner, in one call.
        """
        if data_class is DataClass.PERSONAL or not parts_list:
            return [None] * len(parts_list)
        fresh_for = self._ttls[data_class] if ttl is None else ttl
        keys = [self.key(kind, *parts) for parts in parts_list]
        found: list[CacheResult[T] | None] = [None] * len(keys)
        remote: list[int] = []
        for index, key in enumerate(keys):
            entry = self._local.get(key)
            if entry is not None and entry.age() < fresh_for:
                self.stats.hits_local += 1
                found[index] = CacheResult(
                    decode(entry.value()), from_cache=True, age_s=entry.age()
                )
            else:
                remote.append(index)
        if remote and self._shared is not None:
            wanted = [keys[i] for i in remote]
            payloads = await self._on_shared(lambda shared: shared.multi_get(wanted))
            for index, payload in zip(remote, payloads or [], strict=False):
                if not isinstance(payload, bytes):
                    continue
                entry = _Entry.parse(payload, fresh_for)
                if entry is not None and entry.age() < fresh_for:
                    self._remember(keys[index], entry)
                    self.stats.hits_shared += 1
                    found[index] = CacheResult(
                        decode(entry.value()), from_cache=True, age_s=entry.age()
                    )
        missed = sum(1 for item in found if item is None)
        self.stats.misses += missed
        self.lookups[data_class, True] += len(found) - missed
        self.lookups[data_class, False] += missed
        return found

    async def set_many(
        self,
        data_class: DataClass,
        kind: str,
        items: Sequence[tuple[tuple[object, ...], T]],
        *,
        encode: Callable[[T], JSON],
        ttl: float | None = None,
    ) -> None:
        """Store many values (both tiers, one shared-tier round trip, a TTL on each key)."""
        if data_class is DataClass.PERSONAL or not items:
            return
        keep_for = self._ttls[data_class] if ttl is None else ttl
        pairs = []
        for parts, value in items:
            key = self.key(kind, *parts)
            entry = _Entry.seal(encode(value), keep_for)
            self._remember(key, entry)
            pairs.append((key, entry.payload))
        await self._on_shared(lambda shared: shared.multi_set(pairs, ttl=float(keep_for)))

    async def single_flight(
        self, kind: str, parts: tuple[object, ...], load: Callable[[], Awaitable[T]]
    ) -> T:
        """Run ``load`` once for concurrent callers with the same (kind, parts); cache nothing.

        For work that must not be duplicated inside one process (a batched partner call whose
        keys are then stored one by one) but whose result is not itself a cache entry.
        """
        key = "flight:" + self.key(kind, *parts)
        flight = self._plain_flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(load())
            self._plain_flights[key] = flight
            flight.add_done_callback(lambda done: self._plain_flights.pop(key, None))
        else:
            self.stats.coalesced += 1
        return await asyncio.shield(flight)

    async def get_payload(self, key: str) -> bytes | None:
        """The bytes stored under ``key`` (from :meth:`key`) while they are fresh, else None:
        the local tier, then the shared tier (a shared hit is kept locally until it expires).
        Its caller counts its own hits: :attr:`stats` counts partner answers only."""
        entry = self._local.get(key)
        if entry is not None:
            return entry.payload
        raw = await self._on_shared(lambda shared: shared.get(key))
        found = _unframe(raw) if isinstance(raw, bytes) else None
        if found is None:
            return None
        self._remember(key, found)
        return found.payload

    async def set_payload(self, key: str, payload: bytes, fresh_for: float) -> None:
        """Keep ``payload`` under ``key`` for ``fresh_for`` seconds in both tiers (no stale
        window: whoever stores opaque bytes decides how long they are right)."""
        if fresh_for <= 0:
            return
        now = time.time()
        entry = _Entry(payload, now, now + fresh_for)
        self._remember(key, entry)
        framed = b"%r\n" % entry.keep_until + payload
        await self._on_shared(lambda shared: shared.set(key, framed, ttl=float(fresh_for)))

    async def delete(self, kind: str, *parts: object) -> None:
        """Forget one key here and in the shared tier (other replicas' local tiers keep theirs
        until it expires)."""
        key = self.key(kind, *parts)
        self._local.pop(key, None)
        await self._on_shared(lambda shared: shared.delete(key))

    async def aclose(self) -> None:
        for flight in list(self._flights.values()):
            flight.cancel()
        await asyncio.gather(*self._flights.values(), return_exceptions=True)
        if self._shared is not None:
            # redis-py's own aclose: aiocache 0.12's close() calls the deprecated close().
            with contextlib.suppress(Exception):
                await self._shared.client.aclose()

    async def _fill(
        self,
        key: str,
        fresh_for: float,
        keep_for: float,
        load: Callable[[], Awaitable[T]],
        encode: Callable[[T], JSON],
    ) -> _Outcome:
        fallback = self._local.get(key)
        payload = await self._on_shared(lambda shared: shared.get(key))
        if isinstance(payload, bytes):
            found = _Entry.parse(payload, keep_for)
            if found is not None and (fallback is None or found.stored_at > fallback.stored_at):
                fallback = found
                if found.age() < fresh_for:
                    self._remember(key, found)
                    self.stats.hits_shared += 1
                    return _Outcome(found, from_cache=True, stale=False)

        self.stats.misses += 1
        self.stats.loads += 1
        try:
            value = await load()
        except Exception as exc:
            if fallback is not None and fallback.age() < keep_for and self._is_partner_failure(exc):
                self.stats.stale_served += 1
                return _Outcome(fallback, from_cache=True, stale=True)
            raise
        entry = _Entry.seal(encode(value), keep_for)
        self._remember(key, entry)
        # A TTL on every key: Redis forgets the value when no tier may serve it any more.
        await self._on_shared(lambda shared: shared.set(key, entry.payload, ttl=float(keep_for)))
        return _Outcome(entry, from_cache=False, stale=False)

    def _remember(self, key: str, entry: _Entry) -> None:
        # An entry larger than the whole tier is not kept locally (cachetools refuses it).
        if self._local_on and _entry_size(entry) <= self._local.maxsize:
            self._local[key] = entry

    def _landed(self, key: str, flight: asyncio.Task[_Outcome]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # retrieved: every waiting caller has it, or none is left to care

    async def _on_shared(self, call: Callable[[RedisCache], Awaitable[R]]) -> R | None:
        """Run one shared-tier call, or skip it; never raise, never wait past the timeout."""
        if self._shared is None or time.monotonic() < self._shared_closed_until:
            return None
        try:
            async with asyncio.timeout(self._shared_timeout_s):
                result = await call(self._shared)
        except Exception as exc:  # fail open: the partners still answer
            self._shared_failed(exc)
            return None
        if self._shared_failing:
            self._shared_failing = False
            log.info("shared cache reachable again")
        return result

    def _shared_failed(self, exc: Exception) -> None:
        self.stats.shared_errors += 1
        self._shared_failing = True
        now = time.monotonic()
        self._shared_closed_until = now + self._shared_backoff_s
        if now - self._last_warning >= _WARN_EVERY_S:
            self._last_warning = now
            # The exception's type only: its text may name a host or a key.
            log.warning(
                "shared cache unavailable (%s): answering without it for %.1f s; %d errors so far",
                type(exc).__name__,
                self._shared_backoff_s,
                self.stats.shared_errors,
            )
