"""One large partner answer read by one adapter, and what it costs this process in memory.

``python -m bench.feed_memory xml URL`` builds the demo's Carif-Oref adapter (kind
``xml_feed``) against ``URL`` (a loopback partner serving ``/lheo/catalogue.xml``), reads the
catalogue once and prints, as one JSON line, the resident set before, at its peak and after
(the snapshot still held), in MiB. ``python -m bench.feed_memory rest URL`` asks a REST
partner whose answer is endless (``/huge.json``) and reports the same, with the error code
the answer was cut with. Run in its own process, so that nothing else in it allocates: the
memory test (``tests/adapters/test_feed_memory.py``) and the benchmark's memory row use it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import resource
import sys
import tomllib
from typing import Any

import orjson

from adapters.errors import SourceError
from adapters.partners_file import parse_partners
from adapters.registry import build_adapter
from adapters.types import ListQuery

FEED_LIMIT_BYTES = 64 * 1024 * 1024  # above the 50 MB catalogue: the feed is read whole


def rss_mib() -> float:
    """The resident set now (``/proc/self/statm``: pages)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * resource.getpagesize() / (1024 * 1024)


def reset_peak() -> None:
    """Start the peak over from the resident set now (Linux 4.0+: ``clear_refs`` 5), so that
    what the imports allocated and freed before does not count as the peak of what follows."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")


def peak_rss_mib() -> float:
    """The largest resident set since :func:`reset_peak` (``VmHWM``), else since the start."""
    with contextlib.suppress(OSError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _carif_block(url: str) -> dict[str, Any]:
    from demo.run import partners_file

    document = tomllib.loads(partners_file().read_text(encoding="utf-8"))
    block = document["partners"]["carif"]
    return {**block, "base_url": url, "max_response_bytes": FEED_LIMIT_BYTES}


def _rest_block(url: str) -> dict[str, Any]:
    return {
        "kind": "rest",
        "base_url": url,
        "deadline_s": 30.0,
        "entities": {
            "offer": {
                "id": "id",
                "list": {"path": "/huge.json", "items": "resultats"},
                "fields": {"title": "intitule"},
            }
        },
    }


async def measure(kind: str, url: str) -> dict[str, Any]:
    block = _carif_block(url) if kind == "xml" else _rest_block(url)
    partner = "carif" if kind == "xml" else "huge"
    config = parse_partners({"partners": {partner: block}}).partners[partner]
    adapter = build_adapter(partner, config, None)
    entity = "training_program" if kind == "xml" else "offer"
    gc.collect()
    before, peak_before = rss_mib(), peak_rss_mib()
    reset_peak()
    outcome, records = "ok", 0
    try:
        page = await adapter.list(ListQuery(entity, {}, 100))
        records = page.total or 0
    except SourceError as error:
        outcome = error.code
    peak = peak_rss_mib()
    gc.collect()
    after = rss_mib()
    await adapter.aclose()
    return {
        "kind": kind,
        "outcome": outcome,
        "records": records,
        "rss_before_mib": round(before, 1),
        "rss_peak_before_mib": round(peak_before, 1),
        "rss_peak_mib": round(peak, 1),
        "rss_after_mib": round(after, 1),
        "peak_growth_mib": round(peak - before, 1),
        "kept_mib": round(after - before, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["xml", "rest"])
    parser.add_argument("url")
    args = parser.parse_args(argv)
    sys.stdout.write(orjson.dumps(asyncio.run(measure(args.kind, args.url))).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
