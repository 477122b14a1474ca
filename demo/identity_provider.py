"""The demo's identity provider: its own signing key and JWKS, and one real JWT per persona.

At each start the demo makes a new P-256 key (ES256), writes its public JWKS in the demo's
temporary folder, configures the gateway with it (:meth:`DemoIdentityProvider.settings`:
issuer, audience, JWKS file, a generated API-key pepper and audit key, a generated assertion
key, a SQLite gateway database in the same folder) and mints a token per persona
(:mod:`demo.personas`), valid 12 hours. Nothing outlives the demo: its folder is removed on exit.
"""

from __future__ import annotations

import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from demo.personas import Persona, personas
from identity.assertions import write_new_key
from identity.tokens import CLAIM_ORGANISATION, CLAIM_ROLE

__all__ = ["DEMO_AUDIENCE", "DEMO_ISSUER", "TOKEN_LIFETIME_S", "DemoIdentityProvider"]

DEMO_ISSUER = "https://idp.demo.alternance-hub.local"
DEMO_AUDIENCE = "alternance-hub"
TOKEN_LIFETIME_S = 12 * 3600
_ALGORITHM = "ES256"


class DemoIdentityProvider:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.kid = "demo-" + secrets.token_hex(4)
        self.jwks_file = folder / "idp-jwks.json"
        self.assertion_key_file = folder / "hub-assertion-key.pem"
        public = ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwks = {"keys": [{**public, "kid": self.kid, "alg": _ALGORITHM, "use": "sig"}]}
        self.jwks_file.write_bytes(orjson.dumps(jwks))
        write_new_key(self.assertion_key_file)
        self._pepper = secrets.token_urlsafe(32)
        self._audit_key = secrets.token_urlsafe(32)

    def settings(self) -> dict[str, Any]:
        """The gateway settings that make it trust this provider (``Settings(**...)``)."""
        return {
            "jwks_file": self.jwks_file,
            "jwt_issuer": DEMO_ISSUER,
            "jwt_audience": DEMO_AUDIENCE,
            "api_key_pepper": self._pepper,
            "audit_key": self._audit_key,
            "assertion_key_file": self.assertion_key_file,
            "database_url": f"sqlite+aiosqlite:///{self.folder / 'hub.sqlite3'}",
        }

    def mint(self, persona: Persona, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": DEMO_ISSUER,
            "aud": DEMO_AUDIENCE,
            "sub": persona.subject,
            CLAIM_ROLE: str(persona.role),
            CLAIM_ORGANISATION: persona.organisation,
            "iat": issued,
            "nbf": issued,
            "exp": issued + TOKEN_LIFETIME_S,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM, headers={"kid": self.kid})

    def credentials(self, now: float | None = None) -> dict[str, dict[str, str]]:
        """``{"<ROLE>": {"token", "organisation", "subject"}}``, one per persona."""
        return {
            p.name: {
                "token": self.mint(p, now),
                "organisation": p.organisation,
                "subject": p.subject,
            }
            for p in personas()
        }
