"""PartnerStatus — what the hub knows of each configured source."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import strawberry

from adapters.syntax import LIST_ORDERS
from adapters.types import DataClass
from resolvers.cost import about
from resolvers.data_classes import holds
from resolvers.enums import ListingMode, PartnerHealth
from sources import freshness
from sources.registry import Source, SourceRegistry


@holds(DataClass.PUBLIC)
@strawberry.type(description="PartnerStatus — one configured source (système partenaire).")
class PartnerStatus:
    id: str = strawberry.field(description="Partner id, as in the partners file and in provenance.")
    label: str | None = strawberry.field(description="Human name of the partner.")
    kind: str = strawberry.field(
        description="Kind of system: rest, sql, xml_feed, csv_feed, graphql."
    )
    entities: list[str] = strawberry.field(description="Entities it provides (offer, ...).")
    health: PartnerHealth = strawberry.field(description="Health from recent calls, or a probe.")
    last_error_code: str | None = strawberry.field(
        description="SOURCE_TIMEOUT, SOURCE_UNAVAILABLE..."
    )
    last_success_at: datetime | None = strawberry.field(description="Last successful call.")
    last_failure_at: datetime | None = strawberry.field(description="Last failed call.")
    listings: list[PartnerListing] = strawberry.field(
        description="How each entity of this partner is listed, and what a page costs.",
        directives=[about(3)],
    )


@strawberry.type(description="How the hub reads one partner's list of one entity.")
class PartnerListing:
    entity: str = strawberry.field(description="offer, training_program, organisation.")
    mode: ListingMode = strawberry.field(description="Paged, or read in full.")
    orders: list[str] = strawberry.field(
        description="Orders the partner can give (`-publishedAt`: by publication, latest first)."
    )
    hub_order: str = strawberry.field(description="The order of a list merged from partners.")
    max_items: int = strawberry.field(
        description="Most raw records read from it for one request (a full read, or a scan "
        "for a filter it cannot apply)."
    )


def _listings(source: Source) -> list[PartnerListing]:
    adapter = source.adapter
    out = []
    for entity in sorted(adapter.entities()):
        hub_order = LIST_ORDERS[entity].token
        orders = adapter.orders(entity)
        if not adapter.listable(entity):
            mode = ListingMode.LOOKUP_ONLY
        elif not adapter.resumable(entity):
            mode = ListingMode.FULL_READ
        elif hub_order in orders:
            mode = ListingMode.PAGED
        else:
            mode = ListingMode.PAGED_WHEN_ALONE
        out.append(
            PartnerListing(
                entity=entity,
                mode=mode,
                orders=sorted(orders),
                hub_order=hub_order,
                max_items=source.config.max_items,
            )
        )
    return out


def _when(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def _status(source: Source, probe_code: str | None, probed: bool) -> PartnerStatus:
    health = source.health
    if source.breaker.state == "open":
        state = PartnerHealth.CIRCUIT_OPEN
    elif probed:
        state = PartnerHealth.UP if probe_code is None else PartnerHealth.DOWN
    elif health.last_success_at is None and health.last_failure_at is None:
        state = PartnerHealth.UNKNOWN
    elif (health.last_failure_at or 0) > (health.last_success_at or 0):
        state = PartnerHealth.DOWN
    else:
        state = PartnerHealth.UP
    return PartnerStatus(
        id=source.partner,
        label=source.config.label,
        kind=source.config.kind,
        entities=sorted(source.adapter.entities()),
        health=state,
        last_error_code=probe_code if probed and probe_code else health.last_error_code,
        last_success_at=_when(health.last_success_at),
        last_failure_at=_when(health.last_failure_at),
        listings=_listings(source),
    )


def partner_statuses(
    registry: SourceRegistry, probed: Mapping[str, str | None] | None = None
) -> list[PartnerStatus]:
    """Each partner's status; ``probed`` (partner -> error code, None when it answered) is a
    probe round's outcome (:mod:`resolvers.probes`), else health comes from recent calls."""
    # Health is the state of this very moment: no answer that reads it is kept for later.
    freshness.note(None, DataClass.PUBLIC)
    if probed is None:
        return [_status(s, None, False) for s in registry.sources]
    return [_status(s, probed.get(s.partner), s.partner in probed) for s in registry.sources]
