"""The gateway's observatory: its indicator service, built from the settings, and the one read
of a table outside GraphQL (the ``/observatory`` page, the ``extract`` command)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from adapters import acting
from gateway.settings import Settings
from identity.assertions import AssertionSigner
from identity.principal import Principal, Role
from observatory import DisclosureRules
from observatory.indicators import IndicatorCode, allowed_groupings
from resolvers.indicators import audit_detail
from sources.cache import HubCache
from sources.counting import CountRefused
from sources.indicators import IndicatorRequest, Indicators, IndicatorTable, MonthRange
from sources.registry import SourceRegistry
from store.audit import Action, AuditEntry, AuditUnavailable, Outcome

log = logging.getLogger("alternance_hub.observatory")


def indicators_from_settings(
    settings: Settings, registry: SourceRegistry, cache: HubCache
) -> Indicators:
    """One :class:`~sources.indicators.Indicators` per gateway. The record-key secret is
    ``HUB_OBSERVATORY_KEY_SECRET``; the demo falls back on its own (its owners store keys
    made with it, :mod:`demo.record_keys`); production without one refuses indicators that
    count people rather than perturb them with keys anybody could recompute."""
    secret = settings.observatory_key_secret
    if secret is not None:
        key = secret.get_secret_value().encode()
    elif settings.development:
        # Imported here: the production image ships no demo package.
        from demo.record_keys import DEMO_SECRET

        key = DEMO_SECRET.encode()
    else:
        key = b""
    rules = DisclosureRules(
        threshold=settings.observatory_threshold,
        rate_min_denominator=settings.observatory_rate_min_denominator,
    )
    return Indicators(
        registry, cache if settings.cache_enabled else None, key_secret=key, rules=rules
    )


async def read_table(
    state: Any,
    principal: Principal | None,
    request: IndicatorRequest,
    *,
    operation: str,
) -> IndicatorTable:
    """One indicator table read outside GraphQL (the page, the extractor), as ``principal``:
    acting for it (partner calls carry its signed assertion), and, for an indicator derived
    from personal data, its COUNT audit event written before the table is returned — no
    audit trail, no table (fail closed, as for personal reads)."""
    indicators: Indicators = state.indicators
    identity = state.identity
    signer = identity.assertions if identity is not None else None
    with acting.scoped(principal, signer):
        table = await indicators.table(request)
    if table.indicator.counts_people:
        stores = state.stores
        if stores is None or principal is None:
            raise AuditUnavailable("no audit trail is configured")
        await stores.audit.record_all(
            principal,
            operation=operation,
            entries=[
                AuditEntry(
                    Action.COUNT, "indicator", (), Outcome.OK, audit_detail(request, table.grouping)
                )
            ],
        )
    return table


WARM_UP_PRINCIPAL = Principal(Role.OBSERVATORY, "", "alternance-hub-warm-up")
"""Who the start-up warm-up counts as: the hub itself. Its tables are published into the cache
and shown to nobody, so its reads are not audit events; the readers' are."""


async def warm_up(indicators: Indicators, signer: AssertionSigner | None) -> int:
    """Publish every table of the grid for the default period into the AGGREGATE cache (the
    gateway's start-up, in the background: ``HUB_OBSERVATORY_WARM_UP``). Returns how many
    tables were published; an owner that fails is logged by its code, and its tables are
    counted again by the first reader."""
    months = MonthRange.last_twelve(datetime.now(UTC).date())
    done = 0
    started = time.monotonic()
    with acting.scoped(WARM_UP_PRINCIPAL, signer):
        for code in IndicatorCode:
            for grouping in allowed_groupings(code):
                try:
                    table = await indicators.table(IndicatorRequest(code, grouping, months))
                except CountRefused:
                    continue  # no record-key secret: indicators of people are refused
                except Exception:
                    # The first reader counts it again, and sees the failure itself.
                    log.exception("observatory warm-up stopped")
                    return done
                done += 1
                for failure in table.failures:
                    log.info(
                        "observatory warm-up: an owner was not counted",
                        extra={"partner": failure.partner, "code": failure.code},
                    )
    log.info(
        "observatory warm-up done",
        extra={"tables": done, "seconds": round(time.monotonic() - started, 2)},
    )
    return done
