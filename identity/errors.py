"""Why a credential gives no principal.

A client learns only that its credential was refused (``Unauthenticated.reason``, one of two
generic codes); which check failed (``Unauthenticated.check``: "expired", "signature",
"revoked"...) is for the gateway's log line, which never holds the credential itself.
"""

from __future__ import annotations

__all__ = ["INVALID", "MALFORMED", "IdentityUnavailable", "Unauthenticated"]

MALFORMED = "MALFORMED_CREDENTIAL"  # not `Authorization: Bearer <token>`
INVALID = "INVALID_CREDENTIAL"  # a bearer token that gives no principal, whatever the reason


class Unauthenticated(Exception):
    def __init__(self, check: str, reason: str = INVALID) -> None:
        super().__init__(check)
        self.check = check
        self.reason = reason


class IdentityUnavailable(Exception):
    """The credential could not be checked (the gateway database or the JWKS did not answer):
    neither accepted nor refused."""

    def __init__(self, check: str) -> None:
        super().__init__(check)
        self.check = check
