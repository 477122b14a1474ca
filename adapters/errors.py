"""Partner failures: one hierarchy, turned into a GraphQL error in one place (gateway.errors).

    SourceError                 partner, code, retryable
      ├── SourceTimeout         SOURCE_TIMEOUT: the partner's deadline passed
      ├── SourceUnavailable     SOURCE_UNAVAILABLE: refused, 5xx, 429, DNS, TLS
      ├── SourceBadResponse     SOURCE_BAD_RESPONSE: not the shape or size we agreed on
      └── CircuitOpen           CIRCUIT_OPEN: too many recent failures, partner not called
    ConfigError                 a partners file that cannot be used

Catch broad (``SourceError``), recover narrow. Messages never carry the partner's body nor any
value from the request: they may be shown to clients and written to logs.
"""

from __future__ import annotations


class SourceError(Exception):
    code = "SOURCE_ERROR"
    retryable = False

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


class CircuitOpen(SourceError):
    code = "CIRCUIT_OPEN"


class ConfigError(Exception):
    """A partners file that cannot be used; ``problems`` lists (location, message, hint)."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {msg}" for where, msg, _ in problems))
