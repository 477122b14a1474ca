"""The schema: the common syntax, as a federation-ready Strawberry schema.

``build_schema(development=...)``: production refuses introspection and ``_service { sdl }``
(unless ``service_sdl``); development (the demo) allows them so GraphiQL can explore. Parsing
and validation are cached per document, because front-ends send the same few documents again
and again.
"""

from __future__ import annotations

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

from resolvers.execution import HubExecutionContext
from resolvers.offer import Offer
from resolvers.organisation import Organisation
from resolvers.query import Query
from resolvers.training import TrainingProgram

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
            errors.append(
                GraphQLError(
                    f"{failure.partner}: {failure.message}",
                    extensions={"code": failure.code, "partner": failure.partner},
                )
            )
        result.errors = errors


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


class HubSchema(strawberry.federation.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry's own logs each error with the document's text and a traceback; the
        gateway reports errors itself, once per request and without request values."""


def build_schema(development: bool = False, service_sdl: bool | None = None) -> strawberry.Schema:
    # Factories, not instances: Strawberry builds fresh extensions per request; the parser and
    # validation caches live at module level, so they are still shared across requests.
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: MaxTokensLimiter(MAX_TOKENS),
        HubLimits if development else ProductionLimits,
        *([] if (development if service_sdl is None else service_sdl) else [NoServiceSdl]),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        PartnerErrors,
    ]
    return HubSchema(
        query=Query,
        types=[Offer, TrainingProgram, Organisation],
        extensions=extensions,
        # Scalars read off attributes skip graphql-core's per-field machinery (bench/PROFILE.md).
        execution_context_class=HubExecutionContext,
    )
