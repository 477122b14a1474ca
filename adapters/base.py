"""The adapter contract: what the gateway's source registry asks of every kind of partner.

An adapter is built from its partner block and the transport it is handed (an
``httpx.AsyncClient`` or an SQL engine), so tests run it against a real partner app in-process
(``httpx.ASGITransport``) or over loopback. It knows nothing of GraphQL, caching, deadlines,
breakers or bulkheads: :mod:`gateway.sources` wraps every call with those.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from adapters.config import PartnerBase
from adapters.types import ListQuery, LookupResult, Page


@runtime_checkable
class Adapter(Protocol):
    partner: str
    config: PartnerBase

    def entities(self) -> frozenset[str]:
        """Entities this partner provides (``offer``, ``training_program``, ...)."""
        ...

    def listable(self, entity: str) -> bool:
        """Whether ``entity`` can be listed here, or only looked up to complete other records
        (an OPCO's funding levels complete the catalogue's programmes; they are not programmes)."""
        ...

    def lookup_keys(self, entity: str) -> frozenset[str]:
        """Keys this partner can look ``entity`` up by (``id`` always included)."""
        ...

    def pushed_filters(self, entity: str) -> frozenset[str]:
        """Common filter names this partner applies itself for ``entity``."""
        ...

    async def list(self, query: ListQuery) -> Page:
        """Records matching ``query`` (at most ``query.limit``), every page followed."""
        ...

    async def lookup(self, entity: str, key: str, values: Sequence[str]) -> LookupResult:
        """Records whose ``key`` is one of ``values``, batched where the partner allows."""
        ...

    async def probe(self) -> None:
        """Raise :class:`adapters.errors.SourceError` unless the partner answers."""
        ...

    async def aclose(self) -> None: ...
