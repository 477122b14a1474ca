"""Configuration of feed partners (kinds ``xml_feed`` and ``csv_feed``); adapters in
:mod:`adapters.xml_feed` and :mod:`adapters.csv_feed`, shared machinery in :mod:`adapters.feed`.

A feed is a whole document per entity, fetched over HTTP and kept in memory as the partner's
snapshot: only PUBLIC (or REFERENCE) entities may come from a feed, since the snapshot is a copy.

Worked example (the Carif-Oref catalogue, LHEO 2.3)::

    [partners.carif]
    kind = "xml_feed"
    base_url = "http://127.0.0.1:8104"
    refresh_s = 300           # revalidate (If-None-Match / If-Modified-Since) after 5 min
    max_stale_s = 86400       # serve the last good copy for a day while the partner is down

    [partners.carif.entities.training_program]
    path = "/lheo/catalogue.xml"
    record = "formation"      # the element that is one record...
    explode = "action"        # ...or rather one record per <action>, carrying its <formation>
    namespace = "http://lheo.gouv.fr/2.3"
    repeated = ["action.session", "action.lieu-de-formation", "domaine-formation.code-ROME"]
    keyed = { "action.extras.extra" = "info" }
    date_format = "%Y%m%d"
    lookups = ["catalogueKey", "rncp"]
    id = "action.@numero"
    fields.title = "intitule-formation"
    fields."sessions" = { path = "action.session[*]", each = { start = "periode.debut" } }

Worked example (an OPCO's CSV export)::

    [partners.akto.entities.organisation]
    path = "/exports/entreprises.csv"
    encoding = "latin-1"
    delimiter = ";"
    date_format = "%d/%m/%Y"
    decimal_comma = true
    id = "siren"
    fields.idcc = "idcc"
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from adapters.config import EntityMapping, HttpPartnerBase
from adapters.syntax import DATA_CLASSES, LOOKUP_KEYS, lookup_key_path
from adapters.types import DataClass

FEEDABLE = frozenset({DataClass.PUBLIC, DataClass.REFERENCE})
"""Data classes a feed may carry: the snapshot is a shared in-memory copy of the partner's data."""

Seconds = Annotated[float, Field(ge=0, le=30 * 86_400)]


class FeedEntity(EntityMapping):
    """One entity of a feed partner: its document, and how a raw record maps."""

    path: str = Field(pattern=r"^/", description="path of the document, relative to base_url")
    listed: bool = Field(
        True,
        description="false: the entity only completes others by look-up (list() is empty), "
        "e.g. funding levels known by RNCP",
    )
    lookups: list[str] | None = Field(
        None,
        description="keys besides `id` to index the snapshot by (common look-up keys); "
        "unset = every look-up key of the entity whose field is mapped",
    )
    date_format: str | None = Field(
        None, description="strptime format of every date field that sets none, e.g. '%d/%m/%Y'"
    )
    decimal_comma: bool = Field(False, description="every number field is written 8 500,00")
    content_types: list[str] | None = Field(
        None, description="media types accepted; unset = the kind's usual ones"
    )
    refresh_s: Seconds | None = Field(None, description="overrides the partner's refresh_s")
    max_stale_s: Seconds | None = Field(None, description="overrides the partner's max_stale_s")

    def lookup_keys(self, entity: str) -> list[str]:
        """The keys this entity's snapshot is indexed by, ``id`` first."""
        if self.lookups is not None:
            return ["id", *(k for k in self.lookups if k != "id")]
        mapped = set(self.fields)
        return ["id", *(k for k in LOOKUP_KEYS.get(entity, ()) if lookup_key_path(k) in mapped)]


class FeedPartnerBase(HttpPartnerBase):
    """Settings of every feed partner: how often to revalidate, how long a copy may serve."""

    refresh_s: Seconds = Field(
        300.0, description="a snapshot older than this is revalidated with a conditional GET"
    )
    max_stale_s: Seconds = Field(
        86_400.0, description="how long the last good copy is served while the partner fails"
    )
    retry_after_failure_s: Seconds = Field(
        10.0, description="after a failed refresh, serve the stale copy this long before retrying"
    )

    def feed_entities(self) -> Mapping[str, FeedEntity]:
        raise NotImplementedError

    @model_validator(mode="after")
    def _stale_covers_refresh(self) -> FeedPartnerBase:
        for entity, spec in self.feed_entities().items():
            refresh = spec.refresh_s if spec.refresh_s is not None else self.refresh_s
            stale = spec.max_stale_s if spec.max_stale_s is not None else self.max_stale_s
            if stale < refresh:
                raise ValueError(f"entities.{entity}: max_stale_s must be at least refresh_s")
        return self


def _check_feed_entities(entities: Mapping[str, FeedEntity]) -> None:
    for entity, spec in entities.items():
        data_class = DATA_CLASSES.get(entity)
        if data_class is None:
            raise ValueError(f"{entity}: unknown entity")
        if data_class not in FEEDABLE:
            raise ValueError(
                f"{entity}: a feed keeps a copy of its data in memory, so it may only carry "
                f"PUBLIC or REFERENCE entities, not {data_class.value}"
            )
        known = LOOKUP_KEYS.get(entity, ())
        for key in spec.lookups or ():
            if key not in known:
                raise ValueError(f"{entity}: {key!r} is not a look-up key ({', '.join(known)})")
            if key != "id" and lookup_key_path(key) not in spec.fields:
                raise ValueError(
                    f"{entity}: look-up key {key!r} needs the mapped field {lookup_key_path(key)!r}"
                )


# -- XML ------------------------------------------------------------------------------------


class XmlFeedEntity(FeedEntity):
    """An XML document; each ``record`` element becomes one raw record (a dict).

    The raw record, which ``id`` and ``fields`` paths read (see :mod:`adapters.xml_feed`):
    an element is keyed by its local name (namespace dropped); a leaf element is its text
    (blank = absent; a leaf's attributes are not read); an element with children is a dict
    whose attributes are ``@name`` and whose own text, if any, is ``#text``; an element named
    in ``repeated`` is always a list, and any other element that occurs more than once in
    the same parent becomes a list too; an element named in ``keyed`` is gathered into a dict
    keyed by the value of the given attribute. Element paths are dotted local names,
    relative to the record element (``action.session``).
    """

    record: str = Field(description="local name of the element that is one record")
    namespace: str | None = Field(
        None, description="expected namespace URI of the record element (format version check)"
    )
    explode: str | None = Field(
        None,
        description="a repeated child of the record: one raw record per occurrence, holding "
        "that one occurrence under its name and every other part of the record",
    )
    repeated: list[str] = Field(default_factory=list, description="element paths always lists")
    keyed: dict[str, str] = Field(
        default_factory=dict, description="element path -> attribute naming each occurrence"
    )

    @field_validator("record", "explode")
    @classmethod
    def _local_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c in value for c in ".[]{}@#")):
            raise ValueError("a local element name, without namespace, dots or brackets")
        return value


class XmlFeedPartner(FeedPartnerBase):
    kind: Literal["xml_feed"]
    entities: dict[str, XmlFeedEntity]

    def entity_mappings(self) -> dict[str, EntityMapping]:
        return dict(self.entities)

    def feed_entities(self) -> Mapping[str, FeedEntity]:
        return self.entities

    @field_validator("entities")
    @classmethod
    def _feedable(cls, entities: dict[str, XmlFeedEntity]) -> dict[str, XmlFeedEntity]:
        _check_feed_entities(entities)
        return entities


# -- CSV ------------------------------------------------------------------------------------


class CsvFeedEntity(FeedEntity):
    """A delimited text document; each row is one raw record: column name -> text.

    Cells are stripped and an empty cell is absent (null), so an empty date is no error.
    With ``group_by``, consecutive or not, the rows sharing that column's value make one raw
    record: the first row's columns, plus every row (as dicts) under ``group_into`` — so a
    history of funding levels per certification maps to one list field.
    """

    encoding: str = Field("utf-8", description="e.g. 'latin-1', 'cp1252', 'utf-8'")
    delimiter: str = Field(",", min_length=1, max_length=1)
    quotechar: str = Field('"', min_length=1, max_length=1)
    header: bool = Field(True, description="the first row names the columns")
    columns: list[str] | None = Field(
        None, description="column names when the document has no header row"
    )
    group_by: str | None = Field(None, description="column whose value groups rows")
    group_into: str = Field("rows", description="raw-record key of a group's rows")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @model_validator(mode="after")
    def _columns_named(self) -> CsvFeedEntity:
        if not self.header and not self.columns:
            raise ValueError("a CSV without a header row needs `columns`")
        return self


class CsvFeedPartner(FeedPartnerBase):
    kind: Literal["csv_feed"]
    entities: dict[str, CsvFeedEntity]

    def entity_mappings(self) -> dict[str, EntityMapping]:
        return dict(self.entities)

    def feed_entities(self) -> Mapping[str, FeedEntity]:
        return self.entities

    @field_validator("entities")
    @classmethod
    def _feedable(cls, entities: dict[str, CsvFeedEntity]) -> dict[str, CsvFeedEntity]:
        _check_feed_entities(entities)
        return entities


__all__ = [
    "FEEDABLE",
    "CsvFeedEntity",
    "CsvFeedPartner",
    "FeedEntity",
    "FeedPartnerBase",
    "XmlFeedEntity",
    "XmlFeedPartner",
]
