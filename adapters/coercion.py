"""Coercion of one partner value to its common-syntax type (:mod:`adapters.syntax`).

Every converter raises :class:`MappingError` with a reason and never the value: messages reach
logs, metrics and clients.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from adapters.config import FieldSpec
from adapters.mapping_stats import FieldFailure
from adapters.syntax import FieldType


class MappingError(ValueError):
    """A partner value that does not fit the common syntax (the message carries no value).

    ``field`` is the common-syntax field (``sessions.capacity``), ``path`` the partner path it
    is read from, ``line`` where the partners file maps it (``partners.toml:42``); all three are
    None until the reader that failed says them. ``failures`` lists every field of the record
    that fails, when the record was examined in full.
    """

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        path: str | None = None,
        line: str | None = None,
        failures: tuple[FieldFailure, ...] = (),
    ) -> None:
        self.reason = reason
        self.field = field
        self.path = path
        self.line = line
        self.failures = failures
        super().__init__(self._text())

    def _text(self) -> str:
        if self.field is None:
            return self.reason
        return FieldFailure(self.field, self.path, self.line, self.reason).describe()


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MappingError("expected text")
    return str(value)


def _number_text(value: str, decimal_comma: bool, expected: str) -> float:
    """A number written as text: spaces (thin ones too) as thousands separators, and a decimal
    comma where the partner writes one."""
    text = value.strip().replace("\u202f", "").replace(" ", "")
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise MappingError(f"expected {expected}") from None


def _to_int(value: Any, decimal_comma: bool) -> int:
    if isinstance(value, bool):
        raise MappingError("expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        number = _number_text(value, decimal_comma, "an integer")
        if number.is_integer():
            return int(number)
    raise MappingError("expected an integer")


def _to_float(value: Any, decimal_comma: bool) -> float:
    if isinstance(value, bool):
        raise MappingError("expected a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return _number_text(value, decimal_comma, "a number")
    raise MappingError("expected a number")


_TRUE = {"true", "1", "yes", "oui", "o", "y", "vrai"}
_FALSE = {"false", "0", "no", "non", "n", "faux", ""}


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise MappingError("expected a boolean")


def _parse_datetime(value: Any, fmt: str | None) -> datetime:
    if not isinstance(value, str):
        raise MappingError("expected a date")
    try:
        parsed = (
            datetime.strptime(value, fmt)
            if fmt
            else datetime.fromisoformat(value.replace("Z", "+00:00"))
        )
    except ValueError:
        raise MappingError("expected a date") from None
    return parsed


def to_date(value: Any, fmt: str | None = None) -> str:
    if isinstance(value, datetime):  # a database timestamp read as a day
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return _parse_datetime(value, fmt).date().isoformat()


def to_instant(value: Any, fmt: str | None = None, zone: tzinfo = UTC) -> str:
    """An instant as a UTC ISO string; a time without an offset is read in ``zone`` (the
    partner's ``timezone``), a bare day as its midnight there.

    ``zoneinfo`` gives the offset in force at that moment, so summer and winter times differ
    (Europe/Paris: +02:00 in July, +01:00 in January). A wall time the clock skipped or showed
    twice on a change of time is read with the offset before the change (``fold=0``).
    Drivers hand over ``date`` objects for DATE columns (asyncpg) where others give text
    (SQLite): both mean the same day.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=zone)
    parsed = value if isinstance(value, datetime) else _parse_datetime(value, fmt)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    utc = parsed.astimezone(UTC)
    # Formatted by hand: about twice as fast as strftime, on the hot path of every list.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )


Converter = Callable[[Any], Any]


def scalar_converter(kind: FieldType, spec: FieldSpec, zone: tzinfo = UTC) -> Converter:
    """The function turning one partner value into ``kind`` as ``spec`` says (value map,
    format, decimal comma); it raises :class:`MappingError`, without the value."""
    fmt, comma = spec.format, spec.decimal_comma
    base: Converter
    if kind.scalar == "str":
        base = _to_str
    elif kind.scalar == "int":
        base = lambda v: _to_int(v, comma)  # noqa: E731
    elif kind.scalar == "float":
        base = lambda v: _to_float(v, comma)  # noqa: E731
    elif kind.scalar == "bool":
        base = _to_bool
    elif kind.scalar == "date":
        base = lambda v: to_date(v, fmt)  # noqa: E731
    elif kind.scalar == "datetime":
        base = lambda v: to_instant(v, fmt, zone)  # noqa: E731
    else:
        raise ValueError(f"no scalar converter for {kind.scalar}")
    values, strict, choices = spec.values, spec.strict_values, kind.choices
    if values is None and choices is None:
        return base

    def convert(value: Any) -> Any:
        if values is not None:
            key = value if isinstance(value, str) else str(value)
            if key in values:
                return values[key]
            if strict:
                raise MappingError("value outside the value map")
        out = base(value)
        if choices is not None and out not in choices:
            raise MappingError("value outside the allowed set")
        return out

    return convert
