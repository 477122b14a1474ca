"""Simulated Jobs Montagne: a job board of the mountain trades, with cursor paging.

What makes it different: English names (``headline``, ``place.town``, ``company.siret``), ids
like ``jm-3f9a1c22e0``, occupations as a list of objects (``[{"code": "G1602", "label":
...}]``), levels as ``EQF-5``, a Bearer token (demo token ``demo-token-jobs-montagne``), and
**cursor** paging: ``limit`` at most 100 (more is a 400), the next page's cursor in the body,
null on the last page, no total. Records always come newest first (publication descending,
ties by id ascending): it cannot be asked for another order::

    GET /v1/jobs?limit=100&department=74&rome=G1602,G1603
      -> {"jobs": [...], "paging": {"limit": 100, "next_cursor": "MTc5Mz..."}}
    GET /v1/jobs?limit=100&department=74&rome=G1602,G1603&cursor=MTc5Mz...
    GET /v1/jobs/jm-3f9a1c22e0 -> one job, or 404

The cursor is opaque to clients but is a position (the publication instant and id of the last
job sent), so it stays valid while the board changes and under any filter. Filters take
comma-separated lists: ``department``, ``rome``, ``insee`` (communes), and ``since`` (an ISO
instant). A fifth of its 3,000 jobs are Alpes Emploi's offers too, under its own ids.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import secrets
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo.data import Establishment, OfferSeed, dataset
from demo.http_support import (
    DEPARTEMENT,
    INSEE,
    ROME,
    BadRequest,
    JSONResponse,
    bearer_token,
    check_params,
    comma_list,
    counted,
    new_app,
    number,
)
from demo.job_boards import JOBS_MONTAGNE, catalogue

PARTNER = JOBS_MONTAGNE
TOKEN = "demo-token-jobs-montagne"
SEARCH_PATH = "/v1/jobs"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
SEARCH_PARAMS = ("limit", "cursor", "department", "rome", "insee", "since")
CONTRACTS = {"APPRENTICESHIP": "apprenticeship", "PROFESSIONALISATION": "professionalisation"}
REMOTE = {"ONSITE": "no", "HYBRID": "hybrid", "REMOTE": "full"}

SortKey = tuple[int, str]  # (-publication epoch, id): ascending = the board's order


def _error(message: str, status: int = 400) -> BadRequest:
    return BadRequest({"error": {"status": status, "message": message}}, status)


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sort_key(seed: OfferSeed) -> SortKey:
    return (-int(seed.published_at.timestamp()), seed.publishers[PARTNER])


def render_job(seed: OfferSeed, employer: Establishment) -> dict[str, Any]:
    uid = seed.publishers[PARTNER]
    where = seed.address
    return {
        "uid": uid,
        "headline": seed.title,
        "summary": seed.description,
        "occupations": [{"code": seed.rome_code, "label": seed.rome_label}],
        "contract": {
            "kind": CONTRACTS[seed.contract_kind],
            "length_months": seed.duration_months,
            "start": seed.start_date.isoformat(),
        },
        "level": f"EQF-{seed.level}",
        "seats": seed.positions,
        "state": "open",
        "published_at": _utc(seed.published_at),
        "expires_at": _utc(seed.expires_at),
        "place": {
            "street": where.label,
            "zip": where.postal_code,
            "insee": where.insee_code,
            "town": where.city,
            "department": where.departement,
            "lat": where.latitude,
            "lng": where.longitude,
        },
        "company": {"siret": employer.siret, "name": employer.trade_name or employer.name},
        "remote": REMOTE[seed.remote],
        "inclusive_hiring": seed.accessible_to_disabled_workers,
        "apply_url": f"https://jobs-montagne.demo/j/{uid}",
    }


def encode_cursor(key: SortKey) -> str:
    return base64.urlsafe_b64encode(f"{-key[0]}|{key[1]}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> SortKey:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        epoch, uid = text.split("|")
        return (-int(epoch), uid)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _error("invalid cursor") from None


def _since(request: Request) -> datetime | None:
    raw = request.query_params.get("since")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _error("invalid since") from None
    if moment.tzinfo is None:
        raise _error("since needs a time zone")
    return moment


def create_app(latency_ms: float = 0) -> Starlette:
    data = dataset()
    jobs: list[tuple[SortKey, OfferSeed, dict[str, Any]]] = []
    for seed in catalogue().published_on(PARTNER):
        employer = data.employer_by_siret(seed.employer_siret)
        assert employer is not None
        jobs.append((sort_key(seed), seed, render_job(seed, employer)))
    jobs.sort(key=lambda job: job[0])  # the board's only order
    by_uid = {body["uid"]: body for _, _, body in jobs}

    def refused(request: Request) -> Response | None:
        given = (bearer_token(request) or "").encode()
        if secrets.compare_digest(given, TOKEN.encode()):
            return None
        return JSONResponse({"error": {"status": 401, "message": "unauthorized"}}, 401)

    @counted("jobs")
    async def search(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        check_params(request, SEARCH_PARAMS, _error)
        limit = int(number(request, "limit", _error, 1, MAX_LIMIT, integer=True) or DEFAULT_LIMIT)
        cursor = request.query_params.get("cursor")
        depts = comma_list(request, "department", DEPARTEMENT, _error, max_items=10)
        romes = comma_list(request, "rome", ROME, _error, max_items=20)
        towns = comma_list(request, "insee", INSEE, _error, max_items=50)
        since = _since(request)
        found = [
            (key, body)
            for key, seed, body in jobs
            if (depts is None or seed.address.departement in depts)
            and (romes is None or seed.rome_code in romes)
            and (towns is None or seed.address.insee_code in towns)
            and (since is None or seed.published_at >= since)
        ]
        start = 0 if cursor is None else bisect.bisect_right(found, decode_cursor(cursor), key=_key)
        page = found[start : start + limit]
        more = start + limit < len(found)
        return JSONResponse(
            {
                "jobs": [body for _, body in page],
                "paging": {
                    "limit": limit,
                    "next_cursor": encode_cursor(page[-1][0]) if more else None,
                },
            }
        )

    @counted("job")
    async def one(request: Request) -> Response:
        if (answer := refused(request)) is not None:
            return answer
        body = by_uid.get(request.path_params["uid"])
        if body is None:
            return JSONResponse({"error": {"status": 404, "message": "no such job"}}, 404)
        return JSONResponse(body)

    return new_app(
        [
            Route(SEARCH_PATH, search, methods=["GET"], name="jobs"),
            Route(SEARCH_PATH + "/{uid}", one, methods=["GET"], name="job"),
        ],
        latency_ms,
    )


def _key(item: tuple[SortKey, dict[str, Any]]) -> SortKey:
    return item[0]
