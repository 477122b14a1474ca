"""Kinds of partner system: each maps a ``kind`` name to its config model and adapter class.

Adding a kind is adding one module and one line here; adding a partner of a known kind is
configuration only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from adapters.base import Adapter
from adapters.config import PartnerBase

AdapterFactory = Callable[[str, PartnerBase, httpx.AsyncBaseTransport | None], Adapter]


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    config: type[PartnerBase]
    factory: AdapterFactory


def kinds() -> dict[str, Kind]:
    # Imported here so that loading the config models never pulls every driver at import time.
    from adapters import csv_feed, graphql, rest, sql, xml_feed

    found = [rest.KIND, graphql.KIND, sql.KIND, xml_feed.KIND, csv_feed.KIND]
    return {kind.name: kind for kind in found}


def build_adapter(
    partner: str, config: PartnerBase, transport: httpx.AsyncBaseTransport | None = None
) -> Adapter:
    return kinds()[config.kind].factory(partner, config, transport)
