"""Partner failures: one hierarchy, turned into a GraphQL error in one place (gateway.errors).

    SourceError                 partner, code, retryable
      ├── SourceTimeout         SOURCE_TIMEOUT: the partner's deadline passed
      ├── SourceUnavailable     SOURCE_UNAVAILABLE: refused, 5xx, 429, DNS, TLS
      ├── SourceBadResponse     SOURCE_BAD_RESPONSE: not the shape or size we agreed on
      │     └── SourceRejected  the partner refused the question's values (a 4xx, a GraphQL
      │                         request error): the client's problem, ``partner_fault`` False
      ├── CircuitOpen           CIRCUIT_OPEN: too many recent failures, partner not called
      ├── PrincipalRequired     PRINCIPAL_REQUIRED: a personal call with no principal to act
      │                         for; refused before any request leaves, ``partner_fault`` False
      └── PrincipalRefused      PRINCIPAL_REFUSED: the partner refused the hub's signed
                                principal (401/403 to a call carrying it): the hub's credential
                                problem, ``partner_fault`` False
    ConfigError                 a partners file that cannot be used

Catch broad (``SourceError``), recover narrow. ``partner_fault`` says whether the failure is
evidence against the partner: only those count toward its circuit breaker. Messages never
carry the partner's body nor any value from the request: they may be shown to clients and
written to logs.
"""

from __future__ import annotations


class SourceError(Exception):
    code = "SOURCE_ERROR"
    retryable = False
    partner_fault = True

    def __init__(self, partner: str, message: str) -> None:
        super().__init__(f"{partner}: {message}")
        self.partner = partner
        self.message = message


class SourceTimeout(SourceError):
    code = "SOURCE_TIMEOUT"
    retryable = True


class SourceUnavailable(SourceError):
    code = "SOURCE_UNAVAILABLE"
    retryable = True

    def __init__(self, partner: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(partner, message)
        self.retry_after = retry_after


class SourceBadResponse(SourceError):
    code = "SOURCE_BAD_RESPONSE"


class SourceRejected(SourceBadResponse):
    """The partner answered, refusing what it was asked: a 4xx such as 400 or 422, or a
    GraphQL request error (variables its schema refuses, a ``BAD_USER_INPUT`` or ``NOT_FOUND``
    code). The question carried values a client sent, so it says nothing of the partner's
    health: a look-up answers those values as missing; a list reports the partner's part as
    ``SOURCE_BAD_RESPONSE``; neither counts toward the breaker."""

    partner_fault = False


class CircuitOpen(SourceError):
    code = "CIRCUIT_OPEN"


class PrincipalRequired(SourceError):
    """A call about personal data with no principal to act for (an anonymous request, or no
    assertion key to vouch with): no partner holding personal data is called for it."""

    code = "PRINCIPAL_REQUIRED"
    partner_fault = False


class PrincipalRefused(SourceError):
    """The partner answered 401/403 to a call carrying the hub's signed principal: the
    assertion did not verify there (its key not yet known to the partner, a clock too far
    off). The hub's credential problem, not the partner's health: not counted by the breaker,
    and not retried (the same assertion would be refused the same way)."""

    code = "PRINCIPAL_REFUSED"
    partner_fault = False


class ConfigError(Exception):
    """A partners file that cannot be used; ``problems`` lists (location, message, hint)."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {msg}" for where, msg, _ in problems))
