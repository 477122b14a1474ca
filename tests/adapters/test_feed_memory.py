"""Memory stays flat on a 50 MB feed or partner answer (issue 7, item 8; TEST-PLAN "Partner
faults": a partner response of 50 MB).

The measured process is a child (``python -m bench.feed_memory``), so that nothing else
allocates in it, and the partner is a real server on 127.0.0.1 in this process. Before the
body was streamed into the parser, the 50 MB catalogue raised the child's RSS by 136 MiB at
its peak and left 88 MiB resident; streamed, the peak is about 15 MiB and what stays is the
snapshot itself (2,500 records, about 13 MiB).
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from adapters import csv_feed, xml_feed
from adapters.errors import SourceBadResponse, SourceTimeout
from adapters.feed_config import CsvFeedEntity, XmlFeedEntity, XmlFeedPartner
from adapters.streams import LoopReader, buffered
from adapters.types import ListQuery
from bench.big_feed import serve_files, write_lheo
from tests.adapters.feed_partners import (
    LHEO_NS,
    company_entity,
    feed_partner,
    lheo,
    lheo_action,
    lheo_entity,
    lheo_formation,
)
from tests.adapters.rest_partners import served

FIFTY_MB = 50_000_000
PEAK_GROWTH_BOUND_MIB = 60  # the body alone is 48 MiB: holding it whole cannot pass
KEPT_BOUND_MIB = 40  # the snapshot of 2,500 records, with room for the allocator
REST_LIMIT_BYTES = 10 * 1024 * 1024  # max_response_bytes' default


@pytest.fixture(scope="module")
def partner_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("partner")
    (folder / "lheo").mkdir()
    write_lheo(folder / "lheo" / "catalogue.xml", FIFTY_MB)
    return folder


@pytest.fixture(scope="module")
def partner_url(partner_folder: Path) -> Iterator[str]:
    with serve_files(partner_folder) as url:
        yield url


def measured(kind: str, url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.feed_memory", kind, url],
        capture_output=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = orjson.loads(done.stdout)
    return result


def test_a_50_mb_catalogue_is_parsed_with_flat_memory(
    partner_folder: Path, partner_url: str
) -> None:
    size = (partner_folder / "lheo" / "catalogue.xml").stat().st_size
    assert size >= FIFTY_MB

    result = measured("xml", partner_url)

    assert (result["outcome"], result["records"]) == ("ok", 2_500)
    assert result["peak_growth_mib"] < PEAK_GROWTH_BOUND_MIB, result
    assert result["kept_mib"] < KEPT_BOUND_MIB, result


def test_a_50_mb_rest_answer_is_cut_at_the_limit_with_flat_memory(partner_url: str) -> None:
    result = measured("rest", partner_url)

    assert result["outcome"] == SourceBadResponse.code
    # What was read before the cut (the limit) plus its join: never the 50 MB.
    assert result["peak_growth_mib"] < 2 * REST_LIMIT_BYTES / 2**20 + 10, result


# -- the stream itself, in-process --------------------------------------------------------------

FORMATION = lheo_formation(
    "F1", "CAP Cuisine", "RNCP36140", "13", "0730001A", lheo_action("A1", "73065", ["20260907"])
)


def program_spec() -> XmlFeedEntity:
    return XmlFeedEntity.model_validate(lheo_entity())


async def test_records_come_out_while_the_body_is_still_arriving() -> None:
    document = lheo(*(FORMATION.replace("F1", f"F{n}") for n in range(200)))
    pieces = [document[i : i + 1000] for i in range(0, len(document), 1000)]
    handed: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for number, piece in enumerate(pieces):
            handed.append(number)
            yield piece

    reader = LoopReader(chunks(), asyncio.get_running_loop(), block_bytes=4096)
    parse = xml_feed.xml_parser("carif", program_spec())

    def first_record_then_progress() -> tuple[int, int]:
        records = parse(buffered(reader))
        next(records)
        at_first = len(handed)
        return at_first, 1 + sum(1 for _ in records)

    at_first, count = await asyncio.to_thread(first_record_then_progress)

    assert count == 200
    assert at_first < len(pieces) // 4  # the first record came out of the first blocks


async def test_a_failure_while_reading_comes_out_of_the_parser_as_it_is() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield lheo(FORMATION)[:300]
        raise SourceTimeout("carif", "no answer in time")

    reader = LoopReader(chunks(), asyncio.get_running_loop())
    parse = xml_feed.xml_parser("carif", program_spec())

    with pytest.raises(SourceTimeout):
        await asyncio.to_thread(lambda: list(parse(buffered(reader))))


async def test_a_streamed_catalogue_past_its_limit_is_cut_while_reading() -> None:
    """Chunked, so no Content-Length can refuse it first: the stream counts what it reads."""
    sent = {"bytes": 0}
    record = FORMATION.encode()

    async def catalogue(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield f'<?xml version="1.0"?><lheo xmlns="{LHEO_NS}"><offres>'.encode()
            while sent["bytes"] < FIFTY_MB:
                sent["bytes"] += len(record) * 50
                yield record * 50
                await asyncio.sleep(0)  # a real producer hands over between chunks

        return StreamingResponse(body(), media_type="application/xml")

    async with served(Starlette(routes=[Route("/lheo.xml", catalogue)])) as url:
        config = XmlFeedPartner.model_validate(
            feed_partner(
                "xml_feed",
                {"training_program": lheo_entity()},
                base_url=url,
                max_response_bytes=1_000_000,
            )
        )
        adapter = xml_feed.create("carif", config)
        try:
            with pytest.raises(SourceBadResponse, match="larger than allowed"):
                await adapter.list(ListQuery("training_program", {}, 10))
        finally:
            await adapter.aclose()

    assert sent["bytes"] < FIFTY_MB // 4  # the socket buffers hold a few MB more


def test_a_csv_document_is_decoded_as_it_is_read() -> None:
    spec = CsvFeedEntity.model_validate(company_entity())
    rows = "".join(f"{n:09d};Entreprise {n} é;Constructys\r\n" for n in range(3_000))
    body = ("\ufeffsiren;raison_sociale;opco\r\n" + rows).encode("utf-8")
    parse = csv_feed.csv_parser("akto", spec.model_copy(update={"encoding": "utf-8"}))

    stream = io.BufferedReader(io.BytesIO(body), buffer_size=4096)
    records = parse(stream)
    first = next(records)

    assert first["siren"] == "000000000"  # the BOM is not part of the first column's name
    assert stream.tell() < len(body) // 2  # one row out needs only the first buffers read
    assert sum(1 for _ in records) == 2_999
