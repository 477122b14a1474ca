"""The production logging configuration, installed for one test and taken down after it.

``json_logging()`` applies :func:`gateway.logs.configure` (the root JSON handler on stderr), so a
test reading ``capfd`` sees exactly the lines a deployed gateway would write; the loggers'
previous handlers and levels (pytest's own capture) are restored on exit.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

from gateway.logs import configure, log_config


@contextlib.contextmanager
def json_logging(level: str = "DEBUG") -> Iterator[None]:
    names = ["", *log_config()["loggers"]]
    saved = {}
    for name in names:
        logger = logging.getLogger(name or None)
        saved[name] = (logger.handlers[:], logger.level, logger.propagate, logger.disabled)
    configure(level)
    try:
        yield
    finally:
        for name, (handlers, level_no, propagate, disabled) in saved.items():
            logger = logging.getLogger(name or None)
            for handler in logger.handlers:
                if handler not in handlers:
                    handler.close()
            logger.handlers[:] = handlers
            logger.setLevel(level_no)
            logger.propagate = propagate
            logger.disabled = disabled


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` as JSON: a line that is not JSON fails the test."""
    lines = []
    for line in text.splitlines():
        if line.strip():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                raise AssertionError(f"a log line is not JSON: {line[:200]!r}") from None
    return lines
