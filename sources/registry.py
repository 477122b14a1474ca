"""The source registry: every configured partner, and how the gateway talks to them.

Each partner is wrapped in a :class:`Source` that owns its protection: an overall deadline per
call (``asyncio.timeout``, retries included: the partner's ``deadline_s``, or what the request
has left minus a margin if less, :mod:`adapters.deadline`), a bulkhead (at most
``max_concurrency`` calls in flight, so one hung partner cannot starve the others), a circuit
breaker that hears of the partner's own failures only, and a health record.
The :class:`SourceRegistry` fans a question out to every partner that can answer it, in
parallel, caches each partner's answer by data class, merges what comes back, and turns each
failure into a :class:`PartnerFailure` next to the data: a partner down is a partial answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from adapters import acting, deadline
from adapters.base import Adapter
from adapters.config import EntityMapping, PartnerBase
from adapters.errors import (
    CircuitOpen,
    PrincipalRefused,
    SourceError,
    SourceRejected,
    SourceTimeout,
)
from adapters.filtering import normalise
from adapters.partners_file import PartnersFile
from adapters.registry import build_adapter
from adapters.syntax import DATA_CLASSES, LOOKUP_KEYS, lookup_key_path
from adapters.types import DataClass, ListQuery, Page, Record, field_at
from sources import budget, freshness, lists
from sources.cache import HubCache
from sources.keys import key_rules
from sources.lists import ListPage
from sources.loop_lag import LoopLag
from sources.merge import (
    Identity,
    absorb,
    identity_fields,
    identity_of,
    merge_group,
)
from sources.partner_metrics import OK, observe_call
from sources.resilience import Breaker, Health, ResiliencePolicy

log = logging.getLogger("alternance_hub.sources")
FAIR_SHARE = 0.5
"""A timeout counts toward the breaker only after the partner had this share of its deadline:
a call the request's remaining budget cut shorter says nothing about the partner."""
T = TypeVar("T")
AskedT = TypeVar("AskedT")
AnswerT = TypeVar("AnswerT")


@dataclass(frozen=True, slots=True)
class PartnerFailure:
    partner: str
    code: str
    message: str
    field: str | None = None  # the common-syntax field a bad answer failed on, if known


def _seconds(value: float) -> str:
    """0.7, 2, 0.05: a deadline as people read it (never "0" for a short one)."""
    return f"{round(value, 1):g}" if value >= 0.1 else f"{value:.1g}"


def failure_of(error: SourceError) -> PartnerFailure:
    """The failure a client is told of: the partner, a code, and the field where one failed
    (never the value)."""
    field_name = getattr(error, "field", None)
    return PartnerFailure(
        error.partner,
        error.code,
        error.message,
        field_name if isinstance(field_name, str) else None,
    )


def answered(
    asked: Sequence[AskedT],
    answers: Sequence[AnswerT | BaseException],
    failures: list[PartnerFailure],
) -> list[tuple[AskedT, AnswerT]]:
    """The answers of partner calls made at once (``asyncio.gather(..., return_exceptions=True)``)
    beside what each was asked of: a partner's failure is added to ``failures`` (a partial
    answer), any other exception is raised (a bug is not a partner down)."""
    out = []
    for one, answer in zip(asked, answers, strict=True):
        if isinstance(answer, SourceError):
            failures.append(failure_of(answer))
        elif isinstance(answer, BaseException):
            raise answer
        else:
            out.append((one, answer))
    return out


class Source:
    def __init__(
        self,
        partner: str,
        config: PartnerBase,
        adapter: Adapter,
        policy: ResiliencePolicy | None = None,
        lag: LoopLag | None = None,
    ) -> None:
        self.partner = partner
        self.config = config
        self.adapter = adapter
        self.breaker = Breaker(config.breaker)
        self.policy = policy or ResiliencePolicy()
        self.loop_lag = lag or LoopLag()
        # Top-level common-syntax fields this partner fills, per entity: the planner asks a
        # partner only for what it can add.
        self.provides = {
            entity: frozenset(name.split(".")[0] for name in mapping.fields)
            for entity, mapping in config.entity_mappings().items()
        }
        self._identities = {
            entity: identity_of(entity, mapping.identity)
            for entity, mapping in config.entity_mappings().items()
        }
        self.identity_fields = {
            entity: identity_fields(entity, mapping.identity)
            for entity, mapping in config.entity_mappings().items()
        }
        self._key_rules = key_rules(config)
        self.health = Health()
        self._bulkhead = asyncio.Semaphore(config.max_concurrency)

    def identity(self, entity: str) -> Identity | None:
        """How this partner's records of ``entity`` are matched with another partner's."""
        return self._identities.get(entity)

    def well_formed(self, entity: str, key: str, values: Sequence[str]) -> list[str]:
        """The ``values`` that can be keys of this partner (the others are answered as
        missing without the partner seeing them)."""
        rule = self._key_rules.get((entity, key))
        return list(values) if rule is None else [v for v in values if rule(v)]

    def granted_s(self) -> float:
        """The time one call may take now: the partner's deadline, or what the request has
        left minus the margin the gateway keeps for merging and answering, if less."""
        left = deadline.remaining()
        if left is None:
            return self.config.deadline_s
        return min(self.config.deadline_s, left - self.policy.deadline_margin_s)

    def mapping(self, entity: str) -> EntityMapping | None:
        """How this partner maps ``entity`` (every kind's entity block is an EntityMapping)."""
        spec = getattr(self.config, "entities", {}).get(entity)
        return spec if isinstance(spec, EntityMapping) else None

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one partner operation under this partner's deadline, bulkhead and breaker.

        The breaker hears only of the partner's own failures (see :mod:`sources.resilience`).
        """
        started = time.perf_counter()
        try:
            result = await self._protected(operation)
        except SourceError as error:
            observe_call(self.partner, error.code, time.perf_counter() - started)
            raise
        observe_call(self.partner, OK, time.perf_counter() - started)
        return result

    async def _protected(self, operation: Callable[[], Awaitable[T]]) -> T:
        if not self.breaker.allow():
            self.health.record_failure(CircuitOpen.code)
            raise CircuitOpen(self.partner, "too many recent failures; partner not called")
        self.loop_lag.ensure_running()
        granted = self.granted_s()
        if granted <= 0:
            self.breaker.release()
            raise SourceTimeout(self.partner, "the request had no time left; partner not called")
        started = time.monotonic()
        reached: float | None = None  # when the bulkhead let the call go to the partner
        try:
            with deadline.within(granted):
                async with asyncio.timeout(granted):
                    async with self._bulkhead:
                        reached = time.monotonic()
                        result = await operation()
        except TimeoutError:
            self._timed_out(started, reached)
            raise SourceTimeout(self.partner, f"no answer within {_seconds(granted)} s") from None
        except SourceError as error:
            if error.code == SourceTimeout.code:
                self._timed_out(started, reached)  # the HTTP client's own read timeout
            elif error.partner_fault:
                self._failed(error.code)
            else:
                self.breaker.release()
                self.health.record_success()  # it answered: refusing the question is an answer
                if error.code == PrincipalRefused.code:
                    # The hub's own credential: worth an operator's look (the partner may not
                    # know the assertion key yet), never the partner's health.
                    log.warning(
                        "partner refused the signed principal",
                        extra={"partner": self.partner, "code": error.code},
                    )
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.success()
        self.health.record_success()
        return result

    def _timed_out(self, started: float, reached: float | None) -> None:
        """Count a timeout only when the partner had its fair chance: it was called (not left
        waiting on the bulkhead), for at least half its own deadline, while this process kept
        up with its event loop."""
        reason = None
        if reached is None:
            reason = "queued"
        elif time.monotonic() - reached < self.config.deadline_s * FAIR_SHARE:
            reason = "budget"
        elif self.loop_lag.worst_since(started) > self.policy.loop_lag_threshold_s:
            reason = "loop_lag"
        if reason is None:
            self._failed(SourceTimeout.code)
            return
        self.breaker.release()
        self.health.record_uncounted()
        log.info(
            "partner timeout not counted",
            extra={"partner": self.partner, "code": SourceTimeout.code, "reason": reason},
        )

    def _failed(self, code: str) -> None:
        self.breaker.failure()
        self.health.record_failure(code)
        log.warning("partner call failed", extra={"partner": self.partner, "code": code})


def _encode_page(page: Page) -> Any:
    return {
        "r": [r.to_json() for r in page.records],
        "n": page.total,
        "x": page.truncated,
        "q": page.positions,
        "z": page.end,
        "d": page.exhausted,
        "e": page.total_exact,
    }


def _decode_page(data: Any) -> Page:
    return Page(
        [Record.from_json(r) for r in data["r"]],
        data["n"],
        data["x"],
        data["q"],
        data["z"],
        data["d"],
        data["e"],
    )


def _encode_records(records: list[Record]) -> Any:
    return [r.to_json() for r in records]


def _decode_records(data: Any) -> list[Record]:
    return [Record.from_json(r) for r in data]


def _useful(source: Source, entity: str, wanted: frozenset[str] | None) -> bool:
    return wanted is None or bool(source.provides.get(entity, frozenset()) & wanted)


def _still_missing(
    records: Iterable[Record], wanted: frozenset[str] | None
) -> frozenset[str] | None:
    """The wanted fields that some record still lacks (None: every field is wanted)."""
    if wanted is None:
        return None
    return frozenset(
        name for name in wanted if any(r.fields.get(name) in (None, "", [], {}) for r in records)
    )


def _copied(page: Page) -> Page:
    """A page shared by coalesced callers, with records of their own (resolvers may merge)."""
    return dataclasses.replace(page, records=[Record.from_json(r.to_json()) for r in page.records])


def _mark_cached(records: list[Record]) -> None:
    for record in records:
        record.provenance = [dataclasses.replace(p, from_cache=True) for p in record.provenance]


class SourceRegistry:
    def __init__(
        self,
        sources: Sequence[Source],
        cache: HubCache,
        caching: bool = True,
        coalesce: bool = True,
    ) -> None:
        self.sources = list(sources)
        self.cache = cache
        self.caching = caching
        self.coalesce = coalesce
        self._by_name = {s.partner: s for s in self.sources}

    @classmethod
    def from_partners(
        cls,
        partners: PartnersFile,
        cache: HubCache,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        caching: bool = True,
        coalesce: bool = True,
        policy: ResiliencePolicy | None = None,
    ) -> SourceRegistry:
        transports = transports or {}
        lag = LoopLag()  # one event loop, one measure, shared by every partner
        sources = [
            Source(name, config, build_adapter(name, config, transports.get(name)), policy, lag)
            for name, config in partners.partners.items()
            if config.enabled
        ]
        return cls(sources, cache, caching, coalesce)

    def source(self, partner: str) -> Source | None:
        return self._by_name.get(partner)

    def providers(self, entity: str, partners: Sequence[str] | None = None) -> list[Source]:
        return [
            s
            for s in self.sources
            if entity in s.adapter.entities() and (not partners or s.partner in partners)
        ]

    def listing_providers(self, entity: str, partners: Sequence[str] | None = None) -> list[Source]:
        return [s for s in self.providers(entity, partners) if s.adapter.listable(entity)]

    def completing_providers(
        self, entity: str, wanted: frozenset[str] | None = None
    ) -> list[Source]:
        """Partners that cannot list ``entity`` but complete its records by look-up (only
        those providing one of the ``wanted`` fields, when given)."""
        return [
            s
            for s in self.providers(entity)
            if not s.adapter.listable(entity) and _useful(s, entity, wanted)
        ]

    # -- lists ---------------------------------------------------------------------------

    async def list_call(self, source: Source, query: ListQuery) -> Page:
        """One partner's window of a list, under its protection, cached by data class.

        Identical calls in flight at the same moment are made once (PUBLIC and REFERENCE data
        only: a personal answer is never shared between two requests).
        """
        page, fresh = await self._list_call(source, query)
        freshness.note(fresh, DATA_CLASSES[query.entity])
        return page

    async def _list_call(self, source: Source, query: ListQuery) -> tuple[Page, float | None]:
        data_class = DATA_CLASSES[query.entity]
        shareable = data_class != DataClass.PERSONAL
        # Personal data is read on behalf of someone only: refused here, before the partner's
        # breaker, bulkhead or budget see a call that never leaves.
        who = acting.require(source.partner, query.entity)
        parts = (source.partner, *query.cache_key_parts())
        if who is not None:
            parts = (*parts, who.fingerprint())  # other vouched claims, another answer

        async def load() -> Page:
            budget.spend(source.partner)
            return await source.call(lambda: source.adapter.list(query))

        if not (self.caching and source.config.cache.enabled and shareable):

            async def uncached() -> Page:
                if self.coalesce and shareable:
                    return await budget.retry_if_not_ours(
                        self.cache.single_flight, "list_call", parts, load
                    )
                return await load()

            # Identical calls of one request share one answer, whatever the cache does.
            return _copied(await budget.memoised(("list_call", parts), uncached)), None
        result = await budget.retry_if_not_ours(
            self.cache.get_or_load,
            data_class,
            "list",
            parts,
            load,
            encode=_encode_page,
            decode=_decode_page,
            ttl=source.config.cache.ttl_s,
            stale_for=source.config.cache.stale_s,
        )
        if result.from_cache:
            _mark_cached(result.value.records)
        if result.stale:
            return result.value, None
        fresh = self.cache.fresh_for(data_class, source.config.cache.ttl_s)
        return result.value, fresh - result.age_s

    async def list_page(
        self,
        entity: str,
        filters: Mapping[str, Any],
        first: int,
        after: str | None,
        partners: Sequence[str] | None = None,
        wanted: frozenset[str] | None = None,
        fields: frozenset[str] | None = None,
    ) -> ListPage:
        """One page of ``entity`` (see :mod:`sources.lists`); raises
        :class:`~sources.list_cursor.BadCursor` before any partner call for a foreign cursor.

        ``wanted``: the fields the client selected (which completing partners to ask);
        ``fields``: the record fields they need (None: every field is mapped).
        """
        completing = self.completing_providers(entity, wanted)
        keys = {
            lookup_key_path(k).split(".")[0]
            for s in completing
            for k in s.adapter.lookup_keys(entity)
        }
        chosen = lists.plan(self, entity, filters, partners, after, fields, frozenset(keys))
        post_filter = None
        if entity == "offer" and filters.get("opco"):
            opco = filters["opco"]

            async def post_filter(
                records: list[Record],
            ) -> tuple[list[Record], list[PartnerFailure]]:
                return await self._employers_of(records, opco)

        page = await lists.list_page(self, chosen, filters, first, post_filter)
        records = [r for _, r in page.items]
        if records and completing:
            page.failures.extend(await self._complete(entity, records, completing))
        return page

    async def _complete(
        self, entity: str, records: list[Record], completing: Sequence[Source]
    ) -> list[PartnerFailure]:
        """Complete listed records from the partners that only look ``entity`` up (in place).

        One batched look-up per (partner, key) for the whole list, cached like any look-up.
        """
        failures: list[PartnerFailure] = []
        for source in completing:
            for key in sorted(source.adapter.lookup_keys(entity) - {"id"}):
                path = lookup_key_path(key)
                by_value: dict[str, list[Record]] = {}
                for record in records:
                    value = field_at(record.fields, path)
                    if isinstance(value, str) and value:
                        by_value.setdefault(value, []).append(record)
                if not by_value:
                    continue
                answers = await self._gather_lookups(
                    [source], entity, key, sorted(by_value), failures
                )
                for answer in answers:
                    for value, found in answer.items():
                        for record in by_value.get(value, []):
                            for extra in found:
                                absorb(record, extra)
        return failures

    async def _employers_of(
        self, records: list[Record], opco: str
    ) -> tuple[list[Record], list[PartnerFailure]]:
        """The one filter that needs another entity: an offer's OPCO is its employer's."""
        sirets = [
            siret for r in records if (siret := (r.fields.get("employer") or {}).get("siret"))
        ]
        employers, failures = await self.lookup(
            "organisation", "siret", sirets, wanted=frozenset({"opco"})
        )
        kept = [
            r
            for r in records
            if (e := employers.get((r.fields.get("employer") or {}).get("siret", "")))
            and e.fields.get("opco") == opco
        ]
        return kept, failures

    # -- look-ups ------------------------------------------------------------------------

    async def _lookup_one(
        self, source: Source, entity: str, key: str, values: Sequence[str]
    ) -> dict[str, list[Record]]:
        """Look-ups of one partner: cached values served, the misses fetched in one batch."""
        data_class = DATA_CLASSES[entity]
        ttl = source.config.cache.ttl_s
        who = acting.require(source.partner, entity)  # personal: on behalf of someone only
        use_cache = (
            self.caching and source.config.cache.enabled and data_class != DataClass.PERSONAL
        )
        unique = source.well_formed(entity, key, list(dict.fromkeys(values)))
        found: dict[str, list[Record]] = {}
        fresh_for = self.cache.fresh_for(data_class, ttl) if use_cache else None
        if not use_cache:
            freshness.note(None, data_class)
        if use_cache:
            hits = await self.cache.get_many(
                data_class,
                "lookup",
                [(source.partner, entity, key, v) for v in unique],
                decode=_decode_records,
                ttl=ttl,
            )
            for value, hit in zip(unique, hits, strict=True):
                if hit is not None:
                    _mark_cached(hit.value)
                    found[value] = hit.value
                    freshness.note((fresh_for or 0.0) - hit.age_s, data_class)
        missing = [v for v in unique if v not in found]
        if not missing:
            return found

        async def load() -> dict[str, list[Record]]:
            budget.spend(source.partner)
            return await source.call(lambda: source.adapter.lookup(entity, key, missing))

        try:
            if who is None:
                fetched = await budget.retry_if_not_ours(
                    self.cache.single_flight,
                    "lookup_batch",
                    (source.partner, entity, key, sorted(missing)),
                    load,
                )
            else:
                # Never joined with another request's flight: its principal may see other
                # records. Within this request, the same look-up is made once.
                flight = ("lookup_batch", source.partner, entity, key, tuple(sorted(missing)))
                fetched = await budget.memoised((*flight, who.fingerprint()), load)
        except SourceRejected:
            # The partner refused the keys (the client's problem, not counted by the breaker):
            # each is answered as missing, and nothing is cached.
            log.info("partner refused look-up keys", extra={"partner": source.partner})
            return found
        for value in missing:
            found[value] = [Record.from_json(r.to_json()) for r in fetched.get(value, [])]
        if use_cache:
            freshness.note(fresh_for, data_class)
            await self.cache.set_many(
                data_class,
                "lookup",
                [((source.partner, entity, key, v), found[v]) for v in missing],
                encode=_encode_records,
                ttl=ttl,
            )
        return found

    async def lookup(
        self,
        entity: str,
        key: str,
        values: Sequence[str],
        partners: Sequence[str] | None = None,
        enrich: bool = True,
        wanted: frozenset[str] | None = None,
    ) -> tuple[dict[str, Record], list[PartnerFailure]]:
        """The merged record of each value of ``key`` (absent values are missing).

        With ``enrich``, a record found by one key is completed by the partners that know the
        entity by another of its keys (an organisation found by SIRET is enriched by the
        register that knows it by UAI, or by the OPCO that knows its SIREN).
        """
        values = [v for v in dict.fromkeys(values) if v]
        failures: list[PartnerFailure] = []
        sources = [
            s for s in self.providers(entity, partners) if key in s.adapter.lookup_keys(entity)
        ]
        per_source = await self._gather_lookups(sources, entity, key, values, failures)
        merged: dict[str, Record] = {}
        for value in values:
            group = [r for answer in per_source for r in answer.get(value, [])]
            if group:
                merged[value] = merge_group(group)
        # A personal record is never completed by another owner: that would send one owner's
        # key of a person (an INE) to every other partner holding people, whoever asks. The
        # Dossier matches owners itself, under the policy.
        personal = DATA_CLASSES[entity] == DataClass.PERSONAL
        if enrich and merged and not personal:
            await self._enrich(entity, key, merged, {s.partner for s in sources}, failures, wanted)
        for record in merged.values():
            normalise(record)
        return merged, failures

    async def _gather_lookups(
        self,
        sources: Sequence[Source],
        entity: str,
        key: str,
        values: Sequence[str],
        failures: list[PartnerFailure],
    ) -> list[dict[str, list[Record]]]:
        if not values or not sources:
            return []
        answers = await asyncio.gather(
            *(self._lookup_one(s, entity, key, values) for s in sources), return_exceptions=True
        )
        return [answer for _, answer in answered(sources, answers, failures)]

    async def _enrich(
        self,
        entity: str,
        used_key: str,
        merged: dict[str, Record],
        asked: set[str],
        failures: list[PartnerFailure],
        wanted: frozenset[str] | None,
    ) -> None:
        for other_key in LOOKUP_KEYS.get(entity, ()):
            if other_key in (used_key, "id"):
                continue
            sources = [
                s
                for s in self.providers(entity)
                if s.partner not in asked
                and other_key in s.adapter.lookup_keys(entity)
                and _useful(s, entity, _still_missing(merged.values(), wanted))
            ]
            other_values: dict[str, str] = {
                value: other
                for value, r in merged.items()
                if isinstance(other := field_at(r.fields, lookup_key_path(other_key)), str)
            }
            if not sources or not other_values:
                continue
            answers = await self._gather_lookups(
                sources, entity, other_key, sorted(set(other_values.values())), failures
            )
            for value, other_value in other_values.items():
                extra = [r for answer in answers for r in answer.get(other_value, [])]
                if extra:
                    merged[value] = merge_group([merged[value], *extra])
            asked.update(s.partner for s in sources)

    # -- status ----------------------------------------------------------------------------

    async def probe(self, source: Source) -> str | None:
        """None when the partner answers its probe, else the error code."""
        try:
            await source.call(source.adapter.probe)
        except SourceError as error:
            return error.code
        return None

    async def aclose(self) -> None:
        await asyncio.gather(*(s.adapter.aclose() for s in self.sources), return_exceptions=True)
        lags = {id(s.loop_lag): s.loop_lag for s in self.sources}
        for lag in lags.values():
            await lag.aclose()
