"""The application lifecycle the hub enforces (reference/lifecycle.py)."""

from __future__ import annotations

import itertools

from reference import lifecycle


def test_the_main_path_runs_from_draft_to_placed() -> None:
    for here, there in itertools.pairwise(lifecycle.MAIN_PATH):
        assert lifecycle.allows(here, there)
    assert lifecycle.MAIN_PATH[0] == "DRAFT" and lifecycle.MAIN_PATH[-1] == "PLACED"


def test_no_step_skips_ahead_goes_back_or_leaves_a_terminal_state() -> None:
    assert not lifecycle.allows("SUBMITTED", "PLACED")
    assert not lifecycle.allows("ADMITTED", "SUBMITTED")
    assert not lifecycle.allows("PLACED", "WITHDRAWN")
    for terminal in lifecycle.TERMINAL:
        assert lifecycle.TRANSITIONS[terminal] == frozenset()
    assert not lifecycle.allows("NOT_A_STATUS", "SUBMITTED")


def test_side_exits_leave_only_from_where_they_mean_something() -> None:
    assert lifecycle.allows("UNDER_REVIEW", "REJECTED_BY_CFA")
    assert not lifecycle.allows("INTERVIEW", "REJECTED_BY_CFA")
    assert lifecycle.allows("INTERVIEW", "REJECTED_BY_EMPLOYER")
    assert lifecycle.allows("CONTRACT_DRAFTED", "WITHDRAWN")
    assert not lifecycle.allows("CONTRACT_SIGNED", "WITHDRAWN")


def test_every_status_of_the_common_syntax_is_in_the_graph() -> None:
    from adapters.syntax import APPLICATION_STATUSES

    assert set(lifecycle.STATUSES) == set(APPLICATION_STATUSES.split())
