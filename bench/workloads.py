"""The workloads of the benchmark (GraphQL documents sent to ``POST /graphql``).

On the demo's hand-sized partners (each filter fits in one page of each partner's answer):

- Q1: 20 offers, scalar fields, one partner (France Travail, one page of its answer).
- Q2: 50 offers with their employer (API Apprentissage, employers looked up by SIRET).
- Q3: 50 training programmes with their sessions and responsible centre (API Apprentissage).
- Q4: 100 offers with every scalar field, merged across the three offer publishers.

On Alpes Emploi, the job board with a catalogue of real size (5,000 offers, pages of at most
500, one value per filter), the rows of the issue's table:

- Q5: 500 offers, 13 fields, from Alpes Emploi alone (a tenth of its catalogue).
- Q6: 20 offers, scalar fields, from Alpes Emploi (3,397 match: the page, not the catalogue).
- Q7: 50 offers with their employer (Alpes Emploi, employers looked up in Sirene).

``reference`` holds the figures the issue quotes for the same kind of query, at concurrency 32
on the issue author's run of this machine (GraphQL Mesh / Hive Gateway, Tailcall 1.6.14): the
report prints them beside this run's, labelled as not measured by it. ``payload(i)`` gives
variant ``i`` of a workload: variant 0 is the benchmark's request; other variants shift
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

# Q5's thirteen fields: the scalars a list page of a job board shows, and where
Q5 = """
query Q5($filter: OfferFilter) {
  offers(filter: $filter, first: 500) {
    totalCount
    edges {
      node {
        id title description romeCodes contractKinds targetLevel startDate durationMonths
        positions publishedAt remote location { city inseeCode }
      }
    }
  }
}
"""

# A date before every demo offer: the filter then keeps every match, and a shift of a few
# hours (the distinct variants) changes the cache key, not the answer.
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Reference:
    """Req/s the issue quotes for this kind of query, concurrency 32, not measured by this run."""

    what: str
    mesh_rps: float  # GraphQL Mesh / Hive Gateway, one Node process
    tailcall_rps: float  # Tailcall 1.6.14 (Rust), request coalescing on by default

    def as_json(self) -> dict[str, Any]:
        return {"what": self.what, "mesh_rps": self.mesh_rps, "tailcall_rps": self.tailcall_rps}


TWENTY_OFFERS = Reference("20 offers", 860, 1_299)
FIFTY_OFFERS_EMPLOYERS = Reference("50 offers with their employers", 275, 593)
FIFTY_PROGRAMMES_CENTRE = Reference("50 programmes with their centre", 275, 645)
FIVE_HUNDRED_OFFERS = Reference("500 offers", 77, 516)


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
    reference: Reference | None = None

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
            reference=TWENTY_OFFERS,
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
            reference=FIFTY_OFFERS_EMPLOYERS,
        ),
        Workload(
            "Q3",
            "50 training programmes with sessions and responsible centre",
            Q3,
            {"sources": ["apprentissage"], "departements": ["73"], "levels": [3, 4]},
            "trainingPrograms",
            50,
            variable_since=False,
            reference=FIFTY_PROGRAMMES_CENTRE,
        ),
        Workload(
            "Q4",
            "100 offers, every scalar field, three partners merged",
            Q4,
            # the three named: the job boards publish offers too, and are Q5 to Q7's
            {
                "sources": ["francetravail", "apprentissage", "hub3e"],
                "departements": ["73"],
                "romeCodes": ["G1602", "G1603", "G1803", "D1106"],
            },
            "offers",
            100,
        ),
        Workload(
            "Q5",
            "500 offers, 13 fields, the large job board alone",
            Q5,
            {"sources": ["alpes-emploi"]},
            "offers",
            500,
            reference=FIVE_HUNDRED_OFFERS,
        ),
        Workload(
            "Q6",
            "20 offers, scalar fields, the large job board",
            Q1,
            {"sources": ["alpes-emploi"], "departements": ["74"]},
            "offers",
            20,
            reference=TWENTY_OFFERS,
        ),
        Workload(
            "Q7",
            "50 offers with their employer, the large job board",
            Q2,
            {"sources": ["alpes-emploi"], "departements": ["73"]},
            "offers",
            50,
            reference=FIFTY_OFFERS_EMPLOYERS,
        ),
    )
}

ALL_WORKLOADS: dict[str, Workload] = {**WORKLOADS, MEMORY.name: MEMORY}
