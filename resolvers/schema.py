"""The schema: the common syntax, as a federation-ready Strawberry schema.

``build_schema(development=...)``: production refuses introspection and ``_service { sdl }``
(unless ``service_sdl``); development (the demo) allows them so GraphiQL can explore. Parsing
and validation are cached per document, because front-ends send the same few documents again
and again. After validation the query's cost is checked against the request's limit
(:mod:`resolvers.cost_limit`); while it executes, the request's partner-call budget is the
current one (:mod:`sources.budget`); ``_entities`` is checked and bounded
(:mod:`resolvers.federation`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql import FieldNode, GraphQLError, NoSchemaIntrospectionCustomRule, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_limit
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit
from strawberry.federation.schema import FederationAny
from strawberry.types import Info

from resolvers import federation
from resolvers.application import Application
from resolvers.candidate import Candidate
from resolvers.contract import Contract
from resolvers.cost_limit import QueryCostLimit
from resolvers.errors import BadUserInput
from resolvers.execution import HubExecutionContext
from resolvers.follow_up import FollowUpEvent
from resolvers.mutation import Mutation
from resolvers.offer import Offer
from resolvers.organisation import Organisation
from resolvers.query import Query
from resolvers.training import TrainingProgram
from sources import budget

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5_000


class PartnerErrors(SchemaExtension):
    """Adds one error per failed partner next to the data: a partial answer, never an outage.

    Each error names the partner and a stable code in ``extensions``::

        {"message": "apprentissage: no answer within 2 s",
         "extensions": {"code": "SOURCE_TIMEOUT", "partner": "apprentissage"}}
    """

    def on_execute(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        result = self.execution_context.result
        failures = getattr(context, "failures", None)
        if not failures or result is None:
            return
        errors = list(result.errors or [])
        for failure in failures:
            extensions = {"code": failure.code, "partner": failure.partner}
            if failure.field is not None:
                extensions["field"] = failure.field
            errors.append(
                GraphQLError(f"{failure.partner}: {failure.message}", extensions=extensions)
            )
        result.errors = errors


class PartnerCallScope(SchemaExtension):
    """Makes the request's partner-call budget (``Context.calls``) the current one while it
    executes: every task the execution starts (DataLoader batches, parallel fields) sees it."""

    def on_execute(self) -> Iterator[None]:
        calls = getattr(self.execution_context.context, "calls", None)
        if calls is None:
            yield
            return
        with budget.scoped(calls):
            yield


class HubSchema(strawberry.federation.Schema):
    """The federation schema, with an ``_entities`` that checks and bounds what it is sent,
    and no error logging of its own."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry's own logs each error with the document's text and a traceback; the
        gateway reports errors itself, once per request and without request values."""

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        federation.check_count(representations, info.context.max_entity_representations)
        origins = self._entity_origins
        keys_of = {name: federation.key_sets(origin) for name, origin in origins.items()}
        results: list[Any] = []
        for index, representation in enumerate(representations):
            try:
                type_name, keys = federation.checked(index, representation, keys_of)
            except BadUserInput as error:
                results.append(error)
                continue
            results.append(origins[type_name].resolve_reference(info=info, **keys))
        return results

    @functools.cached_property
    def _entity_origins(self) -> dict[str, Any]:
        """GraphQL name -> Strawberry class, for the types a representation may name."""
        out: dict[str, Any] = {}
        for name, type_ in self.schema_converter.type_map.items():
            origin = getattr(type_.definition, "origin", None)
            if hasattr(origin, "resolve_reference"):
                out[name] = origin
        return out


# The rule classes are built once: ValidationCache keys on the rules too, so rules built per
# request (as QueryDepthLimiter and MaxAliasesLimiter do) would re-validate every request.
_DEPTH_RULE = depth_limit(MAX_DEPTH, None, None)
_ALIAS_RULE = alias_limit(MAX_ALIASES)


class HubLimits(AddValidationRules):
    """Depth and alias limits, checked at validation, before any resolver runs."""

    def __init__(self) -> None:
        super().__init__([_DEPTH_RULE, _ALIAS_RULE])


class ProductionLimits(AddValidationRules):
    """The same limits, and no introspection (production settings)."""

    def __init__(self) -> None:
        super().__init__([_DEPTH_RULE, _ALIAS_RULE, NoSchemaIntrospectionCustomRule])


class NoServiceSdlRule(ValidationRule):
    """Refuses the federation field ``_service`` (the whole SDL) in production."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value == "_service" and self.context.get_parent_type() is (
            self.context.schema.query_type
        ):
            self.report_error(GraphQLError("`_service` is not served by this gateway", node))


class NoServiceSdl(AddValidationRules):
    def __init__(self) -> None:
        super().__init__([NoServiceSdlRule])


def build_schema(development: bool = False, service_sdl: bool | None = None) -> strawberry.Schema:
    # Factories, not instances: Strawberry builds fresh extensions per request; the parser and
    # validation caches live at module level, so they are still shared across requests.
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: MaxTokensLimiter(MAX_TOKENS),
        HubLimits if development else ProductionLimits,
        *([] if (development if service_sdl is None else service_sdl) else [NoServiceSdl]),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        QueryCostLimit,  # after ValidationCache: the cost of a valid document only
        PartnerCallScope,
        PartnerErrors,
    ]
    return HubSchema(
        query=Query,
        mutation=Mutation,
        types=[
            Offer,
            TrainingProgram,
            Organisation,
            Candidate,
            Application,
            Contract,
            FollowUpEvent,
        ],
        extensions=extensions,
        # Scalars read off attributes skip graphql-core's per-field machinery (bench/PROFILE.md).
        execution_context_class=HubExecutionContext,
    )
