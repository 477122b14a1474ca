"""Configuration of an SQL partner (kind ``sql``); the adapter is :mod:`adapters.sql`.

A partner's own database (SQLite through aiosqlite, PostgreSQL through asyncpg) is read with
SQLAlchemy Core. Every name in the block (tables, aliases, columns) is an identifier checked
against :data:`IDENTIFIER` and quoted by SQLAlchemy; every value is a bound parameter.

Column references are ``alias.column``: ``alias`` is the main table's ``alias`` or a join's.
The raw record the mapper sees is nested by alias, ``{"f": {"intitule": ...}, "s": {...}}``,
so a field ``path = "f.intitule"`` reads exactly the column it names.

Worked example (a CFA's ERP, one row per session folded into one programme)::

    [partners.cfa-btp]
    kind = "sql"
    dsn = { env = "HUB_CFA_BTP_DSN" }   # sqlite+aiosqlite:///… or postgresql+asyncpg://…
    db_schema = "erp"                   # PostgreSQL schema of unqualified tables (SQLite: none)

    [partners.cfa-btp.entities.training_program]
    table = "formations"
    alias = "f"
    joins = [{ table = "sessions_formation", alias = "s",
               on = "s.id_formation = f.id_formation", kind = "left" }]
    id = "f.id_formation"
    columns = { "f.id_formation" = "int" }      # how values compared with a column are bound
    group_by_id = true                          # rows of one id fold into one record...
    rows_into = "sessions"                      # ...whose per-row columns form this list
    lookups.catalogueKey = "f.code_catalogue"
    filters.rncp = { column = "f.code_rncp", op = "in" }
    filters.near = { op = "near", latitude = "f.latitude", longitude = "f.longitude" }
    fields.title = "f.intitule"
    fields.sessions = { path = "sessions", each = { start = "s.date_debut",
                        capacity = "s.places_ouvertes" } }

Grouping (``group_by_id``): rows sharing the id make one raw record, read from the first row,
plus ``rows_into`` (a raw key, not a column) holding every row's nested dict, so the ``each``
paths of the field whose ``path`` is ``rows_into`` read one element per row. A row whose
``each`` columns are all null (a programme without sessions, via a left join) adds no element.
Filters select the ids (a programme with at least one matching row), and then every row of
those ids is read; pagination walks ids, so one record never spans two pages.

Orders: nothing to declare. Every common field mapped as it is to one column (a plain path, no
value map, format, default or split; not a list) sorts by that column, unless ``columns`` types
the column otherwise than the field (an ``int`` id is not the common ``str`` id's order); with
grouping, only the main table's columns (a joined one may hold several values per record).

Bound types: a value compared with a column is converted to that column's type in ``columns``;
an undeclared column takes the common filter's type (``str`` after a ``values`` map), and
``str`` for look-ups. A look-up value that cannot be converted (``"abc"`` for an ``int`` id)
matches nothing and is not sent.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from adapters.config import EntityMapping, EnvSecret, FieldSpec, PartnerBase, Strict
from adapters.counting import (
    DATED_BY,
    DIMENSIONS,
    HISTORY,
    PERIOD_FIELDS,
    SUM_FIELDS,
    dimension_problem,
)
from adapters.syntax import FILTERS, LOOKUP_KEYS
from adapters.writes import CREATING, WriteValue, action_problem, value_hint, value_problems

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
"""A name, or ``qualifier.name`` (``schema.table`` for tables, ``alias.column`` for columns)."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COLUMN_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
_CONDITION = re.compile(r"^\s*(\S+)\s*=\s*(\S+)\s*$")

ColumnType = Literal["str", "int", "float", "bool", "date", "datetime"]


def _check_table(name: str) -> str:
    if not IDENTIFIER.match(name):
        raise ValueError("a table is `name` or `schema.name` (letters, digits, _)")
    return name


def _check_alias(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError("an alias is one name (letters, digits, _)")
    return name


def _check_column(ref: str) -> str:
    if not _COLUMN_REF.match(ref):
        raise ValueError("a column is `alias.column` (letters, digits, _)")
    return ref


def join_conditions(on: str) -> list[tuple[str, str]]:
    """``"a.x = b.y and a.z = b.w"`` as column-reference pairs."""
    pairs = []
    for part in re.split(r"\s+and\s+", on.strip(), flags=re.IGNORECASE):
        found = _CONDITION.match(part)
        if found is None:
            raise ValueError("`on` is `alias.column = alias.column`, joined by `and`")
        pairs.append((_check_column(found[1]), _check_column(found[2])))
    return pairs


class SqlJoin(Strict):
    table: str = Field(description="joined table, `name` or `schema.name`")
    alias: str = Field(description="how column references name this table")
    on: str = Field(description="`alias.column = alias.column`, several joined by `and`")
    kind: Literal["left", "inner"] = "left"

    _table = field_validator("table")(_check_table)
    _alias = field_validator("alias")(_check_alias)

    @field_validator("on")
    @classmethod
    def _on(cls, value: str) -> str:
        join_conditions(value)
        return value


class SqlFilter(Strict):
    """How the database applies one common filter itself (the gateway re-applies it anyway).

    ``eq``/``in``: equality with one value or membership in a list (either op takes either);
    ``gte``/``lte``: bounds; ``ilike``: case-insensitive substring; ``prefix``: starts with (a
    département on an INSEE code column); ``near``: the bounding box of the circle on
    ``latitude``/``longitude`` columns, looser than the circle, which the gateway then applies.
    """

    column: str | None = Field(None, description="`alias.column` compared (not for `near`)")
    op: Literal["eq", "in", "gte", "lte", "ilike", "prefix", "near"] = "in"
    values: dict[str, str] | None = Field(None, description="common value -> partner value")
    latitude: str | None = Field(None, description="`near`: latitude column")
    longitude: str | None = Field(None, description="`near`: longitude column")

    @model_validator(mode="after")
    def _columns(self) -> SqlFilter:
        if self.op == "near":
            if self.latitude is None or self.longitude is None or self.column is not None:
                raise ValueError("`near` needs `latitude` and `longitude` columns, no `column`")
            _check_column(self.latitude)
            _check_column(self.longitude)
        else:
            if self.column is None or self.latitude is not None or self.longitude is not None:
                raise ValueError(f"`{self.op}` needs one `column`")
            _check_column(self.column)
        return self

    def column_refs(self) -> list[str]:
        refs = [self.column, self.latitude, self.longitude]
        return [ref for ref in refs if ref is not None]


class SqlInsert(Strict):
    """``{ table, values = { column = <value> }, returning = "col", types = {...} }``."""

    table: str = Field(description="table written, `name` or `schema.name`")
    values: dict[str, WriteValue] = Field(description="column -> value (see adapters.writes)")
    returning: str | None = Field(
        None, description="column whose new value later statements read as `returned.<col>`"
    )
    types: dict[str, ColumnType] = Field(
        default_factory=dict, description="type of a column, for the values bound to it"
    )

    _table = field_validator("table")(_check_table)

    @model_validator(mode="after")
    def _names(self) -> SqlInsert:
        if not self.values:
            raise ValueError("an insert needs `values`")
        for name in [*self.values, *self.types, *([self.returning] if self.returning else [])]:
            _check_alias(name)
        return self


class SqlUpdate(Strict):
    """``{ table, set = { column = <value> }, where = { column = <value> } }``: the ``where``
    must match exactly one row, else the write is refused (not found) and rolled back."""

    table: str = Field(description="table written, `name` or `schema.name`")
    set: dict[str, WriteValue] = Field(description="column -> new value")
    where: dict[str, WriteValue] = Field(description="column -> value, all equal (one row)")
    types: dict[str, ColumnType] = Field(default_factory=dict)

    _table = field_validator("table")(_check_table)

    @model_validator(mode="after")
    def _names(self) -> SqlUpdate:
        if not self.set or not self.where:
            raise ValueError("an update needs `set` and `where`")
        for name in [*self.set, *self.where, *self.types]:
            _check_alias(name)
        return self


class SqlWrite(Strict):
    """One action: an optional ``update``, then the ``insert`` statements in order, all in
    one transaction with bound parameters. The written id is the first insert's
    ``returning`` value (creating actions) or the ``id`` value (a transition)."""

    update: SqlUpdate | None = None
    insert: list[SqlInsert] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> SqlWrite:
        if self.update is None and not self.insert:
            raise ValueError("a write needs an `update` or an `insert`")
        return self

    def statements(self) -> list[SqlInsert | SqlUpdate]:
        return [*([self.update] if self.update is not None else []), *self.insert]


class SqlCountJoin(Strict):
    """A table joined for counting only, so that a dimension can read a related record's
    column (an application's candidate's commune, its programme's ROME codes).

    **Many-to-one only**: each counted row must meet at most one row of it, so join it on its
    key (``k.id = a.candidat_id``); a table holding several rows per record (a history) would
    count the record once per row, which nothing here can detect: that is the declaration's
    promise. Always a ``LEFT`` join: a record without a related row still counts, its
    dimension None."""

    table: str = Field(description="joined table, `name` or `schema.name`")
    alias: str = Field(description="how column references name this table")
    on: str = Field(description="`alias.column = alias.column`, several joined by `and`")

    _table = field_validator("table")(_check_table)
    _alias = field_validator("alias")(_check_alias)

    @field_validator("on")
    @classmethod
    def _on(cls, value: str) -> str:
        join_conditions(value)
        return value


class SqlCountDimension(Strict):
    """A dimension's column with the owner's own value map, for a related record's value the
    entity's mapping does not read (cfa-hotellerie's ``"Niveau 3"`` is level ``"3"``). The
    map is applied after the dimension's derivation; a value it does not list makes the
    count ``SOURCE_BAD_RESPONSE``."""

    column: str = Field(description="`alias.column` it is read from")
    values: dict[str, str] | None = Field(
        None, description="owner value -> common value (a related record's dimension only)"
    )

    _column = field_validator("column")(_check_column)


class SqlCountHistory(Strict):
    """Where the entity's steps are, for a dimension measured to the first step reaching a
    status (``days_to_placement``): ``join`` names one of the entity's own ``joins`` (the
    history table, one row per step), read in a correlated subquery, ``min(at)`` of the steps
    whose ``status`` is an owner value of the status reached (through the mapping of
    ``history.status``): one value per record, never a row per step."""

    join: str = Field(description="alias of the entity's join holding one row per step")
    status: str = Field(description="`alias.column` of a step's status")
    at: str = Field(description="`alias.column` of a step's instant")

    _status = field_validator("status")(_check_column)
    _at = field_validator("at")(_check_column)


class SqlAggregates(Strict):
    """What the database counts itself for the observatory (:mod:`adapters.sql_counting`).

    One statement per count: ``SELECT <dimensions>, COUNT(*), SUM(<sum>), SUM(<record key>)
    FROM <main table> LEFT JOIN <joins> WHERE <filters, period> GROUP BY <dimensions>``, every
    value bound. The record key, period and sums are the main table's columns; a dimension's
    column is the main table's or one of ``joins`` (many-to-one, see :class:`SqlCountJoin`),
    never one of the entity's own ``joins`` (they may hold several rows per record). A
    dimension names the column it reads; the adapter derives it as the dimension says (the
    first characters of a commune code for ``departement``, ``YYYY-MM`` for ``month``) and
    reads a group's value through the entity's mapping of the dimension's field (its
    ``values`` map), or, for a dimension read from a related record, through its own
    ``values``. A dimension whose field the mapping gives as a constant needs no column.
    Every declared dimension also filters. Example::

        [partners.cfa-btp.entities.application.aggregates]
        record_key = "a.cle_ons"     # each row's ONS record key, assigned once and stored
        period = "a.cree_le"         # typed `date` or `datetime` in `columns`
        periods = { session = "a.session" }   # another date a count may select by (typed too)
        joins = [{ table = "formations", alias = "f", on = "f.id_formation = a.formation_id" }]
        dimensions = { status = "a.statut", month = "a.cree_le", level = "f.niveau_eu" }
        columns = { "f.niveau_eu" = "int" }   # a joined column's type, for bound values
        history = { join = "h", status = "h.statut", at = "h.le" }   # days_to_placement
    """

    record_key: str | None = Field(
        None, description="`alias.column` of each record's ONS record key (0..2^32-1)"
    )
    period: str | None = Field(
        None,
        description="`alias.column` of the entity's default period date (PERIOD_FIELDS, see "
        "adapters.counting)",
    )
    periods: dict[str, str] = Field(
        default_factory=dict,
        description="another date a count may select by (DATED_BY) -> `alias.column` "
        "(an application's `session`)",
    )
    joins: list[SqlCountJoin] = Field(
        default_factory=list, description="tables joined for counting only (many-to-one)"
    )
    dimensions: dict[str, str | SqlCountDimension] = Field(
        default_factory=dict, description="dimension -> `alias.column` it is read from"
    )
    history: SqlCountHistory | None = Field(
        None, description="the entity's steps, for a dimension measured to a status reached"
    )
    columns: dict[str, ColumnType] = Field(
        default_factory=dict,
        description="type of a column of `joins`, for the values bound to it (as the "
        "entity's `columns`)",
    )
    sums: dict[str, str] = Field(
        default_factory=dict, description="summed common field -> `alias.column`"
    )

    def column(self, name: str) -> str:
        """The column a declared dimension reads."""
        declared = self.dimensions[name]
        return declared if isinstance(declared, str) else declared.column

    def own_values(self, name: str) -> dict[str, str] | None:
        declared = self.dimensions[name]
        return None if isinstance(declared, str) else declared.values

    def period_column(self, entity: str, period_field: str | None) -> str | None:
        """The column a count's period selects by, for ``period_field`` (None: undeclared,
        so the database does not answer a count dated by it)."""
        if period_field is not None and period_field in self.periods:
            return self.periods[period_field]
        return self.period if period_field == PERIOD_FIELDS.get(entity) else None

    def column_refs(self) -> list[str]:
        refs = [*(self.column(name) for name in self.dimensions), *self.sums.values()]
        refs.extend(ref for ref in (self.record_key, self.period) if ref is not None)
        refs.extend(self.periods.values())
        for join in self.joins:
            for left, right in join_conditions(join.on):
                refs.extend((left, right))
        return refs

    def aliases(self) -> list[str]:
        return [join.alias for join in self.joins]


class SqlEntity(EntityMapping):
    """One entity read from one table, its joins, and the mapping of its columns."""

    table: str = Field(description="main table, `name` or `schema.name`")
    alias: str | None = Field(None, description="alias of the main table; default: its name")
    joins: list[SqlJoin] = Field(default_factory=list)
    key: list[str] | None = Field(
        None, description="keyset columns, unique per record and never null; default: `id`"
    )
    columns: dict[str, ColumnType] = Field(
        default_factory=dict, description="type of a column, for the values bound against it"
    )
    filters: dict[str, SqlFilter] = Field(default_factory=dict)
    lookups: dict[str, str] = Field(
        default_factory=dict, description="look-up key -> `alias.column` (`id` is implicit)"
    )
    group_by_id: bool = Field(False, description="fold the rows of one id into one record")
    rows_into: str | None = Field(
        None, description="with `group_by_id`: raw key of the list of folded rows"
    )
    page_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    writes: dict[str, SqlWrite] = Field(
        default_factory=dict, description="action -> its statements (adapters.writes)"
    )
    aggregates: SqlAggregates | None = Field(
        None, description="what the database counts itself (adapters.sql_counting)"
    )

    _table = field_validator("table")(_check_table)

    @field_validator("alias")
    @classmethod
    def _alias(cls, value: str | None) -> str | None:
        return None if value is None else _check_alias(value)

    @property
    def main_alias(self) -> str:
        return self.alias or self.table.rsplit(".", 1)[-1]

    @property
    def key_columns(self) -> list[str]:
        return self.key or [self.id]

    def aliases(self) -> list[str]:
        return [self.main_alias, *(join.alias for join in self.joins)]

    def rows_field(self) -> FieldSpec | None:
        """The list field whose elements are the folded rows."""
        for spec in self.fields.values():
            if isinstance(spec, FieldSpec) and spec.each and spec.path == self.rows_into:
                return spec
        return None

    @model_validator(mode="after")
    def _references(self) -> SqlEntity:
        aliases = self.aliases()
        if len(set(aliases)) != len(aliases):
            raise ValueError("aliases must differ from one another")
        seen = {self.main_alias}
        for join in self.joins:
            seen.add(join.alias)
            for left, right in join_conditions(join.on):
                for ref in (left, right):
                    if ref.split(".")[0] not in seen:
                        raise ValueError(f"join `{join.alias}`: `on` names an alias not yet joined")
        if self.rows_into is not None:
            _check_alias(self.rows_into)
            if self.rows_into in aliases:
                raise ValueError("`rows_into` must differ from every alias")
        if self.group_by_id != (self.rows_into is not None):
            raise ValueError("`group_by_id` and `rows_into` go together")
        for ref in self._column_refs():
            _check_column(ref)
            if ref.split(".")[0] not in aliases:
                raise ValueError(f"`{ref}` names an unknown alias")
        return self

    def counting_aliases(self) -> list[str]:
        """The aliases a count reads: the main table's and its ``aggregates.joins``."""
        joined = [] if self.aggregates is None else self.aggregates.aliases()
        return [self.main_alias, *joined]

    def _column_refs(self) -> list[str]:
        refs = [self.id, *self.key_columns, *self.columns, *self.lookups.values()]
        for pushdown in self.filters.values():
            refs.extend(pushdown.column_refs())
        for name, spec in self.fields.items():
            refs.extend(self._field_refs(name, spec, top=True))
        return refs

    def _field_refs(self, name: str, spec: str | FieldSpec, top: bool) -> list[str]:
        if isinstance(spec, str):
            return [spec]
        if spec.each:
            if not (top and self.rows_into is not None and spec.path == self.rows_into):
                raise ValueError(f"`{name}`: a list of objects reads `rows_into` rows")
            refs: list[str] = []
            for sub, sub_spec in spec.each.items():
                refs.extend(self._field_refs(f"{name}.{sub}", sub_spec, top=False))
            return refs
        return [] if spec.path is None else [spec.path]

    def field_columns(self) -> list[str]:
        """Every column the mapping reads, in a stable order (the `rows_into` key excluded)."""
        refs: list[str] = []
        for name, spec in self.fields.items():
            for ref in self._field_refs(name, spec, top=True):
                if ref not in refs:
                    refs.append(ref)
        return refs

    def row_columns(self) -> list[str]:
        """With grouping: the columns of the folded rows (the `each` mappings)."""
        spec = self.rows_field()
        if spec is None or spec.each is None:
            return []
        refs: list[str] = []
        for sub, sub_spec in spec.each.items():
            for ref in self._field_refs(sub, sub_spec, top=False):
                if ref not in refs:
                    refs.append(ref)
        return refs


class SqlPartner(PartnerBase):
    kind: Literal["sql"]
    dsn: EnvSecret = Field(description="SQLAlchemy async URL, from the environment")
    db_schema: str | None = Field(
        None,
        description="schema of unqualified tables on servers with schemas (PostgreSQL); "
        "SQLite has none and ignores it",
    )
    pool_size: Annotated[int, Field(ge=1, le=100)] = 5
    entities: dict[str, SqlEntity]

    @field_validator("db_schema")
    @classmethod
    def _schema(cls, value: str | None) -> str | None:
        return None if value is None else _check_alias(value)

    @model_validator(mode="after")
    def _known_names(self) -> SqlPartner:
        for entity, mapping in self.entities.items():
            known_filters = FILTERS.get(entity)
            if known_filters is not None:
                for name in mapping.filters:
                    if name not in known_filters:
                        raise ValueError(f"{entity}: `{name}` is not a common filter")
            known_keys = LOOKUP_KEYS.get(entity)
            if known_keys is not None:
                for key in mapping.lookups:
                    if key not in known_keys:
                        raise ValueError(f"{entity}: `{key}` is not a look-up key")
        problems = [
            InitErrorDetails(
                type=PydanticCustomError("write", message, {"hint": hint}), loc=loc, input=None
            )
            for entity, mapping in self.entities.items()
            for loc, message, hint in [
                *_write_problems(entity, mapping),
                *_aggregate_problems(entity, mapping),
            ]
        ]
        if problems:
            raise ValidationError.from_exception_data("SqlPartner", problems)
        return self

    def entity_mappings(self) -> dict[str, EntityMapping]:
        return dict(self.entities)


def _aggregate_problems(
    entity: str, mapping: SqlEntity
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """What an ``aggregates`` block cannot count, each at its own key."""
    aggregates = mapping.aggregates
    if aggregates is None:
        return []
    where: tuple[str | int, ...] = ("entities", entity, "aggregates")
    if entity not in DIMENSIONS:
        return [(where, f"{entity} is not counted", f"counted: {', '.join(DIMENSIONS)}")]
    found = _count_join_problems(where, mapping, aggregates)
    main = mapping.main_alias
    for loc, ref in [
        *(
            ((*where, key), ref)
            for key, ref in (("record_key", aggregates.record_key), ("period", aggregates.period))
            if ref
        ),
        *(((*where, "periods", name), ref) for name, ref in aggregates.periods.items()),
        *(((*where, "sums", name), ref) for name, ref in aggregates.sums.items()),
    ]:
        if ref.split(".")[0] != main:
            found.append(
                (
                    loc,
                    f"`{ref}` is not a column of the main table `{main}`",
                    "a joined table may hold several rows per record: count the main table",
                )
            )
    counted = mapping.counting_aliases()
    for ref in aggregates.columns:
        if not _COLUMN_REF.match(ref) or ref.split(".")[0] not in counted[1:]:
            found.append(
                (
                    (*where, "columns", ref),
                    f"`{ref}` is not a column of `aggregates.joins`",
                    "the main table's column types are the entity's `columns`",
                )
            )
    for name in aggregates.dimensions:
        loc = (*where, "dimensions", name)
        ref = aggregates.column(name)
        alias = ref.split(".")[0]
        if alias not in counted:
            known = alias in mapping.aliases()
            found.append(
                (
                    loc,
                    f"`{ref}` is not a column of the main table `{main}` or of `aggregates.joins`"
                    if known
                    else f"`{ref}` names an unknown alias",
                    "the entity's joins may hold several rows per record: join a related "
                    "table in `aggregates.joins`, many-to-one"
                    if known
                    else f"aliases a count reads: {', '.join(counted)}",
                )
            )
        problem = dimension_problem(entity, name, mapping)
        if problem is not None:
            found.append((loc, problem, ""))
            continue
        dimension = DIMENSIONS[entity][name]
        if aggregates.own_values(name) is not None and not dimension.pushed_only:
            found.append(
                (
                    loc,
                    f"`{name}` reads {dimension.field} through the entity's mapping: "
                    "no `values` of its own",
                    "`values` is for a dimension read from a related record",
                )
            )
        if dimension.days_to is not None:
            found.extend(_history_problems(where, mapping, name, ref))
    found.extend(_period_problems(where, entity, mapping, aggregates))
    for name in aggregates.sums:
        if name not in SUM_FIELDS.get(entity, frozenset()):
            found.append(((*where, "sums", name), f"{entity} counts sum no `{name}`", ""))
    return found


def _period_problems(
    where: tuple[str | int, ...], entity: str, mapping: SqlEntity, aggregates: SqlAggregates
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Period columns: for a date the entity is dated by, each once, typed as a date."""
    found: list[tuple[tuple[str | int, ...], str, str]] = []
    dated_by = DATED_BY.get(entity, ())
    declared: list[tuple[tuple[str | int, ...], str]] = []
    if aggregates.period is not None:
        if entity not in PERIOD_FIELDS:
            found.append(((*where, "period"), f"{entity} has no period date", "remove it"))
        else:
            declared.append(((*where, "period"), aggregates.period))
    for name, ref in aggregates.periods.items():
        loc = (*where, "periods", name)
        if name not in dated_by:
            found.append(
                (
                    loc,
                    f"{entity} is not dated by `{name}`",
                    f"dated by: {', '.join(dated_by)}" if dated_by else "remove it",
                )
            )
        elif aggregates.period is not None and name == PERIOD_FIELDS[entity]:
            found.append((loc, f"`{name}` is the default period: `period` declares it", ""))
        else:
            declared.append((loc, ref))
    for loc, ref in declared:
        if mapping.columns.get(ref) not in ("date", "datetime"):
            found.append(
                (
                    loc,
                    "the period column's type is not declared",
                    f'columns = {{ "{ref}" = "date" }} (or "datetime")',
                )
            )
    return found


def _count_join_problems(
    where: tuple[str | int, ...], mapping: SqlEntity, aggregates: SqlAggregates
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Joins for counting: new aliases, each ``on`` naming itself and what is joined before."""
    found: list[tuple[tuple[str | int, ...], str, str]] = []
    seen = [mapping.main_alias]
    for index, join in enumerate(aggregates.joins):
        loc = (*where, "joins", index)
        if join.alias in mapping.aliases() or join.alias in seen:
            found.append(
                ((*loc, "alias"), f"alias `{join.alias}` is already taken", "choose another")
            )
        named = {ref.split(".")[0] for pair in join_conditions(join.on) for ref in pair}
        others = named - {join.alias}
        if join.alias not in named or not others or not others <= set(seen):
            found.append(
                (
                    (*loc, "on"),
                    f"join `{join.alias}`: `on` must equate its columns with those of the main "
                    "table or of a join before it",
                    f'on = "{join.alias}.id = {mapping.main_alias}.<its id column>"',
                )
            )
        seen.append(join.alias)
    return found


def _history_problems(
    where: tuple[str | int, ...], mapping: SqlEntity, name: str, ref: str
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """A dimension measured to a status reached needs the steps, and a typed start column."""
    found: list[tuple[tuple[str | int, ...], str, str]] = []
    history = mapping.aggregates.history if mapping.aggregates is not None else None
    if mapping.columns.get(ref) not in ("date", "datetime"):
        found.append(
            (
                (*where, "dimensions", name),
                f"`{name}` counts days from `{ref}`, whose type is not declared",
                f'columns = {{ "{ref}" = "datetime" }} (or "date")',
            )
        )
    if history is None:
        found.append(
            (
                (*where, "dimensions", name),
                f"`{name}` counts days to a step: declare where the steps are",
                'history = { join = "<alias of the steps>", status = "...", at = "..." }',
            )
        )
        return found
    if history.join not in (join.alias for join in mapping.joins):
        found.append(
            ((*where, "history", "join"), f"`{history.join}` is not one of the entity's joins", "")
        )
    for key, column in (("status", history.status), ("at", history.at)):
        if column.split(".")[0] != history.join:
            found.append(
                ((*where, "history", key), f"`{column}` is not a column of `{history.join}`", "")
            )
    steps = mapping.fields.get(HISTORY)
    each = steps.each if isinstance(steps, FieldSpec) else None
    if each is None or "status" not in each:
        found.append(
            (
                (*where, "history"),
                f"the mapping has no `{HISTORY}.status` to read the steps' statuses through",
                "",
            )
        )
    return found


def _write_problems(
    entity: str, mapping: SqlEntity
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Write blocks naming an unknown action, or values the action does not have, each at
    its own key (so check-config points at the line)."""
    found: list[tuple[tuple[str | int, ...], str, str]] = []
    for action, write in mapping.writes.items():
        where: tuple[str | int, ...] = ("entities", entity, "writes", action)
        problem = action_problem(entity, action)
        if problem is not None:
            found.append((where, problem, "application: submit, transition; follow_up: record"))
            continue
        if action in CREATING and (not write.insert or write.insert[0].returning is None):
            found.append(
                (
                    where,
                    f"`{action}` creates a record: its first insert needs `returning`",
                    'returning = "<the new row\'s id column>"',
                )
            )
        if action not in CREATING and write.update is None:
            found.append((where, f"`{action}` changes a record: it needs an `update`", ""))
        hint = value_hint(entity, action, sql=True)
        returned: set[str] = set()
        # (location, values, what the statement returns): a value may read what an earlier
        # statement returned, never a later one.
        steps: list[tuple[tuple[str | int, ...], dict[str, WriteValue], str | None]] = []
        if write.update is not None:
            update = (*where, "update")
            steps.append(((*update, "set"), write.update.set, None))
            steps.append(((*update, "where"), write.update.where, None))
        for index, insert in enumerate(write.insert):
            steps.append(((*where, "insert", index, "values"), insert.values, insert.returning))
        for loc, values, returning in steps:
            for column, value in values.items():
                message = value_problems(entity, action, value, frozenset(returned))
                if message is not None:
                    found.append(((*loc, column), message, hint))
            if returning is not None:
                returned.add(returning)
    return found
