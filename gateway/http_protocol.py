"""uvicorn's HTTP protocol with one addition: a connection just refused as overloaded is not
read again for a moment.

Admission control answers a request it cannot take with 503 and ``Retry-After`` within
milliseconds (:mod:`gateway.admission`). A client that ignores ``Retry-After`` and sends its
next request at once, on the same keep-alive connection, makes the gateway parse and refuse
it again, on the event loop that serves the accepted requests: 200 such clients cost thousands
of refusals a second, and the accepted requests slowed by half (README, "Benchmark notes").
So after a refused response, this protocol stops reading that connection for
``refused_pause_s``: whatever the client sent meanwhile waits in the kernel's socket buffer,
and is then read, parsed and answered (accepted, or refused at once) like any request.
Nothing is dropped and no answer is withheld: the refusal itself leaves at once; only the
next request on that connection waits its turn — the server keeping the ``Retry-After`` the
client did not. Other connections, and clients that do wait, are not affected.

The ASGI app marks the refusal in the request's scope (:data:`REFUSED`): the protocol, which
holds the connection, reads it once the response is complete.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

REFUSED = "hub.refused"
"""Scope key the admission layer sets (True) on a request it refused as overloaded."""


PROTOCOL = "gateway.http_protocol:PausingHttpToolsProtocol"
"""What ``uvicorn.Config(http=...)`` is given: an import path, so that the workers of a
multi-process gateway load it too."""


class PausingHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that pauses reading a connection after a refused response, for
    ``HUB_ADMISSION_REFUSED_PAUSE_S`` (read from the settings once per process)."""

    refused_pause_s: float | None = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = self.cycle
        if cycle is None or not dict(cycle.scope).get(REFUSED) or self.transport.is_closing():
            return
        pause = self.pause_s()
        if self.pipeline or pause <= 0:
            return  # requests already read go on: only what is still unread waits
        self.flow.pause_reading()
        self.loop.call_later(pause, self._resume_after_refusal)

    @classmethod
    def pause_s(cls) -> float:
        if cls.refused_pause_s is None:
            from gateway.settings import Settings

            cls.refused_pause_s = Settings().admission_refused_pause_s
        return cls.refused_pause_s

    def _resume_after_refusal(self) -> None:
        if not self.transport.is_closing():
            self.flow.resume_reading()


__all__ = ["PROTOCOL", "REFUSED", "PausingHttpToolsProtocol"]
