"""`alternance-hub demo` as a subprocess in its own session, with what it printed.

:func:`start_demo` starts the command on free ports and returns once it printed its URL (or
ended); :class:`DemoProcess` reads back the partner ports, the temporary folder and every
process of its session, so a test can check what a signal leaves behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_S = 90
READY = re.compile(r"demo: ready at (http://127\.0\.0\.1:(\d+))/graphql")
PARTNER = re.compile(r"([a-z0-9-]+) :(\d+)")


@dataclass
class DemoProcess:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = field(default=None, repr=False)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    @property
    def url(self) -> str:
        found = READY.search(self.output)
        assert found, self.output
        return found.group(1)

    def partner_ports(self) -> dict[str, int]:
        line = next(line for line in self.lines if line.startswith("demo: partners: "))
        return {name: int(port) for name, port in PARTNER.findall(line)}

    def temporary_folder(self) -> Path:
        found = re.search(r"temporary folder (\S+) \(removed on exit\)", self.output)
        assert found, self.output
        return Path(found.group(1))

    def session(self) -> list[int]:
        """Every live process of the demo's session (it was started as a session leader)."""
        return session_members(self.process.pid)

    def wait(self, timeout_s: float = 20) -> int:
        code = self.process.wait(timeout_s)
        if self.reader is not None:
            self.reader.join(5)
        return code

    def kill(self) -> None:
        """Whatever is left of the session, for a test's clean-up only."""
        for pid in self.session():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        if self.process.stdout:
            self.process.stdout.close()


def session_members(session: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            members.append(int(entry.name))
    return members


def start_demo(arguments: Sequence[str], until: re.Pattern[str] | None = READY) -> DemoProcess:
    """``alternance-hub demo --port 0 --partner-port-base 0 ARGUMENTS`` (SQLite only), once
    it printed a line matching ``until`` (its URL by default; None: at once)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "demo",
            "--port",
            "0",
            "--partner-port-base",
            "0",
            *arguments,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HUB_DEMO_POSTGRES_URL": ""},  # the demo needs no external service
        start_new_session=True,
    )
    demo = DemoProcess(process)
    demo.reader = threading.Thread(target=_read, args=(demo,), daemon=True)
    demo.reader.start()
    deadline = time.monotonic() + STARTUP_S
    while until is not None and not until.search(demo.output):
        if process.poll() is not None or time.monotonic() > deadline:
            demo.kill()
            raise AssertionError(f"the demo did not start:\n{demo.output}")
        time.sleep(0.1)
    return demo


def _read(demo: DemoProcess) -> None:
    assert demo.process.stdout is not None
    for line in demo.process.stdout:
        demo.lines.append(line)
