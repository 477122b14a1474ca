"""GraphiQL, served whole by the gateway: the page, its example query and its assets.

GraphiQL, React and React DOM ship inside the package (``gateway/static/graphiql``, versions,
checksums and licences in its ``PROVENANCE.md``), so the page works offline and on a
locked-down network. The page's Content-Security-Policy lets the browser load nothing from
anywhere else, which also keeps a CDN from creeping back in unnoticed.

Served only with development settings (``HUB_DEVELOPMENT=true``, the demo):
:class:`gateway.graphql_view.HubGraphQL` renders :func:`page` for browsers on ``GET /graphql``
and :func:`routes` serves the assets under :data:`ASSETS_PATH`.
"""

from __future__ import annotations

import html
import json

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

ASSETS_PATH = "/graphql/static"

# 'unsafe-inline' for styles only: GraphiQL's editors and pop-overs position themselves with
# style attributes. Fonts and icons are data: URLs inside graphiql.min.css.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

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

_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="robots" content="noindex">
    <link rel="icon" href="data:,">
    <title>alternance-hub · GraphiQL</title>
    <link rel="stylesheet" href="{assets}/graphiql.min.css">
    <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script type="application/json" id="hub-graphiql-config">{config}</script>
    <script src="{assets}/react.production.min.js"></script>
    <script src="{assets}/react-dom.production.min.js"></script>
    <script src="{assets}/graphiql.min.js"></script>
    <script src="{assets}/hub-graphiql.js"></script>
  </body>
</html>
"""


def page(root_path: str = "", example_query: str = EXAMPLE_QUERY) -> str:
    """The GraphiQL page; ``root_path`` is the ASGI root path the gateway is mounted under."""
    config = json.dumps({"endpoint": f"{root_path}/graphql", "exampleQuery": example_query})
    # A JSON data block is not run, but "</script>" inside it would still end the element.
    config = config.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return _PAGE.format(assets=html.escape(root_path + ASSETS_PATH), config=config)


def routes(enabled: bool) -> list[BaseRoute]:
    """The assets' route (none when GraphiQL is off): scripts and styles read from the
    installed package, wheel or checkout alike."""
    if not enabled:
        return []
    files = StaticFiles(packages=[("gateway", "static/graphiql")])
    return [Mount(ASSETS_PATH, app=files, name="graphiql")]
