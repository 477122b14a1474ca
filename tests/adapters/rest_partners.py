"""Small real partner apps (Starlette) for the REST adapter tests, and what they saw.

Each app imitates one convention (a pagination style, a batch endpoint, an auth style, a fault)
and is wrapped in a :class:`Recorder` that keeps every request it received, so tests assert on
what really went over the wire: paths as sent (raw), query parameters, headers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.rest import RestAdapter
from adapters.rest_config import RestPartner

BASE_URL = "http://partner.test"
ROMES = ("M1805", "F1201", "G1602")


def offer(number: int) -> dict[str, Any]:
    """One raw offer the way a French partner writes it, with fields no mapping reads."""
    return {
        "id": f"OF{number:03d}",
        "intitule": f"Offre {number}",
        "romeCode": ROMES[number % len(ROMES)],
        "dateCreation": "2024-05-01T10:00:00+02:00",
        "nbPostes": number % 4 + 1,
        "contact": {"interne": "never mapped"},
    }


OFFERS = [offer(n) for n in range(23)]  # 23: pages of 5 leave a short last page

OFFER_FIELDS = {
    "title": "intitule",
    "romeCodes": "romeCode",
    "publishedAt": "dateCreation",
    "positions": "nbPostes",
}


def ids(records: Iterable[Any]) -> list[str]:
    return [record.fields["id"] for record in records]


def rest_config(entities: dict[str, Any], **settings: Any) -> RestPartner:
    """A partner block as the partners file gives it (validated like one)."""
    block = {"kind": "rest", "base_url": BASE_URL, "entities": entities, **settings}
    return RestPartner.model_validate(block)


def offer_entity(**block: Any) -> dict[str, Any]:
    return {"id": "id", "fields": OFFER_FIELDS, **block}


def adapter_over(app: ASGIApp, config: RestPartner, partner: str = "partner") -> RestAdapter:
    return RestAdapter(partner, config, httpx.ASGITransport(app=app))


# -- what a partner saw ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seen:
    method: str
    path: str  # decoded, as the partner's router sees it
    raw_path: bytes  # as sent on the wire
    query: list[tuple[str, str]]
    headers: Headers

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def params(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]


@dataclass
class Recorder:
    """An ASGI wrapper keeping every HTTP request an app received."""

    app: ASGIApp
    seen: list[Seen] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            self.seen.append(
                Seen(scope["method"], scope["path"], scope["raw_path"], query, Headers(scope=scope))
            )
        await self.app(scope, receive, send)

    def to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


def recorded(routes: Sequence[Route]) -> Recorder:
    return Recorder(Starlette(routes=list(routes)))


# -- pagination styles ----------------------------------------------------------------------------


def _by_rome(request: Request, offers: list[dict[str, Any]], param: str) -> list[dict[str, Any]]:
    wanted = request.query_params.get(param)
    if not wanted:
        return offers
    romes = set(wanted.split(","))
    return [o for o in offers if o["romeCode"] in romes]


def range_app(
    offers: list[dict[str, Any]] = OFFERS, in_flight_pause: float = 0.0
) -> tuple[Recorder, dict[str, int]]:
    """France Travail style: ``range=p-d``, ``Content-Range: offres p-d/total``, 206/200/204.

    Returns the app and a gauge of requests in flight (``peak``), to see concurrency.
    """
    gauge = {"now": 0, "peak": 0}

    async def search(request: Request) -> Response:
        gauge["now"] += 1
        gauge["peak"] = max(gauge["peak"], gauge["now"])
        try:
            if in_flight_pause:
                await asyncio.sleep(in_flight_pause)  # lets concurrent requests overlap
            matching = _by_rome(request, offers, "codeROME")
            first, _, last = request.query_params.get("range", "0-149").partition("-")
            start, end = int(first), int(last)
            if not matching:
                return Response(status_code=204)
            if start >= len(matching):
                return JSONResponse({"message": "range beyond the results"}, status_code=400)
            end = min(end, len(matching) - 1)
            status = 200 if end + 1 >= len(matching) and start == 0 else 206
            return JSONResponse(
                {"resultats": matching[start : end + 1]},
                status_code=status,
                headers={"Content-Range": f"offres {start}-{end}/{len(matching)}"},
            )
        finally:
            gauge["now"] -= 1

    return recorded([Route("/offres/search", search)]), gauge


def range_entity(page_size: int = 5, **block: Any) -> dict[str, Any]:
    return offer_entity(
        list={"path": "/offres/search", "items": "resultats"},
        pagination={"style": "range", "page_size": page_size},
        **block,
    )


def page_app(offers: list[dict[str, Any]] = OFFERS, with_total: bool = True) -> Recorder:
    """API Apprentissage style: ``page_index`` from 1 and ``page_size``, total in the body."""

    async def offers_page(request: Request) -> Response:
        index = int(request.query_params["page_index"])
        size = int(request.query_params["page_size"])
        chunk = offers[(index - 1) * size : index * size]
        body: dict[str, Any] = {"data": chunk}
        if with_total:
            body["pagination"] = {"page_index": index, "total": len(offers)}
        return JSONResponse(body)

    return recorded([Route("/jobs", offers_page)])


def offset_app(offers: list[dict[str, Any]] = OFFERS, with_total: bool = True) -> Recorder:
    async def items(request: Request) -> Response:
        offset = int(request.query_params["offset"])
        limit = int(request.query_params["limit"])
        body: dict[str, Any] = {"results": offers[offset : offset + limit]}
        if with_total:
            body["count"] = str(len(offers))  # some partners write numbers as text
        return JSONResponse(body)

    return recorded([Route("/items", items)])


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"pos:{position}".encode()).decode()


def cursor_app(offers: list[dict[str, Any]] = OFFERS, loop_at: int | None = None) -> Recorder:
    """Opaque ``next`` cursors; with ``loop_at`` the partner keeps handing out one cursor."""

    async def feed(request: Request) -> Response:
        cursor = request.query_params.get("cursor")
        position = int(base64.urlsafe_b64decode(cursor).decode()[4:]) if cursor else 0
        size = int(request.query_params["limit"])
        chunk = offers[position : position + size]
        following = position + size
        if loop_at is not None and following > loop_at:
            following = loop_at
        next_cursor = _cursor(following) if following < len(offers) else None
        return JSONResponse({"items": chunk, "paging": {"next": next_cursor}})

    return recorded([Route("/feed", feed)])


def plain_app(offers: list[dict[str, Any]] = OFFERS) -> Recorder:
    """No pagination: the whole list as a JSON array."""

    async def everything(request: Request) -> Response:
        return JSONResponse(offers)

    return recorded([Route("/all", everything)])


def echo_app(answer: Any = ()) -> Recorder:
    """Answers every GET with ``answer`` (an empty list by default): for asserting requests."""

    async def anything(request: Request) -> Response:
        return JSONResponse(list(answer) if isinstance(answer, tuple) else answer)

    return recorded([Route("/{rest:path}", anything, methods=["GET", "POST"])])


# -- look-ups -------------------------------------------------------------------------------------


def siret(number: int) -> str:
    """A 14-digit SIRET-shaped string (the gateway checks the Luhn key, not the adapter)."""
    return f"{number:014d}"


def company(number: int) -> dict[str, Any]:
    return {
        "siret": siret(number),
        "denomination": f"Entreprise {number}",
        "etat": "A",
        "codeNaf": "62.02A",
    }


COMPANIES = {siret(n): company(n) for n in range(1, 301)}

COMPANY_FIELDS = {
    "siret": "siret",
    "name": "denomination",
    "naf.code": "codeNaf",
    "active": {"path": "etat", "values": {"A": True, "F": False}},
}


def directory_app(companies: dict[str, dict[str, Any]] = COMPANIES) -> tuple[Recorder, list[int]]:
    """Sirene style: one SIRET per GET, or a batch (POST JSON list, or GET joined list).

    Returns the app and the sizes of the batches it received.
    """
    batch_sizes: list[int] = []

    async def one(request: Request) -> Response:
        found = companies.get(request.path_params["siret"])
        if found is None:
            return JSONResponse({"message": "inconnu"}, status_code=404)
        return JSONResponse({"etablissement": found})

    async def by_param(request: Request) -> Response:
        found = companies.get(request.query_params.get("q", ""))
        return JSONResponse({"etablissements": [found] if found else []})

    async def batch_post(request: Request) -> Response:
        body = await request.json()
        wanted = body["sirets"]
        batch_sizes.append(len(wanted))
        return JSONResponse({"etablissements": [companies[s] for s in wanted if s in companies]})

    async def batch_get(request: Request) -> Response:
        wanted = request.query_params["sirets"].split(",")
        batch_sizes.append(len(wanted))
        return JSONResponse([companies[s] for s in wanted if s in companies])

    routes = [
        Route("/etablissements/batch", batch_post, methods=["POST"]),
        Route("/etablissements/lot", batch_get),
        Route("/etablissements/search", by_param),
        Route("/etablissements/{siret}", one),
    ]
    return recorded(routes), batch_sizes


def company_entity(**block: Any) -> dict[str, Any]:
    return {"id": "siret", "fields": COMPANY_FIELDS, **block}


# -- a real server ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def served(app: ASGIApp, http: str = "h11") -> AsyncIterator[str]:
    """``app`` behind a real uvicorn on a free 127.0.0.1 port, in this event loop; ``http``:
    uvicorn's HTTP protocol (the gateway's own: ``gateway.http_protocol.PROTOCOL``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="none",
        http=http,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):  # bounded: 5 s
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


def closed_port() -> int:
    """A port nothing listens on: bound once to get it from the system, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
