"""The Starlette application: GraphQL, health, readiness, metrics, the assertion JWKS, the
observatory's page (:mod:`gateway.observatory_page`).

``create_app`` takes the settings and the partners file (and, for tests, an httpx transport
per partner) and returns an ASGI app whose lifespan opens the cache and the partner clients and
closes them on shutdown. Its identity side (:mod:`gateway.authentication`) comes from the
settings; the gateway database's schema is migrated by the commands before they start it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from adapters.partners_file import PartnersFile
from gateway import graphiql, observatory_page
from gateway.admission import Admission, AdmissionGate
from gateway.authentication import identity_from_settings
from gateway.deadline import RequestDeadline
from gateway.graphql_view import HubGraphQL
from gateway.limits import RequestLimits
from gateway.metrics import render
from gateway.observatory import indicators_from_settings, warm_up
from gateway.personal_stores import personal_stores_from_settings
from gateway.request_metrics import instrument
from gateway.settings import Settings
from sources.cache import HubCache
from sources.registry import SourceRegistry
from sources.resilience import ResiliencePolicy

log = logging.getLogger("alternance_hub")


class HubApp(Starlette):
    """The gateway's app: Starlette with admission control in front of everything, its own
    middleware included (:mod:`gateway.admission` says why a refusal must be that cheap)."""

    _admission: Callable[[ASGIApp], ASGIApp] | None = None

    def admit_with(self, admission: Callable[[ASGIApp], ASGIApp]) -> None:
        self._admission = admission
        self.middleware_stack = None  # built again, at the first request, with it

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return stack if self._admission is None else self._admission(stack)


def create_app(
    settings: Settings,
    partners: PartnersFile,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Starlette:
    cache = HubCache.from_url(
        settings.cache_url,
        namespace=settings.cache_namespace,
        local_max_bytes=settings.cache_local_max_bytes,
        shared_timeout_s=settings.cache_shared_timeout_s,
    )
    registry = SourceRegistry.from_partners(
        partners,
        cache,
        transports,
        caching=settings.cache_enabled,
        coalesce=settings.coalesce_partner_calls,
        policy=ResiliencePolicy(settings.deadline_margin_s, settings.loop_lag_threshold_s),
    )
    admission = AdmissionGate(
        settings.max_in_flight, settings.admission_queue, settings.admission_max_wait_s
    )
    identity = identity_from_settings(settings)
    # Personal data needs its audit trail and mutations their idempotency records; without the
    # keys they are made with, personal answers and mutations fail closed.
    stores = (
        personal_stores_from_settings(settings, identity.engine)
        if settings.audit_key is not None and settings.api_key_pepper is not None
        else None
    )
    indicators = indicators_from_settings(settings, registry, cache)
    graphql = HubGraphQL(
        registry, settings, cache, identity=identity, stores=stores, indicators=indicators
    )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        # Each probe is bounded by its partner's own deadline (Source.call), so a hung partner
        # shows as SOURCE_TIMEOUT here instead of hanging the probe.
        codes = await asyncio.gather(*(registry.probe(s) for s in registry.sources))
        partners_state = {
            s.partner: (code or "UP") for s, code in zip(registry.sources, codes, strict=True)
        }
        # A partner down is a partial answer, not an outage: the replica stays in rotation
        # ("degraded", 200) while any partner answers; 503 only when none does.
        up = sum(code is None for code in codes)
        status = "ready" if up == len(codes) else ("degraded" if up else "unavailable")
        return JSONResponse(
            {"status": status, "partners": partners_state}, 503 if status == "unavailable" else 200
        )

    async def assertion_jwks(request: Request) -> Response:
        # The public key partners check X-Hub-Principal with; none configured: nothing to see.
        if identity.assertions is None:
            return JSONResponse({"keys": []}, 404)
        return JSONResponse(identity.assertions.jwks(), headers={"Cache-Control": "max-age=300"})

    async def metrics(request: Request) -> Response:
        return Response(render(registry), media_type="text/plain; version=0.0.4")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log.info("gateway started", extra={"partners": [s.partner for s in registry.sources]})
        warming = (
            asyncio.create_task(warm_up(indicators, identity.assertions))
            if settings.observatory_warm_up
            else None
        )
        try:
            yield
        finally:
            if warming is not None:
                warming.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await warming
            await registry.aclose()
            await cache.aclose()
            if stores is not None:
                await stores.aclose()
            await identity.aclose()

    app = HubApp(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/.well-known/hub-assertion-jwks.json", assertion_jwks),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            *graphiql.routes(enabled=settings.development),
            *observatory_page.routes(indicators, identity, settings),
        ],
        lifespan=lifespan,
    )
    app.state.registry = registry
    app.state.cache = cache
    app.state.identity = identity
    app.state.stores = stores
    app.state.responses = graphql.responses
    app.state.admission = admission
    app.state.indicators = indicators
    # The last added runs first: the deadline starts at arrival (a queued request spends its
    # own budget: admission puts the arrival in the scope), the limits before the body is read.
    app.add_middleware(
        RequestLimits, max_body_bytes=settings.max_body_bytes, json_paths=("/graphql",)
    )
    app.add_middleware(RequestDeadline, seconds=settings.request_deadline_s)
    app.admit_with(
        lambda inner: Admission(
            inner,
            admission,
            retry_after_s=settings.admission_retry_after_s,
            # The page and its CSV count and publish like /graphql does: the same slots.
            paths=("/graphql", "/observatory", "/observatory/cells.csv"),
        )
    )
    instrument(app, settings, graphql)  # outermost: sees the limits' and deadline's refusals
    return app


def app_from_environment() -> Starlette:
    """The app of one `serve --workers N` worker process: settings and partners file from the
    environment (the parent checked the file before starting the workers)."""
    from adapters.partners_file import load_partners
    from gateway.authentication import check_production_identity
    from gateway.logs import configure
    from gateway.runtime import tune_gc

    settings = Settings()
    if settings.partners_file is None:
        raise RuntimeError("HUB_PARTNERS_FILE is not set")
    if not settings.development:
        check_production_identity(settings)
    app = create_app(settings, load_partners(settings.partners_file))
    configure(settings.log_level)
    tune_gc()
    return app
