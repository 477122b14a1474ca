"""What resolvers receive with each request: who asks (``principal``), the registry,
DataLoaders, collected failures, and the request's bounds (page size, query cost, partner
calls, entity representations).

DataLoaders are created per request, so a page of 50 offers costs one batched employer look-up
(not 50) and no record is shared between two requests except through the data-class cache.
``calls`` is the request's partner-call budget and memo (:mod:`sources.budget`); the schema
makes it current while the request executes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from adapters.types import Record
from identity.principal import Principal
from resolvers import probes
from sources.budget import RequestCalls
from sources.indicators import Indicators
from sources.registry import PartnerFailure, SourceRegistry
from store.audit import AuditLog
from store.idempotency import IdempotencyStore

# The defaults of gateway.settings.Settings, for contexts made without settings (tests).
MAX_QUERY_COST = 2_500
MAX_PARTNER_CALLS = 50
MAX_ENTITY_REPRESENTATIONS = 100

_LoaderKey = tuple[str, str, frozenset[str] | None, str | None]


@dataclass(frozen=True, slots=True)
class PersonalRead:
    """One read (or refusal) of personal data, for the audit trail: which records, never their
    values. ``refs`` are (partner, entity, partner id); the gateway pseudonymises them."""

    action: str  # READ | WRITE | COUNT
    entity: str
    refs: tuple[tuple[str, str, str], ...]
    outcome: str = "OK"  # OK | DENIED_AS_MISSING
    detail: str | None = None  # a COUNT's indicator, grid and period (codes, no value)


@dataclass
class Context:
    registry: SourceRegistry
    max_page_size: int = 100
    max_query_cost: int | None = MAX_QUERY_COST
    max_entity_representations: int = MAX_ENTITY_REPRESENTATIONS
    calls: RequestCalls = field(default_factory=lambda: RequestCalls(MAX_PARTNER_CALLS))
    # Who asks (None: anonymous), from the request's credential (gateway.authentication).
    principal: Principal | None = None
    # Who asks, as far as caching is concerned: part of every response-cache key, so answers
    # never cross principals (the gateway also keeps no answer of an authenticated request).
    scope: str = "anonymous"
    failures: list[PartnerFailure] = field(default_factory=list)
    # Every personal read of the request, written to the audit trail before the answer leaves
    # (gateway.graphql_view): no audit, no personal answer.
    personal_reads: list[PersonalRead] = field(default_factory=list)
    # The gateway database's stores (gateway.personal_stores): None where none is configured,
    # and then mutations fail closed.
    idempotency: IdempotencyStore | None = None
    audit: AuditLog | None = None
    # The observatory's published indicator tables (sources.indicators), one per gateway.
    indicators: Indicators | None = None
    _loaders: dict[_LoaderKey, DataLoader[str, Record | None]] = field(default_factory=dict)
    _probe_round: asyncio.Task[probes.Codes] | None = None

    def record_failures(self, failures: Sequence[PartnerFailure]) -> None:
        for failure in failures:
            if failure not in self.failures:
                self.failures.append(failure)

    def loader(
        self,
        entity: str,
        key: str,
        wanted: frozenset[str] | None = None,
        partner: str | None = None,
    ) -> DataLoader[str, Record | None]:
        """The request's batching loader of ``entity`` records by ``key``; ``wanted`` (the
        fields the client asked for) limits which partners complete the records; ``partner``
        asks that partner alone (an id is one partner's own)."""
        loader_key = (entity, key, wanted, partner)
        found = self._loaders.get(loader_key)
        if found is None:
            only = [partner] if partner is not None else None

            async def load(values: list[str]) -> list[Record | None]:
                records, failures = await self.registry.lookup(
                    entity, key, values, only, wanted=wanted
                )
                self.record_failures(failures)
                return [records.get(v) for v in values]

            found = DataLoader(load_fn=load, max_batch_size=500)
            self._loaders[loader_key] = found
        return found

    def probe_round(self) -> asyncio.Task[probes.Codes]:
        """This request's probe round: one, however many fields ask for it."""
        if self._probe_round is None:
            self._probe_round = probes.shared_round(self.registry)
        return self._probe_round
