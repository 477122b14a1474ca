"""A headless Chromium driven over the DevTools protocol: just what the browser tests need.

:func:`headless_chromium` starts Debian's ``chromium`` on a private profile, reads the DevTools
port it chose from ``DevToolsActivePort``, opens one page and attaches to it; the returned
:class:`Page` sends commands (``await page.send("Page.navigate", url=...)``), evaluates
JavaScript and keeps every event it received (``page.events``), so a test can assert on the
console, on exceptions and on every request the page made.

Where the browser is missing the test is skipped, unless ``HUB_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.services import missing

START_TIMEOUT_S = 30.0


def chromium_binary() -> str:
    path = os.environ.get("HUB_TEST_CHROMIUM") or shutil.which("chromium")
    if path is None:
        missing("no chromium program on PATH (apt-get install chromium, or HUB_TEST_CHROMIUM)")
    return path


class DevToolsError(RuntimeError):
    pass


class Page:
    """One page target, over the browser's single DevTools websocket (flat sessions)."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._session: str | None = None
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self._socket:
                message = orjson.loads(raw)
                waiter = self._pending.pop(message.get("id", -1), None)
                if waiter is None:
                    self.events.append(message)
                elif "error" in message:
                    waiter.set_exception(DevToolsError(str(message["error"])))
                else:
                    waiter.set_result(message.get("result", {}))
        finally:
            for waiter in self._pending.values():  # the browser went away: nobody will answer
                if not waiter.done():
                    waiter.set_exception(DevToolsError("the DevTools connection closed"))

    async def browser(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the browser itself (no session)."""
        return await self._command(method, params, None)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the attached page."""
        return await self._command(method, params, self._session)

    async def _command(
        self, method: str, params: dict[str, Any], session: str | None
    ) -> dict[str, Any]:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        waiter = asyncio.get_running_loop().create_future()
        self._pending[ident] = waiter
        await self._socket.send(orjson.dumps(message).decode())
        async with asyncio.timeout(START_TIMEOUT_S):
            return await waiter

    async def attach(self, target_id: str) -> None:
        attached = await self.browser("Target.attachToTarget", targetId=target_id, flatten=True)
        self._session = attached["sessionId"]

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited if it is a promise)."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise DevToolsError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout_s: float = 20.0) -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        async with asyncio.timeout(timeout_s):
            while True:
                value = await self.evaluate(expression)
                if value:
                    return value
                await asyncio.sleep(0.1)

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))
        return path

    def of(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every event ``method`` received so far."""
        return [event.get("params", {}) for event in self.events if event["method"] == method]

    async def aclose(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await self._reader


async def _devtools_url(profile: Path, process: asyncio.subprocess.Process) -> str:
    # Chromium writes the port it bound (--remote-debugging-port=0) and the browser's path here.
    active = profile / "DevToolsActivePort"
    async with asyncio.timeout(START_TIMEOUT_S):
        while not active.exists() or len(active.read_text().split()) < 2:
            if process.returncode is not None:
                raise DevToolsError(f"chromium exited with {process.returncode}")
            await asyncio.sleep(0.05)
    port, path = active.read_text().split()[:2]
    return f"ws://127.0.0.1:{port}{path}"


@contextlib.asynccontextmanager
async def headless_chromium(
    workdir: Path, width: int = 1400, height: int = 900
) -> AsyncIterator[Page]:
    """A headless Chromium with one blank page attached; closed (process group and all) on exit."""
    binary = chromium_binary()  # skips without Chromium: before the log file is opened
    profile = workdir / "profile"
    profile.mkdir()
    log = (workdir / "chromium.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        *[
            binary,
            "--headless=new",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={profile}",
            # The sandbox needs user namespaces a container (or root) rarely has; the browser
            # only ever loads the gateway's own page here.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    page: Page | None = None
    try:
        url = await _devtools_url(profile, process)
        async with connect(url, max_size=None, open_timeout=START_TIMEOUT_S) as socket:
            page = Page(socket)
            target = await page.browser("Target.createTarget", url="about:blank")
            await page.attach(target["targetId"])
            await page.send(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            for domain in ("Page", "Runtime", "Log", "Network"):
                await page.send(f"{domain}.enable")
            try:
                yield page
            finally:
                with contextlib.suppress(DevToolsError, TimeoutError, OSError):
                    await page.browser("Browser.close")
                await page.aclose()
    finally:
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        log.close()
