"""Prometheus metrics: the gateway's instruments, plus state read at scrape time.

What is counted as it happens (requests, partner calls, cost, admission) lives in instruments
(:mod:`gateway.instrumentation`, :mod:`sources.partner_metrics`); what the gateway already keeps
(breakers, cache counters, records mapped) is read when ``/metrics`` is scraped, so the hot path
pays nothing for it. prometheus-client's own collectors add the process (CPU seconds, resident
memory, open files), the platform (Python version) and the garbage collector.

Every family, its labels and how to read it are in the README's "Metrics" section.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from adapters import mapping_stats
from gateway import instrumentation
from gateway.response_cache import ResponseCache
from sources.partner_metrics import PARTNER_CALL_SECONDS
from sources.registry import SourceRegistry

_BREAKER_STATES = ("closed", "half_open", "open")
_RUNTIME: tuple[Collector, ...] = (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR)

# The response cache of each app, found from its registry (apps in tests come and go).
_response_caches: weakref.WeakKeyDictionary[SourceRegistry, ResponseCache] = (
    weakref.WeakKeyDictionary()
)


def watch_response_cache(sources: SourceRegistry, responses: ResponseCache | None) -> None:
    """Report ``responses``' hits and misses with the metrics of ``sources``' app."""
    if responses is not None:
        _response_caches[sources] = responses


class HubCollector(Collector):
    def __init__(self, sources: SourceRegistry) -> None:
        self._sources = sources

    def collect(self) -> Iterator[Metric]:
        yield from _partner_families(self._sources)
        yield from _cache_families(self._sources)
        yield from _mapping_families()
        yield from _admission_families()
        for instrument in (*instrumentation.INSTRUMENTS, PARTNER_CALL_SECONDS):
            yield from instrument.collect()
        for collector in _RUNTIME:
            yield from collector.collect()


def _partner_families(sources: SourceRegistry) -> Iterator[Metric]:
    calls = CounterMetricFamily(
        "hub_partner_calls", "Calls to each partner, by outcome", labels=["partner", "outcome"]
    )
    breaker = GaugeMetricFamily(
        "hub_partner_breaker_state",
        "1 for the breaker's current state",
        labels=["partner", "state"],
    )
    for source in sources.sources:
        health = source.health
        calls.add_metric([source.partner, "success"], health.calls - health.failures)
        calls.add_metric([source.partner, "failure"], health.failures)
        for state in _BREAKER_STATES:
            breaker.add_metric([source.partner, state], float(source.breaker.state == state))
    yield calls
    yield breaker


def _cache_families(sources: SourceRegistry) -> Iterator[Metric]:
    cache = sources.cache
    events = CounterMetricFamily("hub_cache_events", "Cache events", labels=["event"])
    for event, count in cache.stats.as_dict().items():
        events.add_metric([event], count)
    yield events
    lookups = CounterMetricFamily(
        "hub_cache_lookups",
        "Partner answers asked of the cache, by data class and result (hit: served fresh "
        "from a tier; miss: the partner was asked)",
        labels=["data_class", "result"],
    )
    for (data_class, hit), count in sorted(dict(cache.lookups).items()):
        lookups.add_metric([data_class.value, "hit" if hit else "miss"], count)
    yield lookups
    responses = _response_caches.get(sources)
    if responses is not None:
        answers = CounterMetricFamily(
            "hub_response_cache_events",
            "Whole answers: hits, misses, stored and refused (errors, PERSONAL data)",
            labels=["event"],
        )
        for event, count in responses.stats.as_dict().items():
            answers.add_metric([event], count)
        yield answers


def _mapping_families() -> Iterator[Metric]:
    """Records mapped and dropped, process-wide (every adapter's mappings): the benchmark's
    "records mapped per query" is the difference of two scrapes."""
    mapped = CounterMetricFamily(
        "hub_records_mapped",
        "Partner records mapped into the common syntax",
        labels=["partner", "entity"],
    )
    for (partner, entity), count in sorted(mapping_stats.mapped_counts().items()):
        mapped.add_metric([partner, entity], count)
    dropped = CounterMetricFamily(
        "hub_records_dropped",
        "Partner records dropped because a field does not fit (once per failing field)",
        labels=["partner", "entity", "field"],
    )
    for (partner, entity, field), count in sorted(mapping_stats.dropped_counts().items()):
        dropped.add_metric([partner, entity, field], count)
    yield mapped
    yield dropped


def _admission_families() -> Iterable[Metric]:
    state = instrumentation.admission_state()
    if state is None:
        return ()
    executing = GaugeMetricFamily(
        "hub_admission_in_flight", "Requests executing (admitted by admission control)"
    )
    executing.add_metric([], state.executing())
    waiting = GaugeMetricFamily("hub_admission_queued", "Requests waiting for an execution slot")
    waiting.add_metric([], state.waiting())
    return (executing, waiting)


def registry_for(sources: SourceRegistry) -> CollectorRegistry:
    """A registry of everything ``/metrics`` shows for the app of ``sources``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(sources))
    return registry


def render(sources: SourceRegistry) -> bytes:
    return generate_latest(registry_for(sources))
