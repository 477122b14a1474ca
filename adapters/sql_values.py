"""SQL values both ways: a common-syntax value bound as a column's Python type
(:func:`convert`), and a driver's value read back as a JSON-native one (:func:`plain`)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from adapters.sql_config import ColumnType

_TRUE = {"true", "1", "yes", "oui", "o", "y", "vrai"}
_FALSE = {"false", "0", "no", "non", "n", "faux"}


def plain(value: Any) -> Any:
    """Driver values the mapper does not take, as JSON-native ones (dates stay: it takes them)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def convert(value: Any, kind: ColumnType) -> Any:
    """``value`` as a Python value of the column's type; ``ValueError`` when it cannot be."""
    try:
        return _convert_or_fail(value, kind)
    except TypeError:
        raise ValueError("not a value of this type") from None


def _convert_or_fail(value: Any, kind: ColumnType) -> Any:
    if kind == "str":
        return value if isinstance(value, str) else str(value)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError("not an integer")
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not text.lstrip("-").isdigit():
            raise ValueError("not an integer")
        return int(text)
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError("not a number")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("not a boolean")
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    instant = (
        value
        if isinstance(value, datetime)
        else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    if instant.tzinfo is not None:  # compared with a naive column: UTC wall time
        instant = instant.astimezone(UTC).replace(tzinfo=None)
    return instant
