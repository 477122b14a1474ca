"""SQL writes: the statements of a ``writes.<action>`` block, in one transaction.

Built from SQLAlchemy constructs (never text): table and column names come from the validated
block (identifiers, quoted by SQLAlchemy), every value is a bound parameter. Each value is
resolved and converted to its column's type (``types``) *before* the connection is opened, so
a value the partner has no code for, or one its column cannot hold, is refused with nothing
sent. Then, in one transaction: the ``update`` (it must match exactly one row), then each
``insert`` in order (``returning`` feeds ``returned.<column>`` of the next ones); any failure
rolls everything back.

Outcomes: a refused value or constraint (unique, not null, foreign key, too long) is
:class:`~adapters.errors.WriteRejected`; no connection or a failure before the commit is the
usual :class:`~adapters.errors.SourceError` (nothing was applied: the transaction never
committed); a failure or a deadline *during* the commit is :class:`~adapters.errors.OutcomeUnknown`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Column, MetaData, Table, insert, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import Boolean, Date, DateTime, Float, Integer, String, TypeEngine

from adapters import deadline
from adapters.errors import (
    OutcomeUnknown,
    SourceBadResponse,
    SourceTimeout,
    SourceUnavailable,
    WriteRejected,
)
from adapters.sql_config import ColumnType, SqlInsert, SqlPartner, SqlUpdate, SqlWrite
from adapters.sql_values import convert
from adapters.writes import DeclaredWrites, Deferred, WriteInput, Written

WRITE_MARGIN_S = 0.05
"""How much sooner than the enclosing deadline a write gives up: its own timeout must fire
first, so that a commit cut short is reported as an unknown outcome, not as a plain timeout."""

_DECLARED: dict[ColumnType, TypeEngine[Any]] = {
    "str": String(),
    "int": Integer(),
    "float": Float(),
    "bool": Boolean(),
    "date": Date(),
    "datetime": DateTime(timezone=True),
}

Phase = Literal["statements", "commit"]


@dataclass(slots=True)
class _Step:
    """One statement with its values resolved (``Deferred`` until the transaction runs)."""

    kind: Literal["insert", "update"]
    table: str
    types: Mapping[str, ColumnType]
    values: dict[str, Any]
    where: dict[str, Any] = field(default_factory=dict)
    returning: str | None = None


def write_budget(deadline_s: float) -> float:
    """The time a write may take: the partner's deadline, or less when the enclosing scope
    (the source registry's) ends sooner, minus a margin so that this timeout fires first."""
    left = deadline.remaining()
    if left is None:
        return deadline_s
    return min(deadline_s, left - WRITE_MARGIN_S)


class SqlWriter(DeclaredWrites[SqlWrite]):
    """The writes of one SQL partner; its :class:`~adapters.sql.SqlAdapter` delegates here."""

    def __init__(self, partner: str, config: SqlPartner, engine: Callable[[], AsyncEngine]):
        super().__init__(partner, config.entities)
        self.config = config
        self._engine = engine
        self.statements = 0  # statements sent (tests count them)

    async def write(
        self, entity: str, action: str, values: Mapping[str, Any], client_reference: str
    ) -> Written:
        spec, given, target = self.inputs(entity, action, values, client_reference)
        steps = [self._prepare(statement, given) for statement in spec.statements()]
        budget = write_budget(self.config.deadline_s)
        if budget <= 0:
            raise SourceTimeout(self.partner, "no time left for the write; nothing sent")
        phase: list[Phase] = ["statements"]
        try:
            async with asyncio.timeout(budget):
                created = await self._run(steps, phase)
        except TimeoutError:
            if phase[0] == "commit":
                raise OutcomeUnknown(self.partner, "no answer to the commit in time") from None
            raise SourceTimeout(self.partner, "no answer in time; rolled back") from None
        partner_id = target if target is not None else created
        if partner_id is None:
            raise SourceBadResponse(self.partner, "the insert returned no id")
        return Written(str(partner_id))

    # -- preparation: everything a client can get wrong is found here, before any SQL -------

    def _prepare(self, statement: SqlInsert | SqlUpdate, given: WriteInput) -> _Step:
        def resolved(values: Mapping[str, Any]) -> dict[str, Any]:
            return {
                column: self._typed(column, given.resolve(value), statement.types)
                for column, value in values.items()
            }

        if isinstance(statement, SqlUpdate):
            return _Step(
                "update",
                statement.table,
                statement.types,
                resolved(statement.set),
                where=resolved(statement.where),
            )
        return _Step(
            "insert",
            statement.table,
            statement.types,
            resolved(statement.values),
            returning=statement.returning,
        )

    def _typed(self, column: str, value: Any, types: Mapping[str, ColumnType]) -> Any:
        kind = types.get(column)
        if value is None or isinstance(value, Deferred) or kind is None:
            return value
        if isinstance(value, datetime) and kind == "datetime":
            return value  # "now": already an aware UTC instant
        try:
            return convert(value, kind)
        except ValueError:
            # The column's name is the partners file's; the value stays out of the message.
            raise WriteRejected(self.partner, f"{column}: not a value this column takes") from None

    # -- the transaction -------------------------------------------------------------------

    async def _run(self, steps: list[_Step], phase: list[Phase]) -> Any:
        try:
            connection = await self._engine().connect()
        except (SQLAlchemyError, OSError) as error:
            raise SourceUnavailable(self.partner, _failure("connection failed", error)) from None
        try:
            transaction = await connection.begin()
            returned: dict[str, Any] = {}
            first: Any = None
            try:
                for step in steps:
                    value = await self._execute(connection, step, returned)
                    if first is None and step.kind == "insert":
                        first = value  # a creating action's written id
            except BaseException:
                # A lost connection cannot roll back; the server drops the transaction anyway,
                # and the failure to report is the statement's, not the rollback's.
                with contextlib.suppress(SQLAlchemyError, OSError):
                    await transaction.rollback()
                raise
            phase[0] = "commit"
            try:
                await transaction.commit()
            except IntegrityError as error:  # a deferred constraint: refused, rolled back
                raise WriteRejected(self.partner, _failure("values refused", error)) from None
            except (SQLAlchemyError, OSError) as error:
                unconfirmed = _failure("commit not confirmed", error)
                raise OutcomeUnknown(self.partner, unconfirmed) from None
            return first
        finally:
            await connection.close()

    async def _execute(
        self, connection: AsyncConnection, step: _Step, returned: dict[str, Any]
    ) -> Any:
        """Run one statement; returns its ``returning`` value (an insert's)."""

        def bound(values: Mapping[str, Any]) -> dict[str, Any]:
            out = {}
            for column, value in values.items():
                if isinstance(value, Deferred):
                    value = self._typed(column, returned.get(value.column), step.types)
                out[column] = value
            return out

        values, where = bound(step.values), bound(step.where)
        names = [*values, *where, *([step.returning] if step.returning else [])]
        table = _table(step.table, names, {**values, **where}, step.types)
        if step.kind == "update":
            statement: Any = (
                update(table)
                .where(*(table.c[column] == v for column, v in where.items()))
                .values(**values)
            )
        else:
            statement = insert(table).values(**values)
            if step.returning is not None:
                statement = statement.returning(table.c[step.returning])
        self.statements += 1
        try:
            result = await connection.execute(statement)
        except (IntegrityError, DataError) as error:
            raise WriteRejected(self.partner, _failure("values refused", error)) from None
        except DBAPIError as error:
            if error.connection_invalidated:
                raise SourceUnavailable(self.partner, _failure("connection lost", error)) from None
            raise SourceBadResponse(self.partner, _failure("statement refused", error)) from None
        except OSError as error:
            raise SourceUnavailable(self.partner, _failure("connection lost", error)) from None
        except SQLAlchemyError as error:
            raise SourceBadResponse(self.partner, _failure("statement failed", error)) from None
        if step.kind == "update":
            if result.rowcount != 1:  # none: not found; several: the `where` is not a key
                raise WriteRejected(self.partner, "no single record to change", not_found=True)
            return None
        if step.returning is None:
            return None
        new_value: Any = result.scalar_one()
        returned[step.returning] = new_value
        return new_value


def _table(
    qualified: str, names: list[str], values: Mapping[str, Any], types: Mapping[str, ColumnType]
) -> Table:
    """The table with the columns this statement names, typed so that each value binds as
    the driver expects (a date as a date, the instant of ``now`` with its zone)."""
    schema, _, name = qualified.rpartition(".")
    columns = [Column(n, _column_type(values.get(n), types.get(n))) for n in dict.fromkeys(names)]
    return Table(name, MetaData(), *columns, schema=schema or None)


def _column_type(value: Any, declared: ColumnType | None) -> TypeEngine[Any]:
    if declared is not None:
        return _DECLARED[declared]
    if isinstance(value, datetime):
        return DateTime(timezone=True)
    if isinstance(value, date):
        return Date()
    if isinstance(value, bool):
        return Boolean()
    if isinstance(value, int):
        return Integer()
    if isinstance(value, float):
        return Float()
    return String()


def _failure(what: str, error: BaseException) -> str:
    """``what`` and the driver's error class: its message may quote values, so it stays out."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    return f"{what} ({type(cause).__name__})"
