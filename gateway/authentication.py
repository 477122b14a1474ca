"""Authentication at the gateway's edge: the ``Authorization`` header -> the request's principal.

:func:`identity_from_settings` builds what the settings configure: API keys when a pepper is
set (``HUB_API_KEY_PEPPER``), JWTs when a JWKS is (``HUB_JWKS_FILE`` or ``HUB_JWKS_URL``, with
``HUB_JWT_ISSUER``). :func:`check_production_identity` is what ``serve`` checks before it starts.

A refused credential is a 401 with the GraphQL error shape, ``extensions.code`` =
``UNAUTHENTICATED``, a generic ``reason`` and ``WWW-Authenticate: Bearer``; which check failed is
logged (a code, never the credential). Identity headers a client sends (``X-Hub-Principal``,
``X-Role``...) are never read: the principal comes from the credential alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import Response

from gateway.error_bodies import error_response
from gateway.settings import Settings
from identity.api_keys import ApiKeyVerifier, pepper_bytes
from identity.assertions import AssertionSigner
from identity.authenticate import Authenticator
from identity.errors import MALFORMED, IdentityUnavailable, Unauthenticated
from identity.jwks import JwksKeys
from identity.tokens import JwtRules, JwtVerifier
from store.database import create_engine

__all__ = [
    "IDENTITY_UNAVAILABLE",
    "UNAUTHENTICATED",
    "Identity",
    "IdentityConfigError",
    "check_production_identity",
    "identity_from_settings",
    "refusal",
]

UNAUTHENTICATED = "UNAUTHENTICATED"
IDENTITY_UNAVAILABLE = "IDENTITY_UNAVAILABLE"

log = logging.getLogger("alternance_hub.identity")


class IdentityConfigError(ValueError):
    """Identity settings the gateway cannot start with; the message says which to set."""


@dataclass
class Identity:
    """The gateway's identity side: its database engine, how it authenticates, and the key
    that signs its assertions (if configured)."""

    engine: AsyncEngine
    authenticator: Authenticator
    assertions: AssertionSigner | None

    async def aclose(self) -> None:
        await self.engine.dispose()


def check_production_identity(settings: Settings) -> None:
    """What production needs before it starts: a pepper, so that API keys can be checked."""
    if settings.api_key_pepper is None:
        raise IdentityConfigError(
            "HUB_API_KEY_PEPPER is not set: production needs it to check API keys (at least "
            "32 random characters, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`); keep it with the deployment's secrets"
        )


def identity_from_settings(settings: Settings) -> Identity:
    engine = create_engine(settings.database_url, settings.database_schema)
    api_keys = None
    if settings.api_key_pepper is not None:
        try:
            pepper = pepper_bytes(settings.api_key_pepper.get_secret_value())
        except ValueError as error:
            raise IdentityConfigError(str(error)) from None
        api_keys = ApiKeyVerifier(engine, pepper, settings.api_key_cache_ttl_s)
    tokens = None
    if settings.jwks_file is not None or settings.jwks_url is not None:
        if settings.jwks_file is not None and settings.jwks_url is not None:
            raise IdentityConfigError("set one of HUB_JWKS_FILE and HUB_JWKS_URL, not both")
        if not settings.jwt_issuer:
            raise IdentityConfigError("HUB_JWT_ISSUER is required with a JWKS")
        try:
            rules = JwtRules(
                settings.jwt_algorithm_list,
                settings.jwt_audience,
                settings.jwt_issuer,
                settings.jwt_leeway_s,
            )
        except ValueError as error:
            raise IdentityConfigError(str(error)) from None
        keys = JwksKeys(settings.jwks_file, settings.jwks_url, settings.jwks_refresh_interval_s)
        tokens = JwtVerifier(keys, rules)
    assertions = None
    if settings.assertion_key_file is not None:
        try:
            assertions = AssertionSigner.from_pem_file(settings.assertion_key_file)
        except (OSError, ValueError):
            raise IdentityConfigError(
                "HUB_ASSERTION_KEY_FILE must name a readable P-256 private key (PEM)"
            ) from None
    return Identity(engine, Authenticator(api_keys, tokens), assertions)


def refusal(error: Unauthenticated | IdentityUnavailable) -> Response:
    """The answer to a request whose credential gives no principal."""
    if isinstance(error, IdentityUnavailable):
        log.warning("credential not checked", extra={"check": error.check})
        return error_response(
            503,
            "the credential could not be checked now; retry shortly",
            IDENTITY_UNAVAILABLE,
            {"Retry-After": "1"},
        )
    log.info("credential refused", extra={"check": error.check})
    rfc6750 = "invalid_request" if error.reason == MALFORMED else "invalid_token"
    return error_response(
        401,
        "the credential was refused: send `Authorization: Bearer <API key or token>`, "
        "or no credential for public data",
        UNAUTHENTICATED,
        {"WWW-Authenticate": f'Bearer realm="alternance-hub", error="{rfc6750}"'},
        reason=error.reason,
    )
