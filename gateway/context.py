"""Per-request context factory (the gateway's side of :class:`resolvers.context.Context`)."""

from __future__ import annotations

from gateway.settings import Settings
from resolvers.context import Context
from sources.registry import SourceRegistry


def new_context(registry: SourceRegistry, settings: Settings) -> Context:
    return Context(registry=registry, max_page_size=settings.max_page_size)
