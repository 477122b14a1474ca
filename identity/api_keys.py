"""API keys: issued once, stored as a keyed hash, checked in constant time, cached briefly.

A key reads ``ahk_<key_id>_<secret>``: the key id (16 hex digits) finds the client's row, the
secret (``secrets.token_urlsafe(32)``, 256 bits) is checked with ``hmac.compare_digest`` against
the row's HMAC-SHA-256 of it, keyed by the pepper (``HUB_API_KEY_PEPPER``). A slow password
hash would cost every request and adds nothing for keys of this entropy; the pepper means a
copy of the database alone cannot check a guessed key.

What :class:`ApiKeyVerifier` reads from the database is cached per key id for ``ttl_s``
(default 5 s), a missing key id too: a revocation reaches every replica within that time, and a
stream of requests with one bad key costs one query per ``ttl_s``. The cache holds rows (with
their hash), never a key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.errors import IdentityUnavailable, Unauthenticated
from identity.principal import InvalidPrincipal, Principal, new_principal
from store.clients import client_by_key_id
from store.models import ApiClient

__all__ = [
    "KEY_PREFIX",
    "MIN_PEPPER_LENGTH",
    "ApiKeyVerifier",
    "IssuedKey",
    "hash_secret",
    "is_api_key",
    "issue_key",
    "pepper_bytes",
]

KEY_PREFIX = "ahk_"
MIN_PEPPER_LENGTH = 32
_CACHED_KEY_IDS = 10_000
_KEY = re.compile(r"ahk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})", re.ASCII)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key_id: str
    secret: str

    @property
    def key(self) -> str:
        """What the client sends; shown once, stored nowhere."""
        return f"{KEY_PREFIX}{self.key_id}_{self.secret}"


def issue_key() -> IssuedKey:
    return IssuedKey(secrets.token_hex(8), secrets.token_urlsafe(32))


def is_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


def pepper_bytes(pepper: str) -> bytes:
    if len(pepper) < MIN_PEPPER_LENGTH:
        raise ValueError(f"HUB_API_KEY_PEPPER must be at least {MIN_PEPPER_LENGTH} characters")
    return pepper.encode()


def hash_secret(secret: str, pepper: bytes) -> str:
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class _Row:
    """What the cache keeps of a client's row."""

    client_id: str
    role: str
    organisation: str
    subject: str
    key_hash: str
    revoked: bool

    @classmethod
    def of(cls, client: ApiClient) -> _Row:
        return cls(
            client.id,
            client.role,
            client.organisation,
            client.subject,
            client.key_hash,
            client.revoked_at is not None,
        )


class ApiKeyVerifier:
    def __init__(
        self,
        engine: AsyncEngine,
        pepper: bytes,
        ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._pepper = pepper
        # ttl 0: every key is looked up (TTLCache(ttl=0) would keep nothing anyway).
        self._rows: TTLCache[str, _Row | None] | None = (
            TTLCache(_CACHED_KEY_IDS, ttl_s, timer=clock) if ttl_s > 0 else None
        )

    async def verify(self, key: str) -> Principal:
        matched = _KEY.fullmatch(key)
        if matched is None:
            raise Unauthenticated("api_key_form")
        key_id, secret = matched.groups()
        row = await self._row(key_id)
        # The secret's hash is compared even when no row was found, so a missing key id and a
        # wrong secret cost the same.
        expected = row.key_hash if row is not None else "0" * 64
        matches = hmac.compare_digest(hash_secret(secret, self._pepper), expected)
        if row is None or not matches:
            raise Unauthenticated("api_key_unknown")
        if row.revoked:
            raise Unauthenticated("api_key_revoked")
        try:
            return new_principal(row.role, row.organisation, row.subject, client_id=row.client_id)
        except InvalidPrincipal:
            raise Unauthenticated("api_key_principal") from None

    async def _row(self, key_id: str) -> _Row | None:
        if self._rows is not None and key_id in self._rows:
            return self._rows[key_id]
        try:
            client = await client_by_key_id(self._engine, key_id)
        except (SQLAlchemyError, OSError):
            raise IdentityUnavailable("api_key_store") from None
        row = _Row.of(client) if client is not None else None
        if self._rows is not None:
            self._rows[key_id] = row
        return row
