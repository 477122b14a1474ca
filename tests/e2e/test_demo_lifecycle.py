"""`alternance-hub demo` is a good citizen: a signal stops everything it started, a busy port
is an error naming the port, and the temporary folder leaves with it."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from collections.abc import Iterator

import pytest

from demo.partner_servers import DEFAULT_PORTS
from tests.e2e.demo_process import READY, DemoProcess, start_demo


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy.getsockname()[1]


@pytest.mark.parametrize(
    ("name", "to_the_group", "when"),
    [
        # what a service manager or `kill` sends to the demo alone
        ("SIGTERM", False, READY),
        # Ctrl-C in a terminal: the whole foreground process group gets it
        ("SIGINT", True, READY),
        # while the partners' process is being spawned and binds its ports
        ("SIGTERM", False, re.compile("starting 9 simulated partners")),
    ],
    ids=["SIGTERM-serving", "SIGINT-to-the-group", "SIGTERM-while-starting"],
)
def test_a_signal_stops_every_partner_and_removes_the_temporary_folder(
    name: str, to_the_group: bool, when: re.Pattern[str]
) -> None:
    demo = start_demo([], until=when)
    try:
        folder = demo.temporary_folder()
        assert folder.is_dir()
        if when is READY:
            assert all(_listening(port) for port in demo.partner_ports().values())
        sent = signal.Signals[name]
        if to_the_group:
            os.killpg(demo.process.pid, sent)
        else:
            demo.process.send_signal(sent)
        assert demo.wait(20) == 0, demo.output
        assert f"stopped by {name}" in demo.output
        _assert_gone(demo)
        assert not folder.exists()
    finally:
        demo.kill()


def test_the_partners_stop_by_themselves_when_the_demo_is_killed() -> None:
    demo = start_demo([])
    try:
        ports = demo.partner_ports()
        assert set(ports) == set(DEFAULT_PORTS) and all(_listening(p) for p in ports.values())
        demo.process.kill()  # no clean-up can run: the partners must notice on their own
        demo.wait(10)
        _assert_gone(demo, ports)
    finally:
        demo.kill()


def _assert_gone(demo: DemoProcess, ports: dict[str, int] | None = None) -> None:
    """No process of the demo's session remains, and no partner port listens."""
    deadline = time.monotonic() + 10  # a child's exit is seen a moment after its parent's
    while demo.session() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert demo.session() == []
    if ports is None and "demo: partners: " in demo.output:
        ports = demo.partner_ports()
    assert not [port for port in (ports or {}).values() if _listening(port)]


def test_a_busy_partner_port_is_a_clear_error_not_a_silent_reuse(busy_port: int) -> None:
    # The partners take consecutive ports from the base: francetravail gets the busy one.
    demo = start_demo(["--partner-port-base", str(busy_port)], until=None)
    try:
        assert demo.wait(60) == 1, demo.output
        assert f"cannot listen on 127.0.0.1:{busy_port}" in demo.output
        assert "francetravail" in demo.output and "in use" in demo.output
        assert not demo.temporary_folder().exists()
        _assert_gone(demo)
    finally:
        demo.kill()


def test_a_busy_gateway_port_is_a_clear_error(busy_port: int) -> None:
    demo = start_demo(["--port", str(busy_port)], until=None)
    try:
        assert demo.wait(30) == 1, demo.output
        assert f"the gateway cannot listen on 127.0.0.1:{busy_port}" in demo.output
        assert "starting" not in demo.output  # refused before anything slow started
    finally:
        demo.kill()
