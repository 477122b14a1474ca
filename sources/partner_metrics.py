"""How each partner call went, for ``/metrics``: its latency, by partner and outcome.

:meth:`sources.registry.Source.call` reports every call it ends, the breaker's refusals
included (they never reach the partner, so their latency is about nothing), never a call
whose caller gave up (cancelled: neither a success nor a failure of the partner). Both labels
are bounded sets: the partner's id in the partners file, and ``ok`` or the failure's stable
code (``SOURCE_TIMEOUT``, ``CIRCUIT_OPEN``...). The histogram's ``_count`` is the number of
calls of each outcome.
"""

from __future__ import annotations

from prometheus_client import Histogram

OK = "ok"
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)

# Not in any registry: gateway.metrics collects it with the rest at scrape time.
PARTNER_CALL_SECONDS = Histogram(
    "hub_partner_call_duration_seconds",
    "Partner calls (bulkhead wait and retries included), by partner and outcome: ok or the "
    "error code",
    ["partner", "outcome"],
    buckets=SECONDS_BUCKETS,
    registry=None,
)


def observe_call(partner: str, outcome: str, seconds: float) -> None:
    PARTNER_CALL_SECONDS.labels(partner, outcome).observe(seconds)


__all__ = ["OK", "PARTNER_CALL_SECONDS", "SECONDS_BUCKETS", "observe_call"]
