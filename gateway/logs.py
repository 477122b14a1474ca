"""Structured logs: one JSON object per line for every logger of the process, no request value.

:func:`configure` (or :func:`log_config` handed to uvicorn as its ``log_config``) puts one
handler on the root logger; the hub's loggers and Strawberry's, graphql-core's, uvicorn's
(``uvicorn.error``, ``uvicorn.access``) and asyncio's all propagate to it, so every line on
stderr is JSON. What a line may hold:

- ``t``: the time in ISO 8601 with its offset (UTC: ``2026-11-28T08:41:01.123+00:00``);
- the hub's own records: their message and the ``extra`` fields the call chose (partner ids,
  error codes, counts; never a request value, a partner body or a secret);
- another library's record: the first line of its message, interpolated only when every
  argument is a number; else the format string as written. asyncio's messages carry a task's
  ``repr`` (its exception's value), Strawberry's a client's headers: none may reach a line;
- uvicorn's access line: method, path without its query string, status — no client address;
- an exception: for each exception of the chain its type and frames (file, line, function,
  source line), never its message nor any frame's locals. A ``KeyError`` or ``ValueError``
  message quotes the value that failed, which may be a partner's record or a client's input.

Inside a request (:func:`request_scope`, entered by the GraphQL view) every line also carries
``request`` (an id of this request alone) and, once the body is parsed, ``operation`` and
``document`` (the operation name and a hash of the document, never its text); and a request
writes at most ``limit`` lines: past them lines are counted, not written, and one
``log lines dropped`` line says how many when the request ends.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import logging.config
import secrets
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = [
    "JsonFormatter",
    "RequestBudget",
    "RequestLog",
    "configure",
    "current_request",
    "log_config",
    "request_scope",
    "safe_exception",
    "uvicorn_logging",
]

log = logging.getLogger("alternance_hub")

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
# Packages whose log calls this project writes (and reviews): their messages are interpolated.
_OWN = (
    "alternance_hub",
    "gateway",
    "resolvers",
    "sources",
    "adapters",
    "identity",
    "store",
    "reference",
    "demo",
)
# Loggers of the libraries under the gateway, all routed to the root handler.
_LIBRARIES = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "uvicorn.asgi",
    "strawberry",
    "graphql",
    "asyncio",
    "httpx",
    "httpcore",
    "aiocache",
    "alembic",
)
_MAX_FRAMES = 40
_MAX_CHAIN = 5


@dataclass(slots=True)
class RequestLog:
    """What the log lines of one request share, and how many of them it may write."""

    limit: int
    id: str
    operation: str | None = None
    document: str | None = None
    written: int = 0
    dropped: int = 0


_current: contextvars.ContextVar[RequestLog | None] = contextvars.ContextVar(
    "hub_request_log", default=None
)


def current_request() -> RequestLog | None:
    return _current.get()


@contextlib.contextmanager
def request_scope(limit: int) -> Iterator[RequestLog]:
    """The request's log budget and identifiers; tasks started inside it share them."""
    scope = RequestLog(limit=limit, id=secrets.token_hex(8))
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
        if scope.dropped:
            log.warning(
                "log lines dropped",
                extra={"request": scope.id, "dropped": scope.dropped, "limit": scope.limit},
            )


class RequestBudget(logging.Filter):
    """Lets a request write at most its ``limit`` lines (a handler filter: it sees every
    record that propagates to the handler, whichever logger it came from)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scope = _current.get()
        if scope is None:
            return True
        if scope.written < scope.limit:
            scope.written += 1
            return True
        scope.dropped += 1
        return False


def safe_exception(exc: BaseException) -> list[dict[str, Any]]:
    """The exception chain as types and frames: no message, no locals, no argument repr."""
    chain: list[dict[str, Any]] = []
    current: traceback.TracebackException | None = traceback.TracebackException.from_exception(
        exc, capture_locals=False, lookup_lines=True
    )
    while current is not None and len(chain) < _MAX_CHAIN:
        frames = [
            f"{frame.filename}:{frame.lineno} in {frame.name}: {(frame.line or '').strip()}"
            for frame in current.stack[-_MAX_FRAMES:]
        ]
        entry: dict[str, Any] = {"type": _type_name(current), "frames": frames}
        grouped = getattr(current, "exceptions", None)
        if grouped:
            entry["group"] = [_type_name(member) for member in grouped[:_MAX_CHAIN]]
        chain.append(entry)
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    chain.reverse()  # the first cause first, as Python prints it
    return chain


def _type_name(exception: traceback.TracebackException) -> str:
    # Python 3.13 names the type (exc_type_qualname); 3.11 and 3.12 keep the type itself.
    name = getattr(exception, "exc_type_qualname", None)
    module = getattr(exception, "exc_type_module", None)
    if name is None:
        exc_type = exception.exc_type
        name, module = getattr(exc_type, "__qualname__", "?"), getattr(exc_type, "__module__", None)
    return str(name) if module in (None, "builtins") else f"{module}.{name}"


def _own(name: str) -> bool:
    return name.split(".", 1)[0] in _OWN


def _message(record: logging.LogRecord) -> str:
    if _own(record.name):
        return record.getMessage()
    if not isinstance(record.msg, str):
        # An object logged as the message (Strawberry logs a GraphQLError): its str() quotes
        # the document and the values in it.
        return type(record.msg).__name__
    text = record.msg.split("\n", 1)[0]
    args = record.args
    if not args:
        return text
    values = args if isinstance(args, tuple) else (args,)
    if all(isinstance(v, int | float) for v in values):
        with contextlib.suppress(TypeError, ValueError):
            return text % values
    return text


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn's access record: (client, method, path with query, HTTP version, status)."""
    args = record.args
    if isinstance(args, tuple) and len(args) == 5:
        _client, method, path, _version, status = args
        return {"msg": "request", "method": method, "path": str(path).split("?", 1)[0],
                "status": status}  # fmt: skip
    return {"msg": "request"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "t": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": "",
        }
        if record.name == "uvicorn.access":
            payload.update(_access_fields(record))
        else:
            payload["msg"] = _message(record)
        if _own(record.name):
            payload.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        scope = _current.get()
        if scope is not None:
            payload.setdefault("request", scope.id)
            if scope.operation is not None:
                payload.setdefault("operation", scope.operation)
            if scope.document is not None:
                payload.setdefault("document", scope.document)
        if record.exc_info and record.exc_info[1] is not None:
            payload["exc"] = safe_exception(record.exc_info[1])
        return orjson.dumps(payload, default=str).decode()


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` document: one JSON handler on the root logger, every
    library logger propagating to it. uvicorn takes it as ``log_config`` (then sets its own
    loggers' levels from its ``log_level``)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_budget": {"()": RequestBudget}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["request_budget"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            **{
                name: {"handlers": [], "propagate": True}
                for name in ("alternance_hub", *_LIBRARIES)
            },
            # One INFO line per partner call, whose URL (its query string) is not loggable.
            "httpx": {"handlers": [], "propagate": True, "level": "WARNING"},
            "httpcore": {"handlers": [], "propagate": True, "level": "WARNING"},
        },
    }


def configure(level: str = "INFO") -> None:
    logging.config.dictConfig(log_config(level))


def uvicorn_logging(level: str = "INFO") -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.run`` / ``uvicorn.Config``: uvicorn applies ``log_config``
    itself (after any :func:`configure`), so its loggers go to the JSON handler too; its own
    INFO lines say little without their arguments, and the hub writes its own access line."""
    return {"log_config": log_config(level), "log_level": "warning", "access_log": False}
