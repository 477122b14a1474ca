"""Tiny real feed partners for the xml_feed / csv_feed tests, and a clock the tests drive.

:class:`FeedServer` is a Starlette-free ASGI app serving whole documents the way a feed
partner does: a strong ``ETag`` and a ``Last-Modified`` per document, 304 to a conditional GET
that matches, and switches the tests flip — answer an error status, hold requests until
released — while it records what it saw (calls, validators sent, 304s given).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

BASE_URL = "http://feed.test"
FIRST_MODIFIED = "Mon, 02 Nov 2026 08:00:00 GMT"


class ManualClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Document:
    body: bytes
    content_type: str
    etag: str
    last_modified: str


@dataclass
class Seen:
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    accept: str | None


@dataclass
class FeedServer:
    """A feed partner; ``use_etag=False`` imitates one that only knows Last-Modified."""

    use_etag: bool = True
    documents: dict[str, Document] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    not_modified: int = 0
    fail_with: int | None = None  # answer this status to every request
    gate: asyncio.Event | None = None  # hold requests until set
    waiting: int = 0
    _revision: int = 0

    def publish(self, path: str, body: bytes, content_type: str = "application/xml") -> None:
        """Serve ``body`` at ``path``: a new ETag, a later Last-Modified."""
        modified = parsedate_to_datetime(FIRST_MODIFIED).timestamp() + 3600 * self._revision
        self._revision += 1
        self.documents[path] = Document(
            body,
            content_type,
            f'"{hashlib.sha256(body).hexdigest()[:16]}"',
            format_datetime(_utc(modified), usegmt=True),
        )

    @property
    def calls(self) -> int:
        return len(self.seen)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        headers = Headers(scope=scope)
        self.seen.append(
            Seen(
                scope["path"],
                headers.get("if-none-match"),
                headers.get("if-modified-since"),
                headers.get("accept"),
            )
        )
        if self.gate is not None:
            self.waiting += 1
            await self.gate.wait()
            self.waiting -= 1
        if self.fail_with is not None:
            await _answer(send, self.fail_with, b"<html>maintenance</html>", "text/html")
            return
        document = self.documents.get(scope["path"])
        if document is None:
            await _answer(send, 404, b"not found", "text/plain")
            return
        validators = [(b"last-modified", document.last_modified.encode())]
        if self.use_etag:
            validators.append((b"etag", document.etag.encode()))
        if self._unchanged(headers, document):
            self.not_modified += 1
            await _answer(send, 304, b"", None, validators)
            return
        await _answer(send, 200, document.body, document.content_type, validators)

    def _unchanged(self, headers: Headers, document: Document) -> bool:
        tag = headers.get("if-none-match")
        if self.use_etag and tag is not None:
            return tag == document.etag
        since = headers.get("if-modified-since")
        return since is not None and parsedate_to_datetime(since) >= parsedate_to_datetime(
            document.last_modified
        )


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


async def _answer(
    send: Send,
    status: int,
    body: bytes,
    content_type: str | None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-length", str(len(body)).encode()), *(extra or [])]
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def until(condition: Callable[[], bool], rounds: int = 200) -> None:
    """Let other tasks run until ``condition()`` holds (bounded: a few hundred loop turns)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


# -- documents ------------------------------------------------------------------------------

LHEO_NS = "http://lheo.gouv.fr/2.3"


def lheo_action(number: str, insee: str, starts: list[str], key: str | None = None) -> str:
    sessions = "".join(
        f'<session numero="{number}-S{i}"><periode><debut>{start}</debut>'
        f"<fin>20290630</fin></periode><etat-recrutement>1</etat-recrutement></session>"
        for i, start in enumerate(starts, 1)
    )
    extras = (
        f'<extras info="action"><extra info="cle-ministere-educatif">{key}</extra></extras>'
        if key
        else ""
    )
    return (
        f'<action numero="{number}"><lieu-de-formation><coordonnees><adresse>'
        f"<codepostal>{insee[:2]}000</codepostal><code-INSEE-commune>{insee}</code-INSEE-commune>"
        f"</adresse></coordonnees></lieu-de-formation>{sessions}{extras}</action>"
    )


def lheo_formation(number: str, title: str, rncp: str, level: str, uai: str, *actions: str) -> str:
    return (
        f'<formation numero="{number}">'
        f"<domaine-formation><code-ROME>M1805</code-ROME></domaine-formation>"
        f"<intitule-formation>{title}</intitule-formation>"
        f"<certification><code-RNCP>{rncp}</code-RNCP></certification>"
        f"<code-niveau-sortie>{level}</code-niveau-sortie>"
        f"{''.join(actions)}"
        f"<organisme-formation-responsable><SIRET-organisme-formation>"
        f"<SIRET>19730001400015</SIRET><code-UAI>{uai}</code-UAI>"
        f"</SIRET-organisme-formation></organisme-formation-responsable>"
        f"</formation>"
    )


def lheo(*formations: str, namespace: str = LHEO_NS, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}'
        f'<lheo xmlns="{namespace}"><offres>{"".join(formations)}</offres></lheo>'
    ).encode()


FORMATIONS = (
    lheo_formation(
        "F1",
        "BTS Services informatiques aux organisations",
        "RNCP35340",
        "15",
        "0731549M",
        lheo_action("A1", "73065", ["20260907"], key="KEY-A1"),
        lheo_action("A2", "74010", ["20260907", "20270104"]),
    ),
    lheo_formation(
        "F2",
        "CAP Électricien",
        "RNCP36140",
        "13",
        "0741451A",
        lheo_action("A3", "74010", ["20260901"], key="KEY-A3"),
    ),
)

LEVELS = {str(10 + n): n for n in range(1, 9)}


def lheo_entity(**block: Any) -> dict[str, Any]:
    """The training_program block of an LHEO feed (a reduced version of the demo's)."""
    entity: dict[str, Any] = {
        "path": "/lheo.xml",
        "record": "formation",
        "explode": "action",
        "namespace": LHEO_NS,
        "repeated": ["action.session", "action.lieu-de-formation", "domaine-formation.code-ROME"],
        "keyed": {"action.extras.extra": "info"},
        "date_format": "%Y%m%d",
        "id": "action.@numero",
        "fields": {
            "catalogueKey": "action.extras.extra.cle-ministere-educatif",
            "title": "intitule-formation",
            "certification.rncp": "certification.code-RNCP",
            "certification.level": {"path": "code-niveau-sortie", "values": LEVELS},
            "romeCodes": "domaine-formation.code-ROME",
            "responsible.uai": (
                "organisme-formation-responsable.SIRET-organisme-formation.code-UAI"
            ),
            "location.inseeCode": "action.lieu-de-formation[0].coordonnees.adresse"
            ".code-INSEE-commune",
            "location.postalCode": "action.lieu-de-formation[0].coordonnees.adresse.codepostal",
            "sessions": {
                "path": "action.session[*]",
                "each": {"start": "periode.debut", "end": "periode.fin"},
            },
        },
    }
    entity.update(block)
    return entity


def feed_partner(kind: str, entities: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "base_url": BASE_URL,
        "refresh_s": 60,
        "max_stale_s": 600,
        "retry_after_failure_s": 5,
        "entities": entities,
        **settings,
    }


def company_csv(*rows: tuple[str, str, str], header: str = "siren;raison_sociale;opco") -> bytes:
    """A Latin-1, ``;``-separated export of companies (CR LF, as spreadsheets write it)."""
    lines = [header, *(";".join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


COMPANIES = (
    ("732829320", "Boulangerie Pâtisserie Lévêque", "AKTO"),
    ("810028878", "Société Générale de Mécanique", "OPCO 2i"),
    ("193500303", "Hôtel du Lac d'Annecy", "AKTO"),
)


def company_entity(**block: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "path": "/entreprises.csv",
        "encoding": "latin-1",
        "delimiter": ";",
        "id": "siren",
        "fields": {
            "siren": "siren",
            "name": "raison_sociale",
            "opco": {"path": "opco", "values": {"AKTO": "AKTO", "OPCO 2i": "OPCO2I"}},
        },
    }
    entity.update(block)
    return entity
