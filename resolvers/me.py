"""``me``: who the request acts for, as its credential says (null when anonymous).

The principal is the gateway's reading of the credential (:mod:`gateway.authentication`), never
of a header the client chose. ``Me`` is marked PERSONAL: no answer holding it is kept in the
response cache, whoever asks.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from adapters.types import DataClass
from identity.principal import Role
from resolvers.data_classes import holds

# The identity layer's enum, registered as a GraphQL enum (it knows nothing of GraphQL itself).
strawberry.enum(
    Role, description="Role — who a credential acts as (COMMON-SYNTAX.md, 'Who may see what')."
)


@holds(DataClass.PERSONAL)
@strawberry.type(description="Me — the principal of the request's credential.")
class Me:
    role: Role = strawberry.field(description="The role the credential gives.")
    organisation: str | None = strawberry.field(
        description="UAI or SIRET (training centre), SIRET (employer), OPCO code (OPCO); "
        "null for the other roles."
    )
    subject: str | None = strawberry.field(
        description="The credential's subject: for a candidate, the candidate id at its owner."
    )


def resolve_me(info: Info) -> Me | None:
    principal = info.context.principal
    if principal is None:
        return None
    return Me(
        role=principal.role,
        organisation=principal.organisation or None,
        subject=principal.subject or None,
    )
