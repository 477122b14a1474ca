"""Gateway settings, read from ``HUB_*`` environment variables (pydantic-settings).

One switch separates production from development: ``development`` (``HUB_DEVELOPMENT``), false
by default. ``Settings()`` — equally ``Settings(development=False)`` — is production, closed:

- no GraphiQL page and no GET on ``/graphql`` at all (405: POST JSON only);
- no introspection (``__schema``, ``__type``; ``__typename`` stays);
- no field suggestions ("Did you mean ...") in error messages;
- no ``_service { sdl }``, unless ``federation_sdl`` (``HUB_FEDERATION_SDL=true``) lets a
  supergraph composer read the SDL.

``development=True`` (``alternance-hub demo``) opens all four. Everything else — limits,
content types, error shapes, logs — is the same in both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from store.database import DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore", frozen=True)

    partners_file: Path | None = Field(None, description="partners TOML (HUB_PARTNERS_FILE)")
    cache_enabled: bool = Field(True, description="off: every query goes to the partners")
    coalesce_partner_calls: bool = Field(
        True,
        description="identical PUBLIC/REFERENCE partner calls in flight at once are made once",
    )
    cache_url: str = Field("memory://", description="memory:// or redis://host:port/db")
    cache_namespace: str = Field(
        "hub", pattern=r"^[a-z][a-z0-9_]*$", description="key prefix: one per deployment"
    )
    cache_local_max_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="bound of the in-process tier in encoded bytes; 0: off"
    )
    response_cache: bool = Field(
        True, description="whole answers of PUBLIC/REFERENCE documents (off with cache_enabled)"
    )
    cache_shared_timeout_s: Annotated[float, Field(gt=0, le=5)] = 0.05
    development: bool = Field(
        False,
        description="GraphiQL, GET /graphql (its page), introspection, suggestions, _service on",
    )
    federation_sdl: bool = Field(
        False, description="`_service { sdl }` answered in production too (supergraph composers)"
    )
    request_deadline_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    deadline_margin_s: Annotated[float, Field(ge=0, le=5)] = Field(
        0.25,
        description="kept from the request's remaining time when a partner call is given its "
        "deadline: the time to merge and answer after the last partner",
    )
    loop_lag_threshold_s: Annotated[float, Field(gt=0, le=10)] = Field(
        0.25,
        description="a partner timeout during which this process's event loop stalled longer "
        "than this is the gateway's overload, not counted by the partner's breaker",
    )
    max_in_flight: Annotated[int, Field(ge=1, le=10_000)] = Field(
        16, description="GraphQL requests executing at once in one worker process"
    )
    admission_queue: Annotated[int, Field(ge=0, le=10_000)] = Field(
        16, description="GraphQL requests waiting for a slot; past it, 503 OVERLOADED at once"
    )
    admission_max_wait_s: Annotated[float, Field(ge=0, le=5)] = Field(
        1.0,
        description="longest wait in the admission queue before 503 OVERLOADED (what a "
        "request queued behind the in-flight ones waits at concurrency 32 on a cold query)",
    )
    admission_retry_after_s: Annotated[int, Field(ge=1, le=3600)] = Field(
        1, description="Retry-After of a 503 OVERLOADED answer, in seconds"
    )
    admission_refused_pause_s: Annotated[float, Field(ge=0, le=5)] = Field(
        0.25,
        description="after a 503 OVERLOADED, the connection is not read again for this long "
        "(a client retrying at once, ignoring Retry-After, waits in the socket buffer instead "
        "of costing a refusal a millisecond); 0: never pause",
    )
    max_page_size: Annotated[int, Field(ge=1, le=1000)] = 100
    max_body_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024
    max_query_cost: int = Field(
        2_500,
        ge=1,
        description="static cost bound of one document (@cost/@listSize); past it "
        "QUERY_TOO_COMPLEX at validation, no partner called",
    )
    max_partner_calls_per_request: int = Field(
        50, ge=1, description="partner calls one request may make; past it PARTNER_CALL_BUDGET"
    )
    max_entity_representations: int = Field(
        100, ge=1, description="representations one _entities field may carry (BAD_USER_INPUT)"
    )
    max_response_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024,
        description="serialised answer bound; past it the answer is a RESPONSE_TOO_LARGE error",
    )
    log_level: str = "INFO"
    metrics_port: Annotated[int | None, Field(ge=0, le=65535)] = Field(
        None,
        description="serve /metrics on this port only (a second server, not the public port); "
        "each worker of `serve --workers N` takes the first free port from it; 0: any free port",
    )
    metrics_host: str = Field(
        "127.0.0.1", description="address of the metrics port (0.0.0.0 in a container)"
    )
    log_lines_per_request: int = Field(
        20, ge=1, le=10_000, description="log lines one request may write; then one summary line"
    )
    # -- identity (README "Identity and credentials") ---------------------------------------
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="the gateway's own database (API clients): a SQLite file by default, "
        "postgresql+asyncpg://user@host/db for PostgreSQL",
    )
    database_schema: str | None = Field(
        None, pattern=r"^[a-z_][a-z0-9_]*$", description="PostgreSQL schema of its tables"
    )
    api_key_pepper: SecretStr | None = Field(
        None,
        description="key of the HMAC-SHA-256 of API keys (32 characters at least); production "
        "refuses to start without it, the demo generates one",
    )
    api_key_cache_ttl_s: Annotated[float, Field(ge=0, le=300)] = Field(
        5.0,
        description="how long a replica keeps what it read of an API client (a revocation "
        "takes effect within it); 0: read at every request",
    )
    # -- the observatory (README "The observatory") -------------------------------------------
    observatory_key_secret: SecretStr | None = Field(
        None,
        description="key of the HMAC giving each record the hub counts in memory its ONS record "
        "key (cell-key perturbation); without it indicators counting people are refused, "
        "the demo uses its own",
    )
    observatory_threshold: Annotated[int, Field(ge=2, le=1000)] = Field(
        11, description="the smallest count of young people published (1..threshold-1 is not)"
    )
    observatory_rate_min_denominator: Annotated[int, Field(ge=1, le=10_000)] = Field(
        20, description="the smallest denominator of a published rate or median"
    )
    observatory_warm_up: bool = Field(
        False,
        description="at start-up, publish the whole grid of the default period (the twelve "
        "months before this one) into the AGGREGATE cache, as the hub's own OBSERVATORY "
        "principal, so that the first reader is served from it; the demo turns it on",
    )
    # -- audit trail and idempotency (README "The gateway database") --------------------------
    audit_key: SecretStr | None = Field(
        None,
        description="key of the HMAC-SHA-256 pseudonymising the audit trail's record references "
        "and subjects (32 characters at least); production refuses to start without it, the "
        "demo generates one",
    )
    audit_retention_days: Annotated[int, Field(ge=1, le=36_500)] = Field(
        365, description="how long audit events are kept: `audit purge` removes older ones"
    )
    audit_database_url: str | None = Field(
        None,
        description="a database of its own for the audit trail; none: the gateway database",
    )
    audit_database_schema: str | None = Field(
        None,
        pattern=r"^[a-z_][a-z0-9_]*$",
        description="PostgreSQL schema of the audit database's tables (with audit_database_url)",
    )
    idempotency_ttl_s: Annotated[float, Field(ge=60, le=30 * 86_400)] = Field(
        86_400.0, description="how long an idempotency key is remembered"
    )
    idempotency_lease_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        30.0,
        description="how long a mutation in progress holds its key; past it a retry takes it "
        "over as OUTCOME_UNKNOWN (the holder died or hung)",
    )
    jwks_file: Path | None = Field(None, description="the identity provider's JWKS, a file")
    jwks_url: str | None = Field(None, description="the identity provider's JWKS, a URL")
    jwks_refresh_interval_s: Annotated[float, Field(ge=1, le=3600)] = Field(
        30.0, description="shortest time between two reads of the JWKS for an unknown `kid`"
    )
    jwt_algorithms: str = Field(
        "RS256,ES256", description="comma-separated algorithms a JWT may be signed with"
    )
    jwt_audience: str = Field("alternance-hub", description="the `aud` a JWT must carry")
    jwt_issuer: str | None = Field(
        None, description="the `iss` a JWT must carry (required with a JWKS)"
    )
    jwt_leeway_s: Annotated[float, Field(ge=0, le=300)] = Field(
        30.0, description="clock skew allowed on exp, nbf and iat"
    )
    assertion_key_file: Path | None = Field(
        None,
        description="P-256 private key (PEM) signing the X-Hub-Principal assertion of partner "
        "calls; its public JWKS is served at /.well-known/hub-assertion-jwks.json",
    )

    @property
    def jwt_algorithm_list(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.jwt_algorithms.split(",") if a.strip())

    @property
    def audit_database(self) -> tuple[str, str | None]:
        """URL and schema of the audit trail's database: its own, or the gateway database."""
        if self.audit_database_url is None:
            return self.database_url, self.database_schema
        return self.audit_database_url, self.audit_database_schema

    @property
    def service_sdl(self) -> bool:
        """Whether ``_service { sdl }`` is answered."""
        return self.development or self.federation_sdl
