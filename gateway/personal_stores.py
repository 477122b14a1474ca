"""The audit trail and the idempotency records, built from the settings.

:func:`check_production_stores` is what ``serve`` checks before it starts (a missing
``HUB_AUDIT_KEY`` is a clear error, like a missing API-key pepper).
:func:`personal_stores_from_settings` gives both stores on the gateway database's engine; the
audit trail gets an engine of its own when ``HUB_AUDIT_DATABASE_URL`` names another database.

Idempotency keys are hashed with a key derived from ``HUB_API_KEY_PEPPER``
(HMAC(pepper, "idempotency")), not with a secret of their own: production has the pepper
already, and the derived key is never the one API keys are hashed with.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from identity.api_keys import pepper_bytes
from store.audit import AuditLog, audit_key_bytes
from store.database import create_engine
from store.idempotency import IdempotencyStore, idempotency_subkey

__all__ = [
    "PersonalStores",
    "StoreConfigError",
    "check_production_stores",
    "personal_stores_from_settings",
]


class StoreConfigError(ValueError):
    """Audit or idempotency settings the gateway cannot start with; the message says which."""


@dataclass
class PersonalStores:
    """What personal reads and writes need: the audit trail (every read or write leaves an
    event) and the idempotency records (every mutation holds its key)."""

    audit: AuditLog
    idempotency: IdempotencyStore
    own_audit_engine: AsyncEngine | None = None  # disposed here; the gateway engine is not

    async def aclose(self) -> None:
        if self.own_audit_engine is not None:
            await self.own_audit_engine.dispose()


def check_production_stores(settings: Settings) -> None:
    if settings.audit_key is None:
        raise StoreConfigError(
            "HUB_AUDIT_KEY is not set: production needs it to pseudonymise the audit trail (at "
            "least 32 random characters, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`); keep it with the deployment's secrets and "
            "never change it: the trail's references are made with it"
        )


def personal_stores_from_settings(settings: Settings, engine: AsyncEngine) -> PersonalStores:
    """Both stores; ``engine`` is the gateway database's (:class:`gateway.authentication.
    Identity`'s)."""
    if settings.audit_key is None:
        raise StoreConfigError("HUB_AUDIT_KEY is not set: personal data needs an audit trail")
    if settings.api_key_pepper is None:
        raise StoreConfigError(
            "HUB_API_KEY_PEPPER is not set: the idempotency keys' hash is derived from it"
        )
    try:
        audit_key = audit_key_bytes(settings.audit_key.get_secret_value())
        pepper = pepper_bytes(settings.api_key_pepper.get_secret_value())
    except ValueError as error:
        raise StoreConfigError(str(error)) from None
    own_audit_engine = None
    audit_engine = engine
    if settings.audit_database_url is not None:
        own_audit_engine = audit_engine = create_engine(*settings.audit_database)
    return PersonalStores(
        AuditLog(audit_engine, audit_key),
        IdempotencyStore(
            engine,
            idempotency_subkey(pepper),
            ttl_s=settings.idempotency_ttl_s,
            lease_s=settings.idempotency_lease_s,
        ),
        own_audit_engine,
    )
