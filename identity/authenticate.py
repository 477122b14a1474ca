"""The credential of a request -> its principal.

``Authorization: Bearer <credential>``: an API key (``ahk_...``, :mod:`identity.api_keys`) or
a JWT (:mod:`identity.tokens`). No header: anonymous (``None``). Anything else — another
scheme, an empty credential, a credential of a kind this gateway does not accept — is
:class:`~identity.errors.Unauthenticated`; no credential is ever downgraded to anonymous.
"""

from __future__ import annotations

from identity.api_keys import ApiKeyVerifier, is_api_key
from identity.errors import MALFORMED, Unauthenticated
from identity.principal import Principal
from identity.tokens import JwtVerifier

__all__ = ["Authenticator"]

_SCHEME = "bearer"


class Authenticator:
    def __init__(
        self, api_keys: ApiKeyVerifier | None = None, tokens: JwtVerifier | None = None
    ) -> None:
        self.api_keys = api_keys
        self.tokens = tokens

    async def authenticate(self, authorization: str | None) -> Principal | None:
        if authorization is None:
            return None
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != _SCHEME or not credential or " " in credential:
            raise Unauthenticated("scheme", MALFORMED)
        if is_api_key(credential):
            if self.api_keys is None:
                raise Unauthenticated("api_keys_off")
            return await self.api_keys.verify(credential)
        if self.tokens is None:
            raise Unauthenticated("jwt_off")
        return await self.tokens.verify(credential)
