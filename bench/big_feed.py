"""Large partner documents for the memory tests and the benchmark's memory row.

``write_lheo`` writes an LHEO 2.3 catalogue of a given size in bytes: the demo Carif-Oref's
own ``<formation>`` elements, renumbered so that every action is its own record, each with a
long ``<contenu-formation>`` (free text the mapping does not read, as in real catalogues,
whose descriptions run to pages). So the document's size and its number of records are set
apart: a 50 MB catalogue of 2,500 programmes weighs what a real one does, while its snapshot
holds 2,500 records.

``serve_files`` serves a folder (and an endless JSON answer, ``/huge.json``) from a thread on
127.0.0.1, a real loopback partner that lives outside the process being measured.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from copy import deepcopy
from functools import partial
from pathlib import Path
from typing import Any

from lxml import etree

MIB = 1024 * 1024
NAMESPACE = "http://lheo.gouv.fr/2.3"
_FILLER = (
    "Séquence pédagogique en centre : enseignements professionnels, mises en situation sur "
    "plateau technique, évaluation en cours de formation et accompagnement du projet. "
)


def _templates() -> list[etree._Element]:
    from demo import carif

    root = etree.fromstring(carif.catalogue())
    return list(root.iter(f"{{{NAMESPACE}}}formation"))


def _renumbered(template: etree._Element, n: int, padding: str) -> etree._Element:
    formation = deepcopy(template)
    for element in formation.iter(f"{{{NAMESPACE}}}formation", f"{{{NAMESPACE}}}action"):
        element.set("numero", f"{element.get('numero')}-{n}")
    content = formation.find(f"{{{NAMESPACE}}}contenu-formation")
    if content is not None:
        content.text = padding
    return formation


def write_lheo(path: Path, size_bytes: int, records: int = 2_500) -> int:
    """Write a catalogue of about ``size_bytes`` holding ``records`` programmes; its size."""
    templates = _templates()
    plain = sum(len(etree.tostring(t)) for t in templates) // len(templates)
    per_record = max(0, size_bytes // records - plain)
    padding = (_FILLER * (per_record // len(_FILLER) + 1))[:per_record]
    with etree.xmlfile(str(path), encoding="UTF-8") as out:
        out.write_declaration()
        root = out.element(f"{{{NAMESPACE}}}lheo", nsmap={None: NAMESPACE})
        with root, out.element(f"{{{NAMESPACE}}}offres"):
            for n in range(records):
                out.write(_renumbered(templates[n % len(templates)], n, padding))
    return path.stat().st_size


class _Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as partners answer
    huge_bytes = 50 * MIB

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a test's output stays quiet

    def do_GET(self) -> None:
        if self.path != "/huge.json":
            super().do_GET()
            return
        # A REST partner answering 50 MB of JSON, chunked (no Content-Length to refuse early).
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b'{"id":"X","intitule":"' + b"x" * 65_000 + b'"},'
        sent = 0
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._chunk(b'{"resultats": [')
            while sent < self.huge_bytes:
                self._chunk(chunk)
                sent += len(chunk)
            self._chunk(b'{"id":"Y"}]}')
            self._chunk(b"")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")


@contextlib.contextmanager
def serve_files(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free 127.0.0.1 port from a thread; yields the base URL."""
    handler = partial(_Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
