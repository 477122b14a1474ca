"""The partners file: one declarative block per partner, validated before anything runs.

Shape (TOML)::

    version = 1
    [partners.<id>]
    kind = "rest"                 # one of adapters.registry.KINDS
    base_url = "http://127.0.0.1:8101"
    ...                           # the kind's own settings (see each adapter module)
    [partners.<id>.entities.<entity>]
    id = "path.to.partner.id"     # the partner's own identifier inside one raw record
    [partners.<id>.entities.<entity>.fields]
    title = "intitule"            # common-syntax field = path in the partner's record

Unknown keys are errors everywhere (``extra="forbid"``): a typo is found by ``check-config``,
not in production. Secrets are never in the file: a block names the environment variable.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(Strict):
    """How one common-syntax field is read from a partner record.

    A plain string is shorthand for ``{ path = "..." }``. Paths are dotted; ``[0]`` indexes a
    list; ``[*]`` maps over a list (``formations[*].rome`` gives every rome of every formation).
    ``each`` without ``path`` reads the record itself: a one-element list built from the
    record's own fields (``sessions = { each = { capacity = "capacite" } }``), empty when every
    one of them is absent.
    """

    path: str | None = Field(None, description="dotted path in the partner record")
    const: Any = Field(None, description="a constant value instead of a path")
    format: str | None = Field(
        None, description="strptime format for dates/instants, e.g. '%d/%m/%Y'"
    )
    values: dict[str, Any] | None = Field(
        None, description="value map: partner value -> common-syntax value"
    )
    default: Any = Field(None, description="value used when the path is absent or null")
    split: str | None = Field(None, description="split a string into a list on this separator")
    each: dict[str, FieldMappingType] | None = Field(
        None, description="for a list of objects: the mapping of each element's fields"
    )
    decimal_comma: bool = Field(False, description="numbers written 12,5 instead of 12.5")
    strict_values: bool = Field(
        False, description="a value absent from `values` is an error instead of passing through"
    )

    @model_validator(mode="after")
    def _path_or_const(self) -> FieldSpec:
        if self.path is None and self.const is None and self.default is None and not self.each:
            raise ValueError("a field needs `path`, `const`, `default` or `each`")
        return self

    @property
    def of_record(self) -> bool:
        """An ``each`` over the record itself (no path, no constant, no default)."""
        return (
            bool(self.each) and self.path is None and self.const is None and (self.default is None)
        )


FieldMappingType = str | FieldSpec
FieldSpec.model_rebuild()


class EntityMapping(Strict):
    """The mapping of one entity, shared by every kind of adapter.

    Two things the block does not write are attached after validation, so that a
    :class:`~adapters.mapping.Mapper` built from it needs nothing else: the partner's
    ``timezone`` (set by the partner block) and where each key is written in the partners file
    (set by :func:`adapters.partners_file.load_partners`), for errors that point at the line.
    """

    id: str = Field(description="path of the partner's own identifier in a raw record")
    fields: dict[str, FieldMappingType] = Field(default_factory=dict)
    identity: list[list[str]] | None = Field(
        None,
        description=(
            "rules telling this partner's records and another partner's apart: each rule is a "
            "list of common-syntax fields (dotted; a list field gives its first value; text is "
            "compared lower-case without accents); two records of two partners are the same "
            "when both partners declare the same rule and its values are equal; unset = the "
            "entity's default rules"
        ),
    )
    _timezone: str = PrivateAttr("UTC")
    _lines: dict[tuple[str, ...], str] = PrivateAttr(default_factory=dict)

    @property
    def timezone(self) -> str:
        """The zone the partner's times without an offset are read in."""
        return self._timezone

    def line_of(self, location: tuple[str, ...]) -> str | None:
        """``partners.toml:42`` for a key path under this entity (``("fields", "title")``)."""
        return self._lines.get(location)

    def locate(
        self, timezone: str | None = None, lines: dict[tuple[str, ...], str] | None = None
    ) -> None:
        if timezone is not None:
            self._timezone = timezone
        if lines is not None:
            self._lines = lines


class ListSort(Strict):
    """The orders a partner can list an entity in (tokens: ``title``, ``-publishedAt``).

    ``values`` maps a common-syntax order to what the partner takes in ``param`` (a query
    parameter for REST, a variable of the list query for GraphQL); ``natural`` is the order the
    partner returns records in when asked nothing (``-publishedAt``, or ``id`` for its own ids).
    A list merged from several partners is read page by page only from partners that can give
    the gateway's order; the others are read in full (bounded by ``max_items``) and sorted.
    """

    param: str | None = Field(None, description="query parameter / variable taking the order")
    values: dict[str, str] = Field(
        default_factory=dict, description="common order token -> the partner's value"
    )
    natural: str | None = Field(None, description="order of the partner's answer by default")

    @model_validator(mode="after")
    def _tokens(self) -> ListSort:
        from adapters.types import SortOrder

        for token in [*self.values, *([self.natural] if self.natural else [])]:
            SortOrder.parse(token)  # raises ValueError with the token
        if self.values and self.param is None:
            raise ValueError("`values` needs `param`, the parameter that takes the order")
        return self

    def orders(self) -> frozenset[str]:
        """Tokens of the orders the partner can give (asked for, or by default)."""
        natural = {self.natural} if self.natural else set()
        return frozenset(self.values) | natural


class RetryPolicy(Strict):
    enabled: bool = True
    attempts: Annotated[int, Field(ge=1, le=3)] = 2  # first try + one retry, reads only
    backoff_s: Annotated[float, Field(ge=0, le=2)] = 0.05


class BreakerPolicy(Strict):
    enabled: bool = True
    failure_threshold: Annotated[int, Field(ge=1, le=100)] = 5
    # Short, then doubled by each failed probe up to max_cool_down_s: a partner back after a
    # burst is used again within a second, a partner that stays down is probed ever less often.
    cool_down_s: Annotated[float, Field(gt=0, le=600)] = Field(
        1.0, description="wait before the first probe once open"
    )
    max_cool_down_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        30.0, description="longest wait between probes (each failed probe doubles the wait)"
    )


class CachePolicy(Strict):
    enabled: bool = True
    ttl_s: Annotated[float, Field(ge=0, le=86_400)] | None = None  # default: by data class
    stale_s: Annotated[float, Field(ge=0, le=86_400)] = 600.0  # stale-if-error window (PUBLIC)


class EnvSecret(Strict):
    """A secret read from the environment at start-up; the file only names the variable."""

    env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")

    def resolve(self) -> str:
        value = os.environ.get(self.env)
        if value is None:
            raise LookupError(self.env)
        return value


class NoAuth(Strict):
    type: Literal["none"] = "none"


class ApiKeyAuth(Strict):
    type: Literal["api_key"]
    header: str = "X-Api-Key"
    key: EnvSecret


class BearerAuth(Strict):
    type: Literal["bearer"]
    token: EnvSecret


class OAuth2ClientCredentials(Strict):
    type: Literal["oauth2_client_credentials"]
    token_url: str = Field(description="absolute, or relative to base_url")
    client_id: EnvSecret
    client_secret: EnvSecret
    scope: str | None = None
    refresh_margin_s: Annotated[float, Field(ge=0, le=3600)] = 30.0


HttpAuth = Annotated[
    NoAuth | ApiKeyAuth | BearerAuth | OAuth2ClientCredentials, Field(discriminator="type")
]


class PrincipalSetting(Strict):
    """The partner checks who the hub acts for: each call about personal data carries the
    hub's signed principal assertion (ES256 JWS, ``aud`` = this partner's name, 60 s) in
    ``header``; see :mod:`identity.assertions` and :mod:`adapters.acting`."""

    header: str = Field(
        "X-Hub-Principal",
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="request header carrying the signed principal assertion",
    )


class PartnerBase(Strict):
    """Settings every partner has, whatever its kind."""

    kind: str
    label: str | None = Field(None, description="human name shown in `partners`")
    enabled: bool = True
    deadline_s: Annotated[float, Field(gt=0, le=60)] = Field(
        2.0, description="overall deadline of one call to this partner, retries included"
    )
    max_concurrency: Annotated[int, Field(ge=1, le=1000)] = Field(
        32, description="calls in flight to this partner (bulkhead)"
    )
    max_items: Annotated[int, Field(ge=1, le=100_000)] = Field(
        2000, description="most records read from this partner for one list query"
    )
    timezone: str = Field(
        "UTC",
        description="IANA zone the partner's times without an offset are in (Europe/Paris)",
    )
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    cache: CachePolicy = CachePolicy()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _zone_to_mappings(self) -> PartnerBase:
        # The mappings read the partner's times; they carry its zone so that whoever builds a
        # Mapper from one needs nothing else.
        if type(self).entity_mappings is not PartnerBase.entity_mappings:
            for mapping in self.entity_mappings().values():
                mapping.locate(timezone=self.timezone)
        return self

    def entity_mappings(self) -> dict[str, EntityMapping]:
        raise NotImplementedError


class HttpPartnerBase(PartnerBase):
    base_url: str = Field(pattern=r"^https?://")
    auth: HttpAuth = NoAuth()
    max_response_bytes: Annotated[int, Field(ge=1024, le=200_000_000)] = 10_000_000
    headers: dict[str, str] = Field(default_factory=dict, description="static request headers")
