"""The deadline scope: nested scopes only narrow, and `check` stops loops that never await."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters import deadline


def test_a_nested_scope_never_outlives_the_one_it_is_in() -> None:
    assert deadline.remaining() is None
    with deadline.within(1.0):
        with deadline.within(5.0):
            left = deadline.remaining()
            assert left is not None and left <= 1.0
        with deadline.within(0.2):
            left = deadline.remaining()
            assert left is not None and left <= 0.2
        left = deadline.remaining()
        assert left is not None and 0.9 < left <= 1.0
    assert deadline.remaining() is None


def test_check_raises_once_the_deadline_passed() -> None:
    deadline.check()  # no scope: nothing to check
    with deadline.within(0.05):
        deadline.check()
        time.sleep(0.06)
        with pytest.raises(deadline.DeadlineExceeded):
            deadline.check()


async def test_tasks_started_in_a_scope_inherit_it() -> None:
    async def seen() -> float | None:
        return deadline.remaining()

    with deadline.within(0.5):
        left = await asyncio.create_task(seen())
    assert left is not None and left <= 0.5
    assert await asyncio.create_task(seen()) is None
