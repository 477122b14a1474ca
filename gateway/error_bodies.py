"""Error bodies of the HTTP edge, in the shape GraphQL clients read: every refusal of a request
(400, 405, 413, 415, 429, 500, 503) is JSON ``{"errors": [{"message", "extensions": {"code"}}]}``,
so a client handles one shape whatever refused it."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response
from starlette.types import Send

__all__ = [
    "BAD_REQUEST",
    "INTERNAL_ERROR",
    "METHOD_NOT_ALLOWED",
    "REQUEST_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "error_body",
    "error_response",
    "send_error",
]

BAD_REQUEST = "BAD_REQUEST"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
INTERNAL_ERROR = "INTERNAL_ERROR"

_CONTENT_TYPE = "application/json"


def error_body(message: str, code: str, **extensions: object) -> bytes:
    return orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    )


def error_response(
    status: int,
    message: str,
    code: str,
    headers: Mapping[str, str] | None = None,
    **extensions: object,
) -> Response:
    return Response(
        error_body(message, code, **extensions),
        status_code=status,
        headers=dict(headers or {}),
        media_type=_CONTENT_TYPE,
    )


async def send_error(
    send: Send,
    status: int,
    message: str,
    code: str,
    headers: Mapping[str, str] | None = None,
    **extensions: object,
) -> None:
    """The same error answered from a pure ASGI middleware."""
    body = error_body(message, code, **extensions)
    raw = [
        (b"content-type", _CONTENT_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
