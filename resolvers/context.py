"""What resolvers receive with each request: the registry, DataLoaders, collected failures.

DataLoaders are created per request, so a page of 50 offers costs one batched employer look-up
(not 50) and no record is shared between two requests except through the data-class cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from adapters.types import Record
from sources.registry import PartnerFailure, SourceRegistry


@dataclass
class Context:
    registry: SourceRegistry
    max_page_size: int = 100
    # Who asks, as far as caching is concerned: part of every response-cache key, so answers
    # never cross principals once authentication sets it (every request is anonymous today).
    scope: str = "anonymous"
    failures: list[PartnerFailure] = field(default_factory=list)
    _loaders: dict[tuple[str, str, frozenset[str] | None], DataLoader[str, Record | None]] = field(
        default_factory=dict
    )

    def record_failures(self, failures: Sequence[PartnerFailure]) -> None:
        for failure in failures:
            if failure not in self.failures:
                self.failures.append(failure)

    def loader(
        self, entity: str, key: str, wanted: frozenset[str] | None = None
    ) -> DataLoader[str, Record | None]:
        """The request's batching loader of ``entity`` records by ``key``; ``wanted`` (the
        fields the client asked for) limits which partners complete the records."""
        found = self._loaders.get((entity, key, wanted))
        if found is None:

            async def load(values: list[str]) -> list[Record | None]:
                records, failures = await self.registry.lookup(entity, key, values, wanted=wanted)
                self.record_failures(failures)
                return [records.get(v) for v in values]

            found = DataLoader(load_fn=load, max_batch_size=500)
            self._loaders[(entity, key, wanted)] = found
        return found
