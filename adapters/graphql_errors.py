"""A GraphQL partner's in-band refusal of whoever asks, classified as HTTP 401/403 is.

A REST partner refuses a caller with 401/403 (:func:`adapters.http.caller_refused`);
a GraphQL partner often answers 200 with ``errors`` coded ``FORBIDDEN`` or ``UNAUTHENTICATED``
(Apollo's codes) instead. Such an answer is not the partner failing: counted by the breaker, a
principal the partner does not serve (say, a centre's staff at another centre's owner) would
open the breaker for everyone after a few requests. So, as for 401/403: the hub's signed
principal refused (:class:`~adapters.errors.PrincipalRefused`, not counted, not retried) when
the call carried one, else the hub's own credential
(:class:`~adapters.errors.SourceUnavailable`).
"""

from __future__ import annotations

from typing import Any

from adapters.errors import SourceError
from adapters.graphql_config import error_code
from adapters.http import caller_refused

CREDENTIAL_REFUSED_CODES = frozenset({"FORBIDDEN", "UNAUTHENTICATED", "UNAUTHORIZED"})
"""``extensions.code`` values by which a GraphQL partner refuses the caller, in band."""


def credential_refusal(partner: str, errors: Any) -> SourceError | None:
    """The error an answer means when its errors *all* refuse the caller, else None."""
    if not isinstance(errors, list) or not errors:
        return None
    if not all(error_code(error) in CREDENTIAL_REFUSED_CODES for error in errors):
        return None
    return caller_refused(partner, "GraphQL answer")


__all__ = ["CREDENTIAL_REFUSED_CODES", "credential_refusal"]
