"""Partner failures: one hierarchy, turned into a GraphQL error in one place (gateway.errors).

    SourceError                 partner, code, retryable
      ├── SourceTimeout         SOURCE_TIMEOUT: the partner's deadline passed
      ├── SourceUnavailable     SOURCE_UNAVAILABLE: refused, 5xx, 429, DNS, TLS
      ├── SourceBadResponse     SOURCE_BAD_RESPONSE: not the shape or size we agreed on
      │     └── SourceRejected  the partner refused the question's values (a 4xx, a GraphQL
      │                         request error): the client's problem, ``partner_fault`` False
      │           └── WriteRejected  a write the partner refused (a constraint, a 4xx, a value
      │                         it has no code for, a target that does not exist): nothing done
      ├── OutcomeUnknown        OUTCOME_UNKNOWN: a write was sent and no answer came (a timeout,
      │                         a dropped connection): it may have been applied; never resent
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


class WriteRejected(SourceRejected):
    """A write the partner refused, or that was refused before it was sent (a value the
    partner has no code for): nothing was applied. ``not_found`` says the target of a
    transition does not exist there (a NOT_FOUND upstream rather than a BAD_USER_INPUT)."""

    code = "WRITE_REJECTED"

    def __init__(self, partner: str, message: str, *, not_found: bool = False) -> None:
        super().__init__(partner, message)
        self.not_found = not_found


class OutcomeUnknown(SourceError):
    """A write was sent and its answer never came (a timeout or a dropped connection after
    the request left, a 5xx from the partner or a proxy in between): the partner may have
    applied it. It is never sent again blindly; the caller reconciles by asking the owner for
    what it holds under the client reference (``find_by_reference``)."""

    code = "OUTCOME_UNKNOWN"


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
