"""Global ids: opaque, and routing. ``base64url("Offer:francetravail:185XKLM")``.

The id encodes the type, the owning partner and the partner's own id, so ``node(id:)`` goes
straight to the owner with no central index. Organisations are the exception: their id names a
national key (SIRET, else UAI), looked up at every partner that knows it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from resolvers.errors import BadUserInput

TYPE_TO_ENTITY = {
    "Offer": "offer",
    "TrainingProgram": "training_program",
    "Organisation": "organisation",
    "Candidate": "candidate",
    "Application": "application",
    "Contract": "contract",
    "FollowUpEvent": "follow_up",
}
ENTITY_TO_TYPE = {entity: name for name, entity in TYPE_TO_ENTITY.items()}
ORGANISATION_ID_KEYS = ("siret", "uai")
"""An organisation's id names its key instead of a partner (``Organisation:siret:<SIRET>``):
one establishment has one id, whichever partner or key found it."""
_MAX_ID_LENGTH = 512


@dataclass(frozen=True, slots=True)
class GlobalId:
    type_name: str
    partner: str
    partner_id: str

    @property
    def entity(self) -> str:
        return TYPE_TO_ENTITY[self.type_name]

    def encode(self) -> str:
        raw = f"{self.type_name}:{self.partner}:{self.partner_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def global_id(entity: str, partner: str, partner_id: str) -> str:
    return GlobalId(ENTITY_TO_TYPE[entity], partner, partner_id).encode()


def decode_global_id(value: str, argument: str = "id") -> GlobalId:
    if not value or len(value) > _MAX_ID_LENGTH:
        raise BadUserInput(argument, "not an id of this hub")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput(argument, "not an id of this hub") from None
    type_name, _, rest = raw.partition(":")
    partner, _, partner_id = rest.partition(":")
    if type_name not in TYPE_TO_ENTITY or not partner or not partner_id:
        raise BadUserInput(argument, "not an id of this hub")
    return GlobalId(type_name, partner, partner_id)
