"""A partner's body as a blocking file, for a parser that runs in a worker thread.

A feed is parsed off the event loop (it takes seconds for a large catalogue), by parsers that
read files: ``lxml.etree.iterparse`` and ``csv.reader`` over an ``io.TextIOWrapper``. The body
arrives on the event loop, as an async iterator of chunks. :class:`LoopReader` joins the two:
each ``read`` in the thread asks the loop for the next block of chunks and waits for it, so the
parser consumes the body as it arrives and only one block is held at a time, whatever the size
of the document (the whole body used to be buffered, then parsed: 50 MB held twice).

Usage (on the loop)::

    async with http.stream("GET", path) as answer:
        reader = LoopReader(answer.chunks, asyncio.get_running_loop())
        records = await asyncio.to_thread(lambda: list(parse(reader)))

An exception raised while reading (the size limit, a timeout) comes out of ``read`` in the
thread, then out of the parser: the parsers let it through unchanged.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

BLOCK_BYTES = 256 * 1024
"""Chunks gathered per hop from the thread to the loop (one hop costs tens of microseconds)."""

STALL_S = 120.0
"""Backstop on one wait for the loop: past it the loop is gone (the partner's own read timeout
applies long before, on the loop)."""


class LoopReader(io.RawIOBase):
    """A raw binary file over an async iterator of chunks owned by ``loop``."""

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        loop: asyncio.AbstractEventLoop,
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        super().__init__()
        self._chunks = chunks
        self._loop = loop
        self._block_bytes = block_bytes
        self._block = memoryview(b"")
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._block and not self._ended:
            self._block = memoryview(self._next_block())
        size = min(len(buffer), len(self._block))
        buffer[:size] = self._block[:size]
        self._block = self._block[size:]
        return size  # 0: the end of the body

    def _next_block(self) -> bytes:
        future = asyncio.run_coroutine_threadsafe(self._gather(), self._loop)
        return future.result(timeout=STALL_S)

    async def _gather(self) -> bytes:
        parts: list[bytes] = []
        size = 0
        while size < self._block_bytes:
            chunk = await anext(self._chunks, None)
            if chunk is None:
                self._ended = True
                break
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)


def buffered(reader: LoopReader) -> io.BufferedReader:
    """The reader behind a buffer: what ``io.TextIOWrapper`` and ``readline`` expect."""
    return io.BufferedReader(reader, buffer_size=64 * 1024)


__all__ = ["BLOCK_BYTES", "LoopReader", "buffered"]
