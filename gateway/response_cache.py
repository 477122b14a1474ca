"""The response cache: whole answers of documents that read only PUBLIC and REFERENCE data.

What is kept: the JSON bytes of a query's answer, served as they are to the next identical
request. The key hashes the normalised document (``print_ast`` of its parse, so spacing and
comments do not matter), the operation name, the variables and the principal's scope
(``Context.scope``). An answer is kept only when:

- the document is a query none of whose selections can reach a type marked ``PERSONAL``, or an
  entity type with no data class (:mod:`resolvers.data_classes`; an abstract type counts as
  every type it may be);
- the execution had no error at all (a partner failure is an error: partial answers are never
  kept), and every input it read was fresh and not PERSONAL (:mod:`sources.freshness`, noted
  by the source registry for every partner answer);
- for as long as the least fresh of those inputs stays fresh; a document that read no partner
  answer (the hub's own reference territory) is kept for the REFERENCE TTL.

The stored answer is the one a warm execution would give: every ``Provenance.fromCache`` says
true. ``extensions.cacheHit`` says which answers came from here. Entries live in the
:class:`~sources.cache.HubCache` tiers (the byte-bounded local tier, then Redis when
configured), under hashed, namespaced keys of kind ``response``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_interface_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    parse,
    print_ast,
)
from graphql.utilities import get_operation_ast

from adapters.types import DataClass
from resolvers.data_classes import FROM_CACHE_FIELDS, data_class_of
from sources.cache import HubCache
from sources.freshness import Inputs

__all__ = ["ResponseCache", "ResponseCacheStats"]

_CACHEABLE = frozenset({DataClass.PUBLIC, DataClass.REFERENCE})
_ENTITY_INTERFACE = "Node"
_DOCUMENTS = 256  # analysed documents kept: front-ends send the same few again and again


@dataclass(slots=True)
class ResponseCacheStats:
    """Running totals for /metrics and tests."""

    hits: int = 0
    misses: int = 0  # cacheable documents not found
    stored: int = 0
    refused: int = 0  # executed answers not kept: an error, a stale or PERSONAL input

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Document:
    digest: str  # the normalised text, the key's first part
    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]


def _data_class(type_: GraphQLNamedType) -> DataClass | None:
    definition = (type_.extensions or {}).get("strawberry-definition")
    origin = getattr(definition, "origin", None)
    return data_class_of(origin) if isinstance(origin, type) else None


class ResponseCache:
    def __init__(self, schema: GraphQLSchema, cache: HubCache) -> None:
        self._schema = schema
        self._cache = cache
        self._documents: LRUCache[tuple[str, str | None], _Document | None] = LRUCache(_DOCUMENTS)
        self.stats = ResponseCacheStats()

    # -- which documents ------------------------------------------------------------------

    def key(
        self,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        scope: str,
    ) -> str | None:
        """The storage key of this request, or None when its answer is never kept."""
        document = self._document(query, operation_name)
        if document is None:
            return None
        return self._cache.key(
            "response", document.digest, operation_name, dict(variables or {}), scope
        )

    def _document(self, query: str, operation_name: str | None) -> _Document | None:
        if (query, operation_name) in self._documents:
            return self._documents[(query, operation_name)]
        found = self._analyse(query, operation_name)
        self._documents[(query, operation_name)] = found
        return found

    def _analyse(self, query: str, operation_name: str | None) -> _Document | None:
        try:
            document = parse(query, no_location=True)
        except GraphQLError:
            return None  # execution reports it
        operation = get_operation_ast(document, operation_name)
        root = self._schema.query_type
        if operation is None or operation.operation != OperationType.QUERY or root is None:
            return None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        if not self._reads_only_shared_data(root, operation.selection_set, fragments, set()):
            return None
        return _Document(print_ast(document), operation, fragments)

    def _reads_only_shared_data(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode | None,
        fragments: Mapping[str, FragmentDefinitionNode],
        seen: set[str],
    ) -> bool:
        """Whether no selection under ``parent`` reaches a type the cache must not keep."""
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name.startswith("__"):
                    continue  # introspection: the schema itself
                fields = getattr(parent, "fields", {})
                if name not in fields:
                    return False  # an invalid document: execution reports it
                returned = get_named_type(fields[name].type)
                if not self._shareable(returned):
                    return False
                if not self._reads_only_shared_data(
                    returned, selection.selection_set, fragments, seen
                ):
                    return False
            else:
                if isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in seen or name not in fragments:
                        continue  # a cycle or an unknown fragment: validation refuses both
                    seen.add(name)
                    fragment: FragmentDefinitionNode | InlineFragmentNode = fragments[name]
                elif isinstance(selection, InlineFragmentNode):
                    fragment = selection
                else:
                    return False
                condition = fragment.type_condition
                typed = self._schema.get_type(condition.name.value) if condition else parent
                if typed is None or not self._shareable(typed):
                    return False
                if not self._reads_only_shared_data(typed, fragment.selection_set, fragments, seen):
                    return False
        return True

    @functools.cache  # noqa: B019 - one instance per app, the schema never changes
    def _shareable(self, type_: GraphQLNamedType) -> bool:
        if is_abstract_type(type_):
            return all(self._shareable(t) for t in self._schema.get_possible_types(type_))
        data_class = _data_class(type_)
        if data_class is not None:
            return data_class in _CACHEABLE
        is_entity = is_object_type(type_) and any(
            i.name == _ENTITY_INTERFACE for i in type_.interfaces
        )
        return not is_entity  # an entity must say its class; value types hold their holder's

    # -- reading and keeping ---------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        payload = await self._cache.get_payload(key)
        if payload is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return payload

    async def keep(
        self,
        key: str,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        answer: dict[str, Any],
        inputs: Inputs,
    ) -> None:
        """Store ``answer`` (the processed result, without errors) under ``key``, as a warm
        execution would give it. ``answer`` is changed in place: encode it first."""
        document = self._document(query, operation_name)
        fresh_for = (
            inputs.fresh_for
            if inputs.fresh_for is not None
            else self._cache.fresh_for(DataClass.REFERENCE)
        )
        if document is None or not inputs.cacheable or "errors" in answer or fresh_for <= 0:
            self.stats.refused += 1
            return
        marker = _FromCache(self._schema, document.fragments)
        root = self._schema.query_type
        data = answer.get("data")
        if root is None or not isinstance(data, dict):
            self.stats.refused += 1
            return
        if not marker.mark(data, root, [document.operation.selection_set]):
            self.stats.refused += 1
            return
        answer["extensions"] = {**(answer.get("extensions") or {}), "cacheHit": True}
        await self._cache.set_payload(key, orjson.dumps(answer), fresh_for)
        self.stats.stored += 1


class _FromCache:
    """Sets every ``fromCache`` field of an answer to true, following the document's aliases
    and fragments. Gives up (False) where it cannot tell an abstract value's type."""

    def __init__(
        self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._reaching = _types_reaching_flags(schema)

    def mark(
        self, value: Any, type_: GraphQLOutputType, selection_sets: list[SelectionSetNode]
    ) -> bool:
        while is_non_null_type(type_):
            type_ = type_.of_type
        if value is None or is_leaf_type(type_):
            return True
        if is_list_type(type_):
            return all(self.mark(item, type_.of_type, selection_sets) for item in value)
        named = get_named_type(type_)
        if named.name not in self._reaching or not isinstance(value, dict):
            return True
        concrete = named if is_object_type(named) else self._runtime_type(value, selection_sets)
        if concrete is None:
            return False
        for key, (name, subs) in self._collect(concrete, selection_sets).items():
            if key not in value or name.startswith("__"):
                continue
            if (concrete.name, name) in FROM_CACHE_FIELDS:
                if value[key] is False:
                    value[key] = True
            elif not self.mark(value[key], concrete.fields[name].type, subs):
                return False
        return True

    def _runtime_type(
        self, value: Mapping[str, Any], selection_sets: list[SelectionSetNode]
    ) -> GraphQLObjectType | None:
        for selection in _fields_anywhere(selection_sets, self._fragments):
            if selection.name.value == "__typename":
                key = selection.alias.value if selection.alias else "__typename"
                found = self._schema.get_type(str(value.get(key)))
                if is_object_type(found):
                    return found
        return None

    def _collect(
        self, concrete: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> dict[str, tuple[str, list[SelectionSetNode]]]:
        """Response key -> (field name, its selection sets), for the fields that apply to
        ``concrete`` (validation makes the fields sharing a response key one field)."""
        out: dict[str, tuple[str, list[SelectionSetNode]]] = {}
        stack = list(reversed([s for ss in selection_sets for s in ss.selections]))
        while stack:
            selection = stack.pop()
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                subs = out.setdefault(key, (selection.name.value, []))[1]
                if selection.selection_set is not None:
                    subs.append(selection.selection_set)
                continue
            fragment: FragmentDefinitionNode | InlineFragmentNode | None
            if isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                fragment = selection
            else:
                continue
            if fragment is None or not self._applies(fragment, concrete):
                continue
            stack.extend(reversed(fragment.selection_set.selections))
        return out

    def _applies(
        self, fragment: FragmentDefinitionNode | InlineFragmentNode, concrete: GraphQLObjectType
    ) -> bool:
        if fragment.type_condition is None:
            return True
        condition = self._schema.get_type(fragment.type_condition.name.value)
        if condition is concrete:
            return True
        return is_abstract_type(condition) and self._schema.is_sub_type(condition, concrete)


def _fields_anywhere(
    selection_sets: Iterable[SelectionSetNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterable[FieldNode]:
    """The fields of these selection sets, through every fragment whatever its type."""
    stack = [s for ss in selection_sets for s in ss.selections]
    seen: set[str] = set()
    while stack:
        selection = stack.pop()
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in seen and name in fragments:
                seen.add(name)
                stack.extend(fragments[name].selection_set.selections)
        elif isinstance(selection, InlineFragmentNode):
            stack.extend(selection.selection_set.selections)


@functools.cache
def _types_reaching_flags(schema: GraphQLSchema) -> frozenset[str]:
    """Names of the types from which a ``fromCache`` field can be reached (the walk skips the
    others' subtrees)."""
    edges: dict[str, set[str]] = {}
    for name, type_ in schema.type_map.items():
        if is_abstract_type(type_):
            edges[name] = {t.name for t in schema.get_possible_types(type_)}
        elif is_object_type(type_) or is_interface_type(type_):
            edges[name] = {get_named_type(f.type).name for f in type_.fields.values()}
    reaching = {parent for parent, _ in FROM_CACHE_FIELDS}
    changed = True
    while changed:
        changed = False
        for name, targets in edges.items():
            if name not in reaching and targets & reaching:
                reaching.add(name)
                changed = True
    return frozenset(reaching)
