"""The four workloads of the benchmark (GraphQL documents sent to ``POST /graphql``).

- Q1: 20 offers, scalar fields, one partner (France Travail, one page of its answer).
- Q2: 50 offers with their employer (API Apprentissage, employers looked up by SIRET).
- Q3: 50 training programmes with their sessions and responsible centre (API Apprentissage).
- Q4: 100 offers with every scalar field, merged across the three offer publishers.

Each filter is narrow enough for each partner to answer in one page: the gateway reads every
match of the filter from each partner (it merges and orders across partners before paging), so
the size of the match, not ``first``, sets the partner traffic. ``payload(i)`` gives variant
``i`` of a workload: variant 0 is the benchmark's request; other variants shift
``publishedSince`` by ``i`` seconds (offers) so that each is a distinct cache key while the
answer stays the same size. The memory run sends 10,000 such variants of ``MEMORY``, a
narrower Q1 (12 matches), so that it takes minutes, not a quarter of an hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

OFFER_SCALARS = """
  id title description romeCodes contractKinds targetLevel startDate durationMonths positions
  status publishedAt expiresAt remote applyUrl accessibleToDisabledWorkers
"""

Q1 = """
query Q1($filter: OfferFilter) {
  offers(filter: $filter, first: 20) {
    totalCount
    edges { node { id title romeCodes contractKinds publishedAt location { city postalCode } } }
  }
}
"""

Q2 = """
query Q2($filter: OfferFilter) {
  offers(filter: $filter, first: 50) {
    totalCount
    edges { node { id title publishedAt employer { name siret naf { code } } } }
  }
}
"""

Q3 = """
query Q3($filter: TrainingFilter) {
  trainingPrograms(filter: $filter, first: 50) {
    totalCount
    edges {
      node {
        id title
        sessions { start end capacity recruitmentOpen }
        responsible { name uai siret }
      }
    }
  }
}
"""

Q4 = """
query Q4($filter: OfferFilter) {
  offers(filter: $filter, first: 100) {
    totalCount
    edges { node { SCALARS } }
  }
}
""".replace("SCALARS", OFFER_SCALARS.strip())

# A date before every demo offer: the filter then keeps every match, and a shift of a few
# hours (the distinct variants) changes the cache key, not the answer.
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    query: str
    filter: dict[str, Any]
    root: str  # the query's root field, to count edges in an answer
    page: int  # first: the page size asked for
    variable_since: bool = True  # variants shift publishedSince (offers only)
    notes: list[str] = field(default_factory=list)

    def variables(self, variant: int = 0) -> dict[str, Any]:
        flt = dict(self.filter)
        if variant and self.variable_since:
            flt["publishedSince"] = (_EPOCH + timedelta(seconds=variant)).isoformat()
        return {"filter": flt}

    def payload(self, variant: int = 0) -> bytes:
        return orjson.dumps({"query": self.query, "variables": self.variables(variant)})


MEMORY = Workload(
    "M",
    "20 offers of one commune and occupation (the memory run's distinct queries)",
    Q1,
    {"sources": ["francetravail"], "communes": ["73065"], "romeCodes": ["G1602"]},
    "offers",
    20,
)

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "Q1",
            "20 offers, scalar fields, one partner",
            Q1,
            {"sources": ["francetravail"], "departements": ["73"], "romeCodes": ["G1602"]},
            "offers",
            20,
        ),
        Workload(
            "Q2",
            "50 offers with their employer",
            Q2,
            {
                "sources": ["apprentissage"],
                "departements": ["73"],
                "romeCodes": ["G1602", "G1603", "G1803", "D1106", "F1602", "F1603"],
            },
            "offers",
            50,
        ),
        Workload(
            "Q3",
            "50 training programmes with sessions and responsible centre",
            Q3,
            {"sources": ["apprentissage"], "departements": ["73"], "levels": [3, 4]},
            "trainingPrograms",
            50,
            variable_since=False,
        ),
        Workload(
            "Q4",
            "100 offers, every scalar field, three partners merged",
            Q4,
            {"departements": ["73"], "romeCodes": ["G1602", "G1603", "G1803", "D1106"]},
            "offers",
            100,
        ),
    )
}

ALL_WORKLOADS: dict[str, Workload] = {**WORKLOADS, MEMORY.name: MEMORY}
