"""Federation entry points: ``_entities(representations:)`` checked, bounded and batched.

A router sends ``[{"__typename": "Offer", "id": "..."}, ...]``. Each representation must name
an entity type of this schema and hold exactly the fields of one of that type's ``@key``s,
each a string; anything else is ``BAD_USER_INPUT`` for that item (never a Python message),
and more than the request's bound (``Context.max_entity_representations``) refuses the whole
field before any partner is called. The ``resolve_reference`` methods look records up
through the request's DataLoaders, so the items of one partner and key are one batched call.

    schema = HubSchema(query=Query, types=[Offer])   # its _entities resolver is this one
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from strawberry.federation.schema_directives import Key

from resolvers.errors import BadUserInput
from resolvers.ids import GlobalId, decode_global_id

ARGUMENT = "representations"


def reference_id(value: str, type_name: str) -> GlobalId:
    """The id of a representation of ``type_name``: an id of this hub, of that very type."""
    gid = decode_global_id(str(value), ARGUMENT)
    if gid.type_name != type_name:
        raise BadUserInput(ARGUMENT, f"not an id of {type_name}")
    return gid


def key_sets(origin: type) -> list[frozenset[str]]:
    """The field sets of the ``@key`` directives of a Strawberry type (GraphQL names)."""
    definition = getattr(origin, "__strawberry_definition__", None)
    return [
        frozenset(directive.fields.split())
        for directive in getattr(definition, "directives", None) or ()
        if isinstance(directive, Key)
    ]


def check_count(representations: Sequence[object], bound: int) -> None:
    if len(representations) > bound:
        raise BadUserInput(ARGUMENT, f"at most {bound} representations in one request")


def checked(
    index: int, representation: object, keys_of: Mapping[str, list[frozenset[str]]]
) -> tuple[str, dict[str, str]]:
    """(type name, key values) of one representation, or ``BAD_USER_INPUT`` naming the item
    and the rule — never a value the client sent."""
    if not isinstance(representation, dict):
        raise BadUserInput(
            ARGUMENT, f"item {index} is not a representation: `{{__typename, <keys>}}`"
        )
    type_name = representation.get("__typename")
    if not isinstance(type_name, str) or type_name not in keys_of:
        raise BadUserInput(ARGUMENT, f"item {index}: `__typename` is not an entity type")
    fields: dict[str, Any] = {k: v for k, v in representation.items() if k != "__typename"}
    if frozenset(fields) not in keys_of[type_name]:
        expected = " or ".join(
            "{" + ", ".join(sorted(k)) + "}" for k in sorted(keys_of[type_name], key=sorted)
        )
        raise BadUserInput(ARGUMENT, f"item {index}: {type_name} is found by {expected}")
    if not all(isinstance(v, str) and v for v in fields.values()):
        raise BadUserInput(ARGUMENT, f"item {index}: key values are non-empty strings")
    return type_name, fields
