"""The extract's progress on stderr: a bar on a terminal, a line per table otherwise.

On a terminal one line is redrawn in place (``\\r``) as each table starts and ends: the tables
done out of the grid, the cells written, the partners asked and the calls made to them, and the
time left (the mean time of the tables computed in this run, times the tables still to do).
Written to a file or a pipe (a CI log, ``2> extract.log``) the bar would be thousands of
carriage returns: there is one plain line per table instead. Neither ever shows a cell's value.

No dependency: ``rich`` is on this machine as a test tool's dependency (import-linter), not as
the gateway's, and a production install would not have it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Final, TextIO

__all__ = ["Progress", "TableDone"]

BAR_WIDTH: Final = 24


@dataclass(frozen=True, slots=True)
class TableDone:
    """What the progress says of one table: never its values."""

    name: str  # INDICATOR by grouping
    cells: int
    suppressed: int
    failed_partners: int
    seconds: float
    skipped: bool = False  # done by an earlier run of the same extract
    error: str | None = None  # the table could not be computed: why


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class Progress:
    """Counts what the extract did and draws it on ``stream``."""

    stream: TextIO
    total: int
    interactive: bool
    partners: set[str] = field(default_factory=set)
    calls: int = 0
    done: int = 0
    cells: int = 0
    computed: int = 0
    computed_seconds: float = 0.0
    _current: str = ""

    @classmethod
    def on(cls, stream: TextIO, total: int) -> Progress:
        return cls(stream, total, interactive=stream.isatty())

    def starting(self, name: str) -> None:
        self._current = name
        if self.interactive:
            self._draw()

    def finished(self, table: TableDone, partners: set[str], calls: int) -> None:
        self.done += 1
        self.cells += table.cells
        self.partners |= partners
        self.calls = calls
        if not table.skipped:
            self.computed += 1
            self.computed_seconds += table.seconds
        if self.interactive:
            self._draw()
        else:
            self._line(table)

    def time_left(self) -> float | None:
        if not self.computed:
            return None
        return self.computed_seconds / self.computed * (self.total - self.done)

    def close(self) -> None:
        if self.interactive:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _summary(self) -> str:
        left = self.time_left()
        return (
            f"{self.done}/{self.total} tables · {self.cells:,} cells · "
            f"{len(self.partners)} partners asked · {self.calls:,} calls · "
            + (f"{_clock(left)} left" if left is not None else "estimating")
        )

    def _draw(self) -> None:
        filled = BAR_WIDTH * self.done // max(1, self.total)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        current = f" · {self._current}" if self._current and self.done < self.total else ""
        line = f"extract [{bar}] {self._summary()}{current}"
        # One column short of the terminal's width: a line that wraps cannot be redrawn by \r.
        width = shutil.get_terminal_size((120, 24)).columns - 1
        self.stream.write("\r" + line[:width].ljust(width))
        self.stream.flush()

    def _line(self, table: TableDone) -> None:
        if table.skipped:
            what = "done by the earlier run"
        elif table.error is not None:
            what = f"NOT COMPUTED: {table.error}"
        else:
            failed = (
                f", {table.failed_partners} partner{'s' if table.failed_partners > 1 else ''} "
                "failed"
                if table.failed_partners
                else ""
            )
            what = (
                f"{table.cells} cells ({table.suppressed} suppressed){failed}, "
                f"{table.seconds:.2f} s"
            )
        self.stream.write(f"extract: {self.done}/{self.total} {table.name}: {what}\n")
        self.stream.flush()
