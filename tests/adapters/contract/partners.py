"""The contract suite's partners: one dataset of offers, served by five kinds of partner system.

:data:`OFFERS` is written once, as plain data. Each fixture partner serves it in its own
native shape — its own field names, date format and contract labels — and its block (the
partners-file block an operator would write) maps that shape back to the common syntax:

=============  ==================================================  ==========================
kind           native shape                                        publication date
=============  ==================================================  ==========================
rest           JSON, pages numbered from 1, POST batch look-up     ``2025-01-06T00:00:00.000Z``
sql            a table of an ERP (SQLite file, or PostgreSQL)      ``TIMESTAMP`` column
xml_feed       one namespaced XML document                         ``20250106``
csv_feed       Latin-1, ``;``-separated export                     ``06/01/2025``
graphql        a Relay-style list and a look-up taking many refs   ``2025-01-06T01:00:00+01:00``
=============  ==================================================  ==========================

Every partner counts the calls it receives (HTTP requests, or SQL statements as the driver
gets them) and knows how to point its block at a partner that is not there.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import socket
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
from graphql import GraphQLResolveInfo, build_schema, graphql
from lxml import etree
from sqlalchemy import Column, Date, DateTime, MetaData, String, Table, event, insert
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import CreateSchema, DropSchema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from adapters.base import Adapter
from adapters.sql import SqlAdapter

BASE_URL = "http://partner.test"
PAGE_SIZE = 7
"""Every paginating partner is configured with pages smaller than the dataset."""

APPRENTICESHIP = "APPRENTICESHIP"
PROFESSIONALISATION = "PROFESSIONALISATION"


# -- the dataset ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    title: str
    rome: str
    insee: str
    published: date
    nature: str  # the common contract kind; each partner writes its own label for it
    positions: int | str  # text only in BAD_OFFER
    siret: str


_S1, _S2, _S3 = "73282932000074", "19350030300014", "81002887800017"
_A, _P = APPRENTICESHIP, PROFESSIONALISATION

# Titles carry what each format must escape or encode: accents (Latin-1), `&` and `<` (XML),
# `;` and `"` (CSV), guillemets.
OFFERS: tuple[Offer, ...] = tuple(
    Offer(*row)
    for row in [
        ("OF001", "Apprenti boulanger", "D1102", "73065", date(2025, 1, 6), _A, 1, _S1),
        ("OF002", "Apprentie pâtissière", "D1104", "74010", date(2025, 1, 9), _A, 2, _S2),
        ("OF003", "Électricien du bâtiment", "F1602", "73008", date(2025, 1, 13), _P, 1, _S3),
        ("OF004", "Commis de cuisine", "G1602", "74281", date(2025, 1, 20), _A, 3, _S1),
        ("OF005", "Mécanicien automobile", "I1604", "73011", date(2025, 2, 3), _A, 1, _S2),
        ("OF006", "Assistant administratif", "M1607", "74012", date(2025, 2, 10), _P, 2, _S3),
        ("OF007", "Vendeur « produits frais »", "D1106", "73065", date(2025, 2, 17), _A, 1, _S1),
        ("OF008", "Boulanger; tourier", "D1102", "74010", date(2025, 2, 24), _P, 1, _S2),
        ("OF009", "Cuisine & pâtisserie", "G1602", "73008", date(2025, 3, 3), _A, 4, _S3),
        ("OF010", "Électricienne <CAP>", "F1602", "74281", date(2025, 3, 10), _A, 2, _S1),
        ("OF011", "Secrétaire médicale", "M1607", "73011", date(2025, 3, 17), _P, 1, _S2),
        ("OF012", "Agent d'entretien automobile", "I1604", "74012", date(2025, 3, 24), _A, 1, _S3),
        ("OF013", "Pâtissier chocolatier", "D1104", "73065", date(2025, 4, 7), _A, 2, _S1),
        ("OF014", 'Commis "tournant"', "G1602", "74010", date(2025, 4, 14), _P, 3, _S2),
        ("OF015", "Électricien itinérant", "F1602", "73008", date(2025, 4, 22), _A, 1, _S3),
        ("OF016", "Boulanger de nuit", "D1102", "74281", date(2025, 5, 5), _A, 1, _S1),
        ("OF017", "Vendeuse en fromagerie", "D1106", "73011", date(2025, 5, 12), _P, 2, _S2),
        ("OF018", "Mécanicienne poids lourds", "I1604", "74012", date(2025, 5, 19), _A, 1, _S3),
        ("OF019", "Assistante de direction", "M1607", "73065", date(2025, 6, 2), _A, 1, _S1),
        ("OF020", "Cuisinier en brasserie", "G1602", "74010", date(2025, 6, 9), _A, 2, _S2),
        ("OF021", "Électricien tertiaire", "F1602", "73008", date(2025, 6, 16), _P, 1, _S3),
        ("OF022", "Boulanger-pâtissier", "D1102", "74281", date(2025, 9, 1), _A, 3, _S1),
        ("OF023", "Pâtissière en hôtel ****", "D1104", "73011", date(2025, 9, 8), _A, 1, _S2),
        ("OF024", "Vendeur en boucherie", "D1106", "74012", date(2025, 9, 15), _P, 1, _S3),
        ("OF025", "Mécanicien cycles", "I1604", "73065", date(2025, 9, 22), _A, 2, _S1),
    ]
)

BAD_OFFER = replace(OFFERS[3], id="OF026", title="Commis de cuisine (postes ?)", positions="many")
"""A record whose only fault is a wrongly typed field."""


# -- what every fixture partner has -----------------------------------------------------------


class FixturePartner:
    """A partner serving offers in its native shape, counting the calls it receives."""

    kind: ClassVar[str]
    paginated: ClassVar[bool]  # a list walks pages (else: one whole document)

    def __init__(self, offers: Sequence[Offer]) -> None:
        self.offers = list(offers)
        self.calls = 0
        self.env: dict[str, str] = {}  # environment variables its blocks name
        self.settings: dict[str, Any] = {}  # partner settings a test adds to its block

    def block(self) -> dict[str, Any]:
        """Its partners-file block."""
        raise NotImplementedError

    def dead_block(self) -> tuple[dict[str, Any], str]:
        """The same block pointing at a partner that is not there, and where that is."""
        raise NotImplementedError

    def transport(self) -> httpx.AsyncBaseTransport | None:
        return None

    async def start(self) -> None:
        """Set up what it serves from (nothing, for an in-process app)."""

    def watch(self, adapter: Adapter) -> None:
        """Count the calls ``adapter`` makes, where the partner cannot count them itself."""

    async def stop(self) -> None:
        """Remove what :meth:`start` set up."""


def closed_port() -> int:
    """A port nothing listens on: bound once to get it from the system, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class HttpFixturePartner(FixturePartner):
    """A partner over HTTP: an in-process Starlette app, reached through ``ASGITransport``."""

    def __init__(self, offers: Sequence[Offer]) -> None:
        super().__init__(offers)
        self.app = Starlette(routes=self.routes())

    def routes(self) -> list[Route]:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=self)

    def dead_block(self) -> tuple[dict[str, Any], str]:
        url = f"http://127.0.0.1:{closed_port()}"
        return {**self.block(), "base_url": url}, url


def _values(partner_labels: dict[str, str]) -> dict[str, str]:
    """A block's value map (partner label -> common value) from a partner's labels."""
    return {label: common for common, label in partner_labels.items()}


def _contract_kinds(path: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"path": path, "strict_values": True, "values": _values(labels)}


# -- REST/JSON ------------------------------------------------------------------------------


class RestOffers(HttpFixturePartner):
    """A job board's JSON API: pages numbered from 1 with a total, a POST batch look-up."""

    kind = "rest"
    paginated = True
    labels: ClassVar[dict[str, str]] = {
        APPRENTICESHIP: "Contrat apprentissage",
        PROFESSIONALISATION: "Cont. professionnalisation",
    }

    def block(self) -> dict[str, Any]:
        return {
            "kind": "rest",
            "base_url": BASE_URL,
            "entities": {
                "offer": {
                    "id": "id",
                    "list": {"path": "/api/offres", "items": "resultats"},
                    "pagination": {
                        "style": "page",
                        "page_param": "page",
                        "size_param": "taille",
                        "first_page": 1,
                        "page_size": PAGE_SIZE,
                        "total": "total",
                    },
                    "lookups": {
                        "id": {
                            "path": "/api/offres/{value}",
                            "batch": {
                                "path": "/api/offres/lot",
                                "method": "POST",
                                "body_field": "ids",
                                "items": "resultats",
                            },
                        }
                    },
                    "filters": {
                        "romeCodes": {"param": "codeROME"},
                        "departements": {"param": "departement"},
                    },
                    "sort": {
                        "param": "tri",
                        "values": {"-publishedAt": "date", "title": "intitule"},
                        "natural": "id",
                    },
                    "fields": {
                        "title": "intitule",
                        "romeCodes": "romeCode",
                        "publishedAt": "dateCreation",
                        "contractKinds": _contract_kinds("natureContrat", self.labels),
                        "positions": "nombrePostes",
                        "location.inseeCode": "lieuTravail.commune",
                        "employer.siret": "entreprise.siret",
                    },
                }
            },
        }

    def routes(self) -> list[Route]:
        return [
            Route("/api/offres", self.search),
            Route("/api/offres/lot", self.batch, methods=["POST"]),
            Route("/api/offres/{ref}", self.one),
        ]

    def raw(self, offer: Offer) -> dict[str, Any]:
        return {
            "id": offer.id,
            "intitule": offer.title,
            "romeCode": offer.rome,
            "dateCreation": f"{offer.published.isoformat()}T00:00:00.000Z",
            "natureContrat": self.labels[offer.nature],
            "nombrePostes": offer.positions,
            "lieuTravail": {"commune": offer.insee},
            "entreprise": {"siret": offer.siret},
            "contact": {"courriel": "recrutement@example.org"},  # never mapped
        }

    async def search(self, request: Request) -> Response:
        romes = _listed(request.query_params.get("codeROME"))
        departements = _listed(request.query_params.get("departement"))
        matching = sorted(
            (
                o
                for o in self.offers
                if (not romes or o.rome in romes)
                and (not departements or o.insee[:2] in departements)
            ),
            key=lambda o: o.id,
        )
        # stable sorts: ties keep the ids' ascending order, as the hub's orders do
        if request.query_params.get("tri") == "date":
            matching.sort(key=lambda o: o.published, reverse=True)
        elif request.query_params.get("tri") == "intitule":
            matching.sort(key=lambda o: o.title)
        size = int(request.query_params.get("taille", "20"))
        start = (int(request.query_params.get("page", "1")) - 1) * size
        page = [self.raw(o) for o in matching[start : start + size]]
        return JSONResponse({"total": len(matching), "resultats": page})

    async def batch(self, request: Request) -> Response:
        wanted = set((await request.json())["ids"])
        return JSONResponse({"resultats": [self.raw(o) for o in self.offers if o.id in wanted]})

    async def one(self, request: Request) -> Response:
        for offer in self.offers:
            if offer.id == request.path_params["ref"]:
                return JSONResponse(self.raw(offer))
        return JSONResponse({"message": "offre inconnue"}, status_code=404)


def _listed(param: str | None) -> set[str]:
    return {v for v in (param or "").split(",") if v}


# -- SQL ------------------------------------------------------------------------------------

_DSN_NUMBERS = itertools.count()


def offres_table(
    published_as: Literal["timestamp", "date"], title_collation: str | None = None
) -> Table:
    return Table(
        "offres_alternance",
        MetaData(),
        Column("ref", String(10), primary_key=True),
        Column("libelle", String(200, collation=title_collation), nullable=False),
        Column("code_rome", String(5)),
        Column("publie_le", DateTime if published_as == "timestamp" else Date),
        Column("nature", String(3)),
        Column("nb_postes", String(10)),  # typed in by hand in the ERP: text
        Column("commune", String(5)),
        Column("siret", String(14)),
        Column("note_interne", String(200)),  # never mapped: never selected
    )


class SqlOffers(FixturePartner):
    """A CFA's ERP table, read live: a SQLite file, or a schema of its own in PostgreSQL."""

    kind = "sql"
    paginated = True
    labels: ClassVar[dict[str, str]] = {APPRENTICESHIP: "APP", PROFESSIONALISATION: "PRO"}

    def __init__(
        self,
        offers: Sequence[Offer],
        dsn: str,
        dead_dsn: str,
        *,
        schema: str | None = None,
        published_as: Literal["timestamp", "date"] = "timestamp",
        title_collation: str | None = None,
    ) -> None:
        super().__init__(offers)
        number = next(_DSN_NUMBERS)
        self.dsn, self.dead_dsn, self.schema = dsn, dead_dsn, schema
        self.dsn_env = f"HUB_CONTRACT_SQL_DSN_{number}"
        self.dead_dsn_env = f"HUB_CONTRACT_DEAD_SQL_DSN_{number}"
        self.env = {self.dsn_env: dsn, self.dead_dsn_env: dead_dsn}
        self.published_as = published_as
        self._threads_before: set[threading.Thread] = set()
        self.table = offres_table(published_as, title_collation)

    @classmethod
    def sqlite(cls, offers: Sequence[Offer], directory: Path, **options: Any) -> SqlOffers:
        return cls(
            offers,
            f"sqlite+aiosqlite:///{directory / 'erp.db'}",
            f"sqlite+aiosqlite:///{directory / 'no' / 'such' / 'erp.db'}",
            **options,
        )

    @classmethod
    def postgres(cls, offers: Sequence[Offer], url: str, **options: Any) -> SqlOffers:
        return cls(
            offers,
            url.replace("postgresql://", "postgresql+asyncpg://", 1),
            f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/test",
            schema=f"hub_contract_{uuid.uuid4().hex[:10]}",
            **options,
        )

    def block(self) -> dict[str, Any]:
        return {
            "kind": "sql",
            "dsn": {"env": self.dsn_env},
            "db_schema": self.schema,
            "entities": {
                "offer": {
                    "table": "offres_alternance",
                    "alias": "o",
                    "id": "o.ref",
                    "page_size": PAGE_SIZE,
                    # the count of positions is text in this ERP: it does not sort as a number
                    "columns": {"o.nb_postes": "str"},
                    "filters": {
                        "romeCodes": {"column": "o.code_rome", "op": "in"},
                        "departements": {"column": "o.commune", "op": "prefix"},
                    },
                    "fields": {
                        "title": "o.libelle",
                        "romeCodes": "o.code_rome",
                        "publishedAt": "o.publie_le",
                        "contractKinds": _contract_kinds("o.nature", self.labels),
                        "positions": "o.nb_postes",
                        "location.inseeCode": "o.commune",
                        "employer.siret": "o.siret",
                    },
                }
            },
        }

    def dead_block(self) -> tuple[dict[str, Any], str]:
        return {**self.block(), "dsn": {"env": self.dead_dsn_env}}, self.dead_dsn

    def row(self, offer: Offer) -> dict[str, Any]:
        midnight = datetime.combine(offer.published, time())
        return {
            "ref": offer.id,
            "libelle": offer.title,
            "code_rome": offer.rome,
            "publie_le": offer.published if self.published_as == "date" else midnight,
            "nature": self.labels[offer.nature],
            "nb_postes": str(offer.positions),
            "commune": offer.insee,
            "siret": offer.siret,
            "note_interne": "à relancer",
        }

    async def start(self) -> None:
        self._threads_before = set(threading.enumerate())
        engine = create_async_engine(self.dsn)
        try:
            async with engine.begin() as connection:
                if self.schema is not None:
                    await connection.execute(CreateSchema(self.schema))
                    connection = await connection.execution_options(
                        schema_translate_map={None: self.schema}
                    )
                await connection.run_sync(self.table.metadata.create_all)
                await connection.execute(insert(self.table), [self.row(o) for o in self.offers])
        finally:
            await engine.dispose()

    def watch(self, adapter: Adapter) -> None:
        assert isinstance(adapter, SqlAdapter)
        event.listen(adapter.engine().sync_engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.calls += 1

    async def stop(self) -> None:
        await _worker_threads_ended(self._threads_before)
        if self.schema is None:
            return
        engine = create_async_engine(self.dsn)
        try:
            async with engine.begin() as connection:
                await connection.execute(DropSchema(self.schema, cascade=True, if_exists=True))
        finally:
            await engine.dispose()


async def _worker_threads_ended(before: set[threading.Thread]) -> None:
    """Wait for the aiosqlite worker threads started since ``before`` to end (bounded).

    After a failed connect, aiosqlite's worker thread still delivers its stop result to the
    event loop; if pytest has closed that loop by then, the thread raises "Event loop is
    closed" into the next test (omnilib/aiosqlite#389). Live connections are closed by then.
    """
    for thread in set(threading.enumerate()) - before:
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, 5.0)


# -- XML feed -------------------------------------------------------------------------------

XML_NAMESPACE = "urn:example:annonces-alternance:1"


class XmlFeedOffers(HttpFixturePartner):
    """A regional job feed: one namespaced XML document, ``yyyymmdd`` dates."""

    kind = "xml_feed"
    paginated = False
    labels: ClassVar[dict[str, str]] = {
        APPRENTICESHIP: "apprentissage",
        PROFESSIONALISATION: "professionnalisation",
    }

    def block(self) -> dict[str, Any]:
        return {
            "kind": "xml_feed",
            "base_url": BASE_URL,
            "entities": {
                "offer": {
                    "path": "/flux/annonces.xml",
                    "record": "annonce",
                    "namespace": XML_NAMESPACE,
                    "date_format": "%Y%m%d",
                    "id": "@reference",
                    "fields": {
                        "title": "intitule",
                        "romeCodes": "code-rome",
                        "publishedAt": "date-publication",
                        "contractKinds": _contract_kinds("type-contrat", self.labels),
                        "positions": "nombre-postes",
                        "location.inseeCode": "lieu.code-insee",
                        "employer.siret": "employeur.siret",
                    },
                }
            },
        }

    def routes(self) -> list[Route]:
        return [Route("/flux/annonces.xml", self.document)]

    async def document(self, request: Request) -> Response:
        return Response(self.xml(), media_type="application/xml")

    def xml(self) -> bytes:
        root = etree.Element(_qualified("annonces"), nsmap={"ann": XML_NAMESPACE})
        for offer in self.offers:
            element = etree.SubElement(root, _qualified("annonce"), reference=offer.id)
            _leaf(element, "intitule", offer.title)
            _leaf(element, "code-rome", offer.rome)
            _leaf(element, "date-publication", offer.published.strftime("%Y%m%d"))
            _leaf(element, "type-contrat", self.labels[offer.nature])
            _leaf(element, "nombre-postes", str(offer.positions))
            _leaf(etree.SubElement(element, _qualified("lieu")), "code-insee", offer.insee)
            _leaf(etree.SubElement(element, _qualified("employeur")), "siret", offer.siret)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _qualified(name: str) -> str:
    return f"{{{XML_NAMESPACE}}}{name}"


def _leaf(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, _qualified(name)).text = text


# -- CSV feed -------------------------------------------------------------------------------


class CsvFeedOffers(HttpFixturePartner):
    """An OPCO's export: Latin-1, ``;``-separated, ``dd/mm/yyyy`` dates."""

    kind = "csv_feed"
    paginated = False
    labels: ClassVar[dict[str, str]] = {
        APPRENTICESHIP: "Contrat d'apprentissage",
        PROFESSIONALISATION: "Contrat de professionnalisation",
    }
    columns: ClassVar[list[str]] = [
        "numero",
        "libelle",
        "code_rome",
        "date_publication",
        "type_contrat",
        "nb_postes",
        "code_insee",
        "siret_employeur",
    ]

    def block(self) -> dict[str, Any]:
        return {
            "kind": "csv_feed",
            "base_url": BASE_URL,
            "entities": {
                "offer": {
                    "path": "/exports/offres.csv",
                    "encoding": "latin-1",
                    "delimiter": ";",
                    "date_format": "%d/%m/%Y",
                    "id": "numero",
                    "fields": {
                        "title": "libelle",
                        "romeCodes": "code_rome",
                        "publishedAt": "date_publication",
                        "contractKinds": _contract_kinds("type_contrat", self.labels),
                        "positions": "nb_postes",
                        "location.inseeCode": "code_insee",
                        "employer.siret": "siret_employeur",
                    },
                }
            },
        }

    def routes(self) -> list[Route]:
        return [Route("/exports/offres.csv", self.document)]

    async def document(self, request: Request) -> Response:
        return Response(self.csv(), media_type="text/csv; charset=iso-8859-1")

    def csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(self.columns)
        for o in self.offers:
            row = [o.id, o.title, o.rome, o.published.strftime("%d/%m/%Y"), self.labels[o.nature]]
            writer.writerow([*row, o.positions, o.insee, o.siret])
        return out.getvalue().encode("latin-1")


# -- GraphQL --------------------------------------------------------------------------------

# The partner's own schema: it types the count of positions as text (free input by CFAs).
GRAPHQL_SCHEMA = build_schema(
    """
    type Metier { codeRome: String! }
    type Lieu { codeInsee: String! }
    type Employeur { siret: String! }
    type Offre {
      ref: ID!
      intitule: String!
      metier: Metier!
      publieLe: String!
      typeContrat: String!
      postes: String!
      lieu: Lieu!
      employeur: Employeur!
    }
    type PageInfo { endCursor: String, hasNextPage: Boolean! }
    enum Tri { RECENTES INTITULE }
    type OffreConnection { totalCount: Int!, pageInfo: PageInfo!, nodes: [Offre!]! }
    type Query {
      offres(first: Int = 20, after: String, romes: [String!], tri: Tri): OffreConnection!
      offresParRef(refs: [String!]!): [Offre!]!
    }
    """
)

_OFFRE_FRAGMENT = """
fragment Offre on Offre {
  ref intitule metier { codeRome } publieLe typeContrat postes
  lieu { codeInsee } employeur { siret }
}
"""

LIST_QUERY = (
    """
query Offres($first: Int, $after: String, $romes: [String!], $tri: Tri) {
  offres(first: $first, after: $after, romes: $romes, tri: $tri) {
    totalCount
    pageInfo { endCursor hasNextPage }
    nodes { ...Offre }
  }
}
"""
    + _OFFRE_FRAGMENT
)

BY_REF_QUERY = (
    """
query OffresParRef($refs: [String!]!) {
  offresParRef(refs: $refs) { ...Offre }
}
"""
    + _OFFRE_FRAGMENT
)


class GraphqlOffers(HttpFixturePartner):
    """A GraphQL service: a cursor-paginated list filtered by ROME, a look-up by many refs."""

    kind = "graphql"
    paginated = True
    labels: ClassVar[dict[str, str]] = {
        APPRENTICESHIP: "APPRENTISSAGE",
        PROFESSIONALISATION: "PROFESSIONNALISATION",
    }

    def block(self) -> dict[str, Any]:
        return {
            "kind": "graphql",
            "base_url": BASE_URL,
            "endpoint": "/graphql",
            "entities": {
                "offer": {
                    "id": "ref",
                    "list": {
                        "query": LIST_QUERY,
                        "items": "offres.nodes",
                        "total": "offres.totalCount",
                        "filters": {"romeCodes": "romes"},  # departements: not pushed
                        "pagination": {
                            "style": "cursor",
                            "page_size": PAGE_SIZE,
                            "end_cursor": "offres.pageInfo.endCursor",
                            "has_next_page": "offres.pageInfo.hasNextPage",
                        },
                    },
                    "sort": {
                        "param": "tri",
                        "values": {"-publishedAt": "RECENTES", "title": "INTITULE"},
                        "natural": "id",
                    },
                    "lookups": {
                        "id": {"query": BY_REF_QUERY, "variable": "refs", "items": "offresParRef"}
                    },
                    "fields": {
                        "title": "intitule",
                        "romeCodes": "metier.codeRome",
                        "publishedAt": "publieLe",
                        "contractKinds": _contract_kinds("typeContrat", self.labels),
                        "positions": "postes",
                        "location.inseeCode": "lieu.codeInsee",
                        "employer.siret": "employeur.siret",
                    },
                }
            },
        }

    def routes(self) -> list[Route]:
        return [Route("/graphql", self.endpoint, methods=["POST"])]

    async def endpoint(self, request: Request) -> Response:
        body = await request.json()
        result = await graphql(
            GRAPHQL_SCHEMA,
            body["query"],
            root_value={"offres": self.offres, "offresParRef": self.offres_par_ref},
            variable_values=body.get("variables"),
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        return JSONResponse(answer)

    def raw(self, offer: Offer) -> dict[str, Any]:
        return {
            "ref": offer.id,
            "intitule": offer.title,
            "metier": {"codeRome": offer.rome},
            "publieLe": f"{offer.published.isoformat()}T01:00:00+01:00",  # Paris winter time
            "typeContrat": self.labels[offer.nature],
            "postes": str(offer.positions),
            "lieu": {"codeInsee": offer.insee},
            "employeur": {"siret": offer.siret},
        }

    def offres(
        self,
        info: GraphQLResolveInfo[Any],
        first: int = 20,
        after: str | None = None,
        romes: list[str] | None = None,
        tri: str | None = None,
    ) -> dict[str, Any]:
        matching = sorted(
            (o for o in self.offers if not romes or o.rome in romes), key=lambda o: o.id
        )
        # stable sorts: ties keep the ids' ascending order, as the hub's orders do
        if tri == "RECENTES":
            matching.sort(key=lambda o: o.published, reverse=True)
        elif tri == "INTITULE":
            matching.sort(key=lambda o: o.title)
        start = int(after) if after else 0
        page = matching[start : start + first]
        end = start + len(page)
        return {
            "totalCount": len(matching),
            "pageInfo": {"endCursor": str(end), "hasNextPage": end < len(matching)},
            "nodes": [self.raw(o) for o in page],
        }

    def offres_par_ref(
        self, info: GraphQLResolveInfo[Any], refs: list[str]
    ) -> list[dict[str, Any]]:
        wanted = set(refs)
        return [self.raw(o) for o in self.offers if o.id in wanted]


# -- what each contract test gets -------------------------------------------------------------


@dataclass
class ContractPartner:
    """An adapter built from a fixture partner's block, over that partner."""

    name: str
    server: FixturePartner
    adapter: Adapter
    dead: Adapter  # built from the same block pointed at a partner that is not there
    dead_target: str  # where that is (URL or DSN)

    @property
    def kind(self) -> str:
        return self.server.kind

    @property
    def calls(self) -> int:
        """Calls the partner has received so far (HTTP requests, or SQL statements)."""
        return self.server.calls

    @property
    def paginated(self) -> bool:
        return self.server.paginated
