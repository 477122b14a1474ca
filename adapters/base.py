"""The adapter contract: what the gateway's source registry asks of every kind of partner.

An adapter is built from its partner block and the transport it is handed (an
``httpx.AsyncClient`` or an SQL engine), so tests run it against a real partner app in-process
(``httpx.ASGITransport``) or over loopback. It knows nothing of GraphQL, caching, deadlines,
breakers or bulkheads: :mod:`sources.registry` wraps every call with those.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from adapters.config import ListSort, PartnerBase
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

    def orders(self, entity: str) -> frozenset[str]:
        """Order tokens (``-publishedAt``) this partner can list ``entity`` in."""
        ...

    def resumable(self, entity: str) -> bool:
        """Whether a list of ``entity`` can resume at a :data:`~adapters.types.Position`
        (false for a partner without pagination: it is read in full every time)."""
        ...

    async def list(self, query: ListQuery) -> Page:
        """About one page: at most ``query.limit`` records matching every filter, in
        ``query.order``, right after ``query.resume``; see :class:`~adapters.types.ListQuery`."""
        ...

    async def lookup(self, entity: str, key: str, values: Sequence[str]) -> LookupResult:
        """Records whose ``key`` is one of ``values``, batched where the partner allows."""
        ...

    async def probe(self) -> None:
        """Raise :class:`adapters.errors.SourceError` unless the partner answers."""
        ...

    async def aclose(self) -> None: ...


class EndpointSpec(Protocol):
    """An entity block that declares a list endpoint (or not) and look-ups by key."""

    @property
    def list(self) -> object | None: ...

    @property
    def lookups(self) -> Mapping[str, Any]: ...

    @property
    def sort(self) -> ListSort | None: ...


Spec = TypeVar("Spec", bound=EndpointSpec)


class DeclaredEndpoints(Generic[Spec]):
    """What a partner offers, read from its entity blocks (REST and GraphQL alike).

    Subclasses set ``partner`` and ``specs`` (the entity blocks of the partners file).
    """

    partner: str
    specs: Mapping[str, Spec]

    def entities(self) -> frozenset[str]:
        return frozenset(self.specs)

    def listable(self, entity: str) -> bool:
        spec = self.specs.get(entity)
        return spec is not None and spec.list is not None

    def lookup_keys(self, entity: str) -> frozenset[str]:
        spec = self.specs.get(entity)
        if spec is None:
            return frozenset()
        keys = set(spec.lookups)
        if spec.list is not None:
            keys.add("id")  # found by walking the list when the partner has no id look-up
        return frozenset(keys)

    def orders(self, entity: str) -> frozenset[str]:
        spec = self.specs.get(entity)
        if spec is None or spec.list is None or spec.sort is None:
            return frozenset()
        return spec.sort.orders()

    def resumable(self, entity: str) -> bool:
        return False  # the paged list path fills this in per kind

    def _entity(self, entity: str) -> Spec:
        spec = self.specs.get(entity)
        if spec is None:
            raise ValueError(f"{self.partner} does not provide {entity}")
        return spec
