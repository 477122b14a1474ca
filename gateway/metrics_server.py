"""``/metrics`` on a port of its own (``HUB_METRICS_PORT``), so that it is not public.

prometheus-client's own exporter serves it: a small threaded HTTP server, in its own daemon
threads, so a scrape never waits for the event loop nor delays a request. What it reads at
scrape time is either an instrument (thread-safe) or a copy of a counter the loop keeps.

Each worker process of ``serve --workers N`` builds its own app, hence its own server: the
first worker takes ``HUB_METRICS_PORT``, the next ones the first free ports after it (each
worker is one Prometheus target, as each keeps its own figures). The port actually bound is
logged.
"""

from __future__ import annotations

import errno
import logging
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

log = logging.getLogger("alternance_hub.metrics")

PORTS_TRIED = 64
"""Ports tried from ``HUB_METRICS_PORT`` on, one per worker process at most."""


class MetricsServer:
    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._registry = registry
        self._host = host
        self._port = port
        self._server: WSGIServer | None = None

    @property
    def port(self) -> int | None:
        """The port bound, once started."""
        return None if self._server is None else self._server.server_port

    def start(self) -> int:
        """Bind and serve; the port bound (raises OSError when none of the ports is free)."""
        candidates = [0] if self._port == 0 else range(self._port, self._port + PORTS_TRIED)
        for port in candidates:
            try:
                self._server, _ = start_http_server(port, self._host, self._registry)
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                continue
            bound = self._server.server_port
            log.info("metrics served", extra={"host": self._host, "port": bound})
            return bound
        raise OSError(errno.EADDRINUSE, f"no free metrics port from {self._port}")

    def stop(self) -> None:
        """Stop serving (blocks up to the server's poll interval: call it off the loop)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


__all__ = ["PORTS_TRIED", "MetricsServer"]
