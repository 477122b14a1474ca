"""The Node interface: every object with a global id (Relay)."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="Node — an object with a global, routing id.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global id: encodes the type, the owning partner and its own id."
    )
