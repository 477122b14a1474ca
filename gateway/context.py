"""Per-request context factory (the gateway's side of :class:`resolvers.context.Context`)."""

from __future__ import annotations

from gateway.settings import Settings
from identity.principal import Principal
from resolvers.context import Context
from sources.budget import RequestCalls
from sources.registry import SourceRegistry


def new_context(
    registry: SourceRegistry, settings: Settings, principal: Principal | None = None
) -> Context:
    return Context(
        registry=registry,
        max_page_size=settings.max_page_size,
        max_query_cost=settings.max_query_cost,
        max_entity_representations=settings.max_entity_representations,
        calls=RequestCalls(settings.max_partner_calls_per_request),
        principal=principal,
        scope=principal.scope if principal is not None else "anonymous",
    )
