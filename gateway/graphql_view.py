"""The GraphQL endpoint: Strawberry's ASGI view with the hub's context, JSON and GraphiQL."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.context import new_context
from gateway.settings import Settings
from gateway.sources import SourceRegistry
from resolvers.context import Context

EXAMPLE_QUERY = """# alternance-hub — the common syntax of work-study in Savoie and Haute-Savoie.
# Apprenticeship offers within 15 km of Chambéry in ROME G1602 (personnel de cuisine), with
# their employer and the partners that published them. Ctrl-Enter runs it; open the Docs
# panel to browse every type. Page on with `after: "<pageInfo.endCursor>"`.
query OffersNearChambery {
  offers(
    filter: {
      near: { latitude: 45.5646, longitude: 5.9178, radiusKm: 15 }
      romeCodes: ["G1602"]
      contractKinds: [APPRENTICESHIP]
    }
    first: 10
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id
        title
        startDate
        location { city postalCode }
        employer { name siret naf { code label } }
        provenance { partner partnerId fromCache }
      }
    }
  }
}
"""


class HubGraphQL(GraphQL[Context, None]):
    def __init__(self, registry: SourceRegistry, settings: Settings, **kwargs: Any) -> None:
        from resolvers.schema import build_schema

        super().__init__(
            build_schema(development=settings.development),
            graphql_ide="graphiql" if settings.development else None,
            allow_queries_via_get=False,
            **kwargs,
        )
        self.registry = registry
        self.settings = settings

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return new_context(self.registry, self.settings)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    @property
    def graphql_ide_html(self) -> str:
        html = super().graphql_ide_html
        start = html.index("const EXAMPLE_QUERY = `")
        end = html.index("`;", start) + 2
        return html[:start] + f"const EXAMPLE_QUERY = {json.dumps(EXAMPLE_QUERY)};" + html[end:]
