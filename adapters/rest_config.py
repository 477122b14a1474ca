"""Configuration of a REST/JSON partner (kind ``rest``); the adapter is :mod:`adapters.rest`.

Worked example (France Travail "Offres d'emploi v2")::

    [partners.francetravail]
    kind = "rest"
    base_url = "http://127.0.0.1:8101"
    auth = { type = "oauth2_client_credentials", token_url = "/connexion/oauth2/access_token",
             client_id = { env = "HUB_FRANCETRAVAIL_CLIENT_ID" },
             client_secret = { env = "HUB_FRANCETRAVAIL_CLIENT_SECRET" } }

    [partners.francetravail.entities.offer]
    id = "id"
    list = { path = "/offres/search", items = "resultats" }
    pagination = { style = "range", param = "range", page_size = 150 }
    lookups.id = { path = "/offres/{value}" }
    filters.romeCodes = { param = "codeROME", join = "," }
    fields.title = "intitule"
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from adapters.config import EntityMapping, HttpPartnerBase, ListSort, PrincipalSetting, Strict
from adapters.counting import DIMENSIONS, PERIOD_FIELDS, dimension_problem
from adapters.syntax import DATA_CLASSES, ENTITIES, LOOKUP_KEYS, lookup_key_path
from adapters.types import DataClass
from adapters.writes import CREATING, WriteValue, action_problem, value_hint, value_problems


class NoPagination(Strict):
    style: Literal["none"] = "none"


class RangePagination(Strict):
    """``range=0-149`` query parameter, total in ``Content-Range: offres 0-149/1234``."""

    style: Literal["range"]
    param: str = "range"
    page_size: Annotated[int, Field(ge=1, le=10_000)] = 150
    total_header: str = "Content-Range"


class PagePagination(Strict):
    """``page_index``/``page_size`` parameters; total read at ``total`` in the body."""

    style: Literal["page"]
    page_param: str = "page"
    size_param: str = "page_size"
    page_size: Annotated[int, Field(ge=1, le=10_000)] = 100
    first_page: Annotated[int, Field(ge=0, le=1)] = 0
    total: str | None = Field(None, description="path of the total count in the body")


class OffsetPagination(Strict):
    style: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str = "limit"
    page_size: Annotated[int, Field(ge=1, le=10_000)] = 100
    total: str | None = Field(None, description="path of the total count in the body")


class CursorPagination(Strict):
    """The partner returns an opaque cursor for the next page (``next`` path in the body)."""

    style: Literal["cursor"]
    cursor_param: str = "cursor"
    size_param: str | None = "limit"
    page_size: Annotated[int, Field(ge=1, le=10_000)] = 100
    next: str = Field(description="path of the next cursor in the body; absent/null = last")


Pagination = Annotated[
    NoPagination | RangePagination | PagePagination | OffsetPagination | CursorPagination,
    Field(discriminator="style"),
]


class Endpoint(Strict):
    path: str = Field(description="relative to base_url; `{value}` is replaced, escaped")
    method: Literal["GET", "POST"] = "GET"
    items: str | None = Field(
        None, description="path of the list of records in the body; unset = the body itself"
    )
    params: dict[str, str] = Field(default_factory=dict, description="static query parameters")


class Lookup(Strict):
    """Look-up by one key: one record per call (``path`` with ``{value}``, or ``param``)..."""

    path: str = Field(description="`/x/{value}` or a search path with `param`")
    param: str | None = Field(None, description="query parameter carrying the value")
    items: str | None = None
    batch: BatchLookup | None = None


class BatchLookup(Strict):
    """...and, where the partner has one, many keys in one call."""

    path: str
    method: Literal["GET", "POST"] = "POST"
    body_field: str | None = Field("values", description="POST: JSON body field of the list")
    param: str | None = Field(None, description="GET: query parameter of the joined list")
    join: str = ","
    items: str | None = None
    max_size: Annotated[int, Field(ge=1, le=1000)] = 100


Lookup.model_rebuild()


class FilterPushdown(Strict):
    """How the partner applies one common filter itself."""

    param: str | None = None
    join: str | None = Field(",", description="how a list is sent; unset = repeated parameter")
    values: dict[str, str] | None = Field(None, description="common value -> partner value")
    format: str | None = Field(None, description="strftime format for instants")
    # for `near`: the partner takes a point and a radius
    latitude_param: str | None = None
    longitude_param: str | None = None
    radius_param: str | None = None
    single: bool = Field(False, description="the partner takes one value: push only then")


class RestWrite(Strict):
    """One action as one HTTP request: ``{ method, path, body, created_id }``.

    ``path`` may hold ``{id}`` (the owner's id of a transition's record, escaped); ``body``
    maps JSON fields (dotted: nested objects) to values (see :mod:`adapters.writes`);
    ``created_id`` is the path of the new record's id in the answer (creating actions).
    """

    method: Literal["POST", "PUT", "PATCH"] = "POST"
    path: str = Field(description="relative to base_url; `{id}` is the record changed")
    body: dict[str, WriteValue] = Field(default_factory=dict)
    created_id: str | None = Field(
        "id", description="path of the created record's id in the answer"
    )


class RestDimension(Strict):
    """One dimension at a statistics endpoint: the name it groups by, and the query parameter
    filtering on it (unset: it only groups). A group's value is read through the entity's
    mapping of the dimension's field (its ``values`` map); a filter's common values are sent
    as every owner value mapped to them, joined by ``join``. A dimension read from a related
    record (an application's ``departement``, ``rome_domain``, ``level``: see
    :class:`adapters.counting.Related`) is the owner's to compute: it groups and filters by
    common values, read and sent as they are."""

    group: str = Field(description="name in the group-by parameter, and key of it in a row")
    param: str | None = Field(None, description="query parameter filtering on it")
    join: str = ","


class RestPeriod(Strict):
    """The period as two query parameters: days ``from`` (included) to ``to`` (excluded)."""

    from_param: str
    to_param: str
    format: str = Field("%Y-%m-%d", description="strftime format of the days")


class RestAggregates(Strict):
    """The owner's statistics endpoint for the observatory (:mod:`adapters.rest_counting`).

    One GET per count: ``path?<group_param>=<group names joined>&<filters>&<period>``,
    answering the rows at ``rows``, each with its groups' values (at their ``group`` names),
    its count at ``count`` and the sum of its records' ONS record keys at ``key_sum``. Called
    with the partner's credential and, for a personal entity, the hub's signed principal (an
    OBSERVATORY one: it sees counts, never a person). Example::

        [partners.hub3e.entities.application.aggregates]
        path = "/api/v2/statistiques/placements"
        group_param = "par"
        rows = "groupes"
        count = "effectif"
        key_sum = "somme_cles"
        period = { from_param = "depuis", to_param = "avant" }
        dimensions.status = { group = "statut", param = "statut" }
        dimensions.month = { group = "mois" }
    """

    path: str = Field(description="the statistics endpoint, relative to base_url")
    group_param: str = Field(description="query parameter taking the joined group names")
    group_join: str = ","
    params: dict[str, str] = Field(default_factory=dict, description="static query parameters")
    rows: str = Field(description="path of the list of rows in the answer")
    count: str = Field(description="path of a row's count")
    key_sum: str | None = Field(
        None, description="path of a row's sum of record keys (unset: the owner has none)"
    )
    period: RestPeriod | None = Field(
        None,
        description="the period's parameters, on the entity's default date (PERIOD_FIELDS): "
        "a count dated by another field is not answered",
    )
    dimensions: dict[str, RestDimension] = Field(default_factory=dict)


class RestEntity(EntityMapping):
    list: Endpoint | None = None
    pagination: Pagination = NoPagination()
    lookups: dict[str, Lookup] = Field(default_factory=dict)
    filters: dict[str, FilterPushdown] = Field(default_factory=dict)
    etag: bool = Field(False, description="revalidate list pages with If-None-Match")
    sort: ListSort | None = Field(None, description="orders the partner can list in")
    writes: dict[str, RestWrite] = Field(
        default_factory=dict, description="action -> its request (adapters.writes)"
    )
    aggregates: RestAggregates | None = Field(
        None, description="the owner's statistics endpoint (adapters.rest_counting)"
    )


class RestPartner(HttpPartnerBase):
    kind: Literal["rest"]
    health_path: str | None = Field(None, description="GET this path for /readyz")
    principal: PrincipalSetting | None = Field(
        None,
        description="the partner checks who the hub acts for: its calls about personal data "
        "carry the hub's signed principal assertion in this header",
    )
    entities: dict[str, RestEntity]

    @model_validator(mode="after")
    def _usable_lookups(self) -> RestPartner:
        """Look-up blocks the adapter could not use, each at its own key."""
        problems = [
            InitErrorDetails(
                type=PydanticCustomError(kind, message, {"hint": hint}), loc=loc, input=None
            )
            for entity, spec in self.entities.items()
            for loc, kind, message, hint in [
                *_lookup_problems(entity, spec),
                *_write_problems(entity, spec),
                *_aggregate_problems(entity, spec),
            ]
        ]
        if problems:
            raise ValidationError.from_exception_data("RestPartner", problems)
        return self

    def entity_mappings(self) -> dict[str, EntityMapping]:
        return dict(self.entities)


def _lookup_problems(
    entity: str, spec: RestEntity
) -> list[tuple[tuple[str | int, ...], str, str, str]]:
    if entity not in ENTITIES:
        return []  # an unknown entity is reported once, by the partners file loader
    found: list[tuple[tuple[str | int, ...], str, str, str]] = []
    if spec.etag and DATA_CLASSES[entity] is DataClass.PERSONAL:
        found.append(
            (
                ("entities", entity, "etag"),
                "personal_etag",
                "a personal answer is never kept across requests",
                "remove `etag`: revalidation keeps the last body in process memory",
            )
        )
    for key, how in spec.lookups.items():
        where: tuple[str | int, ...] = ("entities", entity, "lookups", key)
        path = lookup_key_path(key)
        if key != "id" and path not in ENTITIES[entity]:
            found.append(
                (
                    where,
                    "unknown_lookup_key",
                    f"{key} is not a field of {entity}",
                    f"{entity} is looked up by: {', '.join(LOOKUP_KEYS[entity])}",
                )
            )
        elif key != "id" and path not in spec.fields:
            found.append(
                (
                    where,
                    "unread_lookup_key",
                    f"the mapping of {entity} does not read {path}",
                    f"map `fields.{path}`: a record found by {key} must carry it",
                )
            )
        if how.batch is None and how.param is None and "{value}" not in how.path:
            found.append(
                (
                    (*where, "path"),
                    "lookup_value",
                    "the path needs {value}, or set `param`",
                    'path = "/things/{value}", or param = "<query parameter>"',
                )
            )
        if how.batch is not None and how.batch.method == "GET" and how.batch.param is None:
            found.append(
                (
                    (*where, "batch"),
                    "batch_param",
                    "a GET batch needs `param`",
                    "param = the query parameter taking the joined values (`join`, default ',')",
                )
            )
    return found


def _aggregate_problems(
    entity: str, spec: RestEntity
) -> list[tuple[tuple[str | int, ...], str, str, str]]:
    aggregates = spec.aggregates
    if aggregates is None or entity not in ENTITIES:
        return []
    where: tuple[str | int, ...] = ("entities", entity, "aggregates")
    if entity not in DIMENSIONS:
        return [(where, "not_counted", f"{entity} is not counted", ", ".join(DIMENSIONS))]
    found: list[tuple[tuple[str | int, ...], str, str, str]] = []
    for name in aggregates.dimensions:
        problem = dimension_problem(entity, name, spec)
        if problem is not None:
            found.append(((*where, "dimensions", name), "dimension", problem, ""))
    if aggregates.period is not None and entity not in PERIOD_FIELDS:
        found.append(((*where, "period"), "period", f"{entity} has no period date", ""))
    return found


def _write_problems(
    entity: str, spec: RestEntity
) -> list[tuple[tuple[str | int, ...], str, str, str]]:
    found: list[tuple[tuple[str | int, ...], str, str, str]] = []
    for action, write in spec.writes.items():
        where: tuple[str | int, ...] = ("entities", entity, "writes", action)
        problem = action_problem(entity, action)
        if problem is not None:
            hint = "application: submit, transition; follow_up: record"
            found.append((where, "unknown_write", problem, hint))
            continue
        for name, value in write.body.items():
            message = value_problems(entity, action, value)
            if message is not None:
                hint = value_hint(entity, action, sql=False)
                found.append(((*where, "body", name), "write_value", message, hint))
        if action in CREATING and write.created_id is None:
            found.append(
                (
                    (*where, "created_id"),
                    "created_id",
                    f"`{action}` creates a record: say where the answer holds its id",
                    'created_id = "id"',
                )
            )
        if action not in CREATING and "{id}" not in write.path and "id" not in write.body.values():
            found.append(
                (
                    (*where, "path"),
                    "write_path",
                    f"`{action}` changes a record: its path needs {{id}}",
                    'path = "/things/{id}"',
                )
            )
    return found
