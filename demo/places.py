"""The places left on each session of the programmes, as the demo's people take them.

A session holds at most its capacity of apprentices: every application with a contract
(signed, deposited or placed, :data:`demo.lifecycle.CONTRACT_STAGES`) holds one place on the
session it is for. The observatory's population (:mod:`demo.population`) takes its places after
the walkthrough's people have taken theirs; an application that finds its session full ends
otherwise (the centre turns it away, or the candidate withdraws), so FILL_RATE, the placed
apprentices of a period's sessions over their places, is never above 1.

Usage::

    places = Places.left(data.programs, walkthrough.applications.values())
    if places.take(program, date(2026, 9, 7)):
        ...  # the place is the application's
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from demo.lifecycle import CONTRACT_STAGES
from demo.person_seeds import ApplicationSeed
from demo.seeds import ProgramSeed


@dataclass(slots=True)
class Places:
    """Places left by (programme key, session start); a session not listed has none."""

    left_on: dict[tuple[str, date], int]

    @classmethod
    def left(
        cls, programs: Iterable[ProgramSeed], taken: Iterable[Iterable[ApplicationSeed]]
    ) -> Places:
        """The sessions' capacities less the places ``taken`` (applications by owner) hold."""
        held = Counter(
            (application.program.key, application.session)
            for applications in taken
            for application in applications
            if application.status in CONTRACT_STAGES
        )
        left_on = {}
        for program in programs:
            for session in program.sessions:
                key = (program.key, session.start)
                left_on[key] = session.capacity - held.pop(key, 0)
                if left_on[key] < 0:
                    raise ValueError(f"{key}: more contracts than places")
        if held:  # a contract on a session its programme does not list
            raise ValueError(f"sessions no programme lists: {sorted(held)}")
        return cls(left_on)

    def has(self, program: ProgramSeed, start: date) -> bool:
        return self.left_on.get((program.key, start), 0) > 0

    def take(self, program: ProgramSeed, start: date) -> bool:
        """Take one place on the session; False (nothing taken) when it is full."""
        if not self.has(program, start):
            return False
        self.left_on[(program.key, start)] -= 1
        return True
