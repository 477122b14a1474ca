"""Prometheus metrics, read at scrape time from the registry's own counters (no hot-path cost)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from adapters import mapping_stats
from sources.registry import SourceRegistry

_BREAKER_STATES = ("closed", "half_open", "open")


class HubCollector(Collector):
    def __init__(self, sources: SourceRegistry) -> None:
        self._sources = sources

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        calls = CounterMetricFamily(
            "hub_partner_calls", "Calls to each partner, by outcome", labels=["partner", "outcome"]
        )
        breaker = GaugeMetricFamily(
            "hub_partner_breaker_state",
            "1 for the breaker's current state",
            labels=["partner", "state"],
        )
        for source in self._sources.sources:
            health = source.health
            calls.add_metric([source.partner, "success"], health.calls - health.failures)
            calls.add_metric([source.partner, "failure"], health.failures)
            for state in _BREAKER_STATES:
                breaker.add_metric([source.partner, state], float(source.breaker.state == state))
        yield calls
        yield breaker
        cache = CounterMetricFamily("hub_cache_events", "Cache events", labels=["event"])
        for event, count in self._sources.cache.stats.as_dict().items():
            cache.add_metric([event], count)
        yield cache
        yield from _mapping_families()


def _mapping_families() -> Iterator[CounterMetricFamily]:
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


def render(sources: SourceRegistry) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(sources))
    return generate_latest(registry)
