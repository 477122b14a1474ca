"""Request limits applied before any parsing: method (405), content type (415), body size (413).

Only ``application/json`` POSTs reach GraphQL: form posts, ``text/plain`` and multipart are the
shapes a browser sends cross-site without a preflight, so refusing them closes CSRF. The media
type is read as RFC 9110 says (section 8.3.1): type and subtype case-insensitive, then
parameters, whose names are case-insensitive and whose values may be quoted; JSON is UTF-8 (RFC
8259), so the one parameter taken is ``charset=utf-8``. ``Application/JSON; charset="UTF-8"``
passes; ``application/json; charset=latin-1`` does not.

Every refusal is a GraphQL-shaped JSON body with a code (:mod:`gateway.error_bodies`).
"""

from __future__ import annotations

from email.message import Message as EmailMessage

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.error_bodies import (
    METHOD_NOT_ALLOWED,
    REQUEST_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    send_error,
)

__all__ = ["BodyTooLarge", "RequestLimits", "is_json_media_type"]

# GET serves GraphiQL's page when it is on (the view refuses every other GET).
_METHODS = frozenset({"GET", "HEAD", "POST"})


class BodyTooLarge(Exception):
    """Raised by the limited ``receive`` past the bound; answered 413 by :class:`RequestLimits`
    (the view lets it through)."""


def is_json_media_type(header: bytes) -> bool:
    """True for ``application/json`` with no parameter other than ``charset=utf-8``."""
    if header == b"application/json":  # what almost every client sends
        return True
    try:
        text = header.decode("ascii")
    except UnicodeDecodeError:
        return False
    # The standard library's MIME header parser: case-insensitive type and parameter names,
    # quoted values unquoted.
    parsed = EmailMessage()
    parsed["content-type"] = text
    if parsed.get_content_type() != "application/json":
        return False
    parameters = {name: value for name, value in (parsed.get_params() or [])[1:] if name}
    return str(parameters.pop("charset", "utf-8")).lower() == "utf-8" and not parameters


class RequestLimits:
    def __init__(self, app: ASGIApp, max_body_bytes: int, json_paths: tuple[str, ...]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.json_paths = json_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if scope["path"] in self.json_paths:
            method = scope["method"]
            if method not in _METHODS:
                await send_error(
                    send, 405, "POST a JSON GraphQL request", METHOD_NOT_ALLOWED, {"Allow": "POST"}
                )
                return
            if method == "POST" and not is_json_media_type(headers.get(b"content-type", b"")):
                await send_error(
                    send,
                    415,
                    "POST /graphql takes application/json (UTF-8) only",
                    UNSUPPORTED_MEDIA_TYPE,
                )
                return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        await send_error(
            send,
            413,
            f"request body over {self.max_body_bytes} bytes",
            REQUEST_TOO_LARGE,
            limit=self.max_body_bytes,
        )
