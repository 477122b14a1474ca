"""What a client sees of a GraphQL error, and what the logs keep of it.

Every error a client sees has ``extensions.code``. An error the hub raised on purpose keeps its
message and code (``BAD_USER_INPUT``, ``SOURCE_TIMEOUT``...). A request that fails before
execution gets the code of the stage that refused it: ``GRAPHQL_PARSE_FAILED``,
``GRAPHQL_VALIDATION_FAILED`` or ``BAD_USER_INPUT`` (a variable's value), and in production no
field suggestion ("Did you mean ..."), which would list the schema to anyone guessing.
Anything else is a fault of the hub — a Python exception in a resolver, a non-null field left
null, a scalar that raised ``TypeError`` — and its message stays in the process: the client
reads ``"internal error"`` with ``extensions.errorId``, and one log line with the same
``error_id`` carries the exception's types and frames (no message, no locals:
:func:`gateway.logs.safe_exception`). Errors of one fault (same exception type, same place) in one
request share one id and one line, with their ``count``.

Client errors leave one line per request: the codes and how many of each, under the request's
``operation`` name and ``document`` hash (:mod:`gateway.logs`) — never a message, which may quote
a value of the document, the variables or a partner's record.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections import Counter
from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError

from gateway.error_bodies import INTERNAL_ERROR

__all__ = [
    "BAD_USER_INPUT",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "document_hash",
    "format_errors",
    "is_request_error",
    "operation_name",
]

log = logging.getLogger("alternance_hub.errors")

GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"

_SUGGESTION = " Did you mean "
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}\Z")
# The name of the document's first operation; possessive quantifiers: no backtracking.
_FIRST_OPERATION = re.compile(
    r"(?:[\s,\ufeff]++|#[^\n\r]*+)*+(?:query|mutation|subscription)\s++([_A-Za-z][_0-9A-Za-z]{0,99})\b"
)


def document_hash(query: str) -> str:
    """A short hash naming a document in the logs without its text."""
    return hashlib.sha256(query.encode("utf-8", "replace")).hexdigest()[:16]


def operation_name(query: str | None, given: object) -> str | None:
    """The operation's name: the one the request gives, else the document's first one, and
    only when it is a GraphQL name (anything else would be a value the client wrote)."""
    if isinstance(given, str):
        return given if _NAME.match(given) else None
    if query is None:
        return None
    match = _FIRST_OPERATION.match(query)
    return match.group(1) if match else None


def is_request_error(errors: Sequence[GraphQLError] | None, data: object) -> bool:
    """The request was refused before execution (no data, no error at a path)."""
    return bool(errors) and data is None and all(error.path is None for error in errors or ())


def _request_code(error: GraphQLError) -> str:
    if error.message.startswith("Syntax Error"):
        return GRAPHQL_PARSE_FAILED
    if error.message.startswith("Variable '$"):
        return BAD_USER_INPUT
    return GRAPHQL_VALIDATION_FAILED


def _is_fault(error: GraphQLError) -> bool:
    if error.path is not None:
        # Errors raised on purpose during execution carry a code; anything else is ours.
        return True
    original = error.original_error
    # Before execution the messages are graphql-core's own; a scalar says a value is wrong by
    # raising ValueError (or GraphQLError). Any other exception is a bug in the scalar.
    return original is not None and not isinstance(original, GraphQLError | ValueError)


def _fault_key(error: GraphQLError) -> tuple[str, str]:
    original = error.original_error or error
    tb = original.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else ""
    return type(original).__qualname__, where


def format_errors(
    errors: Sequence[GraphQLError], *, suggestions: bool = False
) -> list[dict[str, Any]]:
    """The errors as the client sees them; logs the request's codes and each fault."""
    codes: Counter[str] = Counter()
    faults: dict[tuple[str, str], tuple[str, GraphQLError]] = {}
    fault_counts: Counter[tuple[str, str]] = Counter()
    formatted: list[dict[str, Any]] = []
    for error in errors:
        code = (error.extensions or {}).get("code")
        item: dict[str, Any]
        if code is None and _is_fault(error):
            key = _fault_key(error)
            error_id = faults.setdefault(key, (secrets.token_hex(8), error))[0]
            fault_counts[key] += 1
            code = INTERNAL_ERROR
            item = {"message": "internal error"}
            if error.locations:
                item["locations"] = [location.formatted for location in error.locations]
            if error.path is not None:
                item["path"] = error.path
            item["extensions"] = {"code": code, "errorId": error_id}
        else:
            item = dict(error.formatted)
            if code is None:
                code = _request_code(error)
                item["extensions"] = {**(item.get("extensions") or {}), "code": code}
            if not suggestions and _SUGGESTION in item["message"]:
                item["message"] = item["message"].split(_SUGGESTION, 1)[0]
        codes[str(code)] += 1
        formatted.append(item)
    for key, (error_id, error) in faults.items():
        original = error.original_error or error
        log.error(
            "internal error",
            exc_info=(type(original), original, original.__traceback__),
            extra={"error_id": error_id, "count": fault_counts[key]},
        )
    log.info("graphql errors", extra={"codes": dict(codes)})
    return formatted
