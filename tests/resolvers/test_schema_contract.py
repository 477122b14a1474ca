"""The printed schema is the contract partner developers read: it must match the code and
describe every type and field."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from gateway.cli import export_schema
from resolvers.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
FEDERATION_TYPES = {"_Service", "_Entity", "_Any", "FieldSet", "link__Import", "link__Purpose"}


def test_schema_graphql_is_printed_from_the_code() -> None:
    printed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert printed == export_schema(), "run `alternance-hub export-schema -o schema.graphql`"


def test_every_type_and_field_is_described() -> None:
    schema = build_schema(development=True)._schema
    undocumented: list[str] = []
    for name, kind in schema.type_map.items():
        if name.startswith("__") or name in FEDERATION_TYPES:
            continue
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            if not kind.description:
                undocumented.append(name)
            for field_name, field in kind.fields.items():
                if field_name.startswith("_"):
                    continue
                if not field.description:
                    undocumented.append(f"{name}.{field_name}")
        elif isinstance(kind, GraphQLEnumType) and not kind.description:
            undocumented.append(name)
    assert undocumented == []


def test_production_schema_refuses_introspection() -> None:
    result = build_schema(development=False).execute_sync("{ __schema { types { name } } }")
    assert result.errors
    assert result.data is None
