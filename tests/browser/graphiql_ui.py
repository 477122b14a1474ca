"""GraphiQL's page as a user drives it: real mouse clicks and key presses sent through the
DevTools ``Input`` domain, text pasted into the CodeMirror editors the way a clipboard paste
reaches them (``Input.insertText``), answers read from the response editor.

Only reading goes through the page's JavaScript (an editor's value, an element's position);
nothing here calls GraphiQL's own functions or ``fetch``, so what a test sees is what the page
does when a person uses it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson

from tests.browser.devtools import Page

QUERY_EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror')"
RESPONSE = "document.querySelector('.graphiql-response .CodeMirror')"
DOC_EXPLORER = "document.querySelector('.graphiql-doc-explorer')"
HEADERS_TAB = ".graphiql-editor-tools button[data-name='headers']"
EXECUTE_BUTTON = ".graphiql-execute-button"
ACTIVE_TAB = ".graphiql-tab-active .graphiql-tab-button"
# The editor tools hold the variables and the headers editors; the tab not chosen is hidden.
SHOWN_TOOL_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
QUERY_EDITOR_SELECTOR = ".graphiql-query-editor .CodeMirror"
INTROSPECTION = "GraphiQLIntrospection"  # the operation name hub-graphiql.js gives it

_CTRL = 2  # the DevTools modifier bit for Control


def _js(value: Any) -> str:
    return orjson.dumps(value).decode()


async def click(page: Page, selector: str) -> None:
    """A left click at the centre of the element, as the mouse gives it (press, release)."""
    point = await page.evaluate(
        f"""(() => {{
          const e = document.querySelector({_js(selector)});
          if (!e) return null;
          e.scrollIntoView({{block: 'center'}});
          const r = e.getBoundingClientRect();
          const x = r.x + r.width / 2, y = r.y + Math.min(r.height / 2, 12);
          const hit = document.elementFromPoint(x, y);
          return hit && (e === hit || e.contains(hit)) ? [x, y] : null;
        }})()"""
    )
    assert point, f"nothing to click (or hidden under something else) at {selector}"
    x, y = point
    await page.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
    for kind in ("mousePressed", "mouseReleased"):
        await page.send(
            "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
        )


async def press(page: Page, key: str, code: str, key_code: int, modifiers: int = 0) -> None:
    for kind in ("rawKeyDown", "keyUp"):
        await page.send(
            "Input.dispatchKeyEvent",
            type=kind,
            key=key,
            code=code,
            windowsVirtualKeyCode=key_code,
            modifiers=modifiers,
        )


async def editor_value(page: Page, selector: str) -> str:
    value: str = await page.evaluate(
        f"document.querySelector({_js(selector)}).CodeMirror.getValue()"
    )
    return value


async def paste_into(page: Page, selector: str, text: str) -> None:
    """Click into the editor, Ctrl-A, paste ``text`` over what it held."""
    await click(page, selector)
    await press(page, "a", "KeyA", 65, modifiers=_CTRL)
    await page.send("Input.insertText", text=text)
    shown = await editor_value(page, selector)
    assert shown == text, f"the editor holds {shown!r}, not what was pasted"


async def paste_query(page: Page, document: str, title: str = "<untitled>") -> None:
    """Paste ``document`` into the query editor and wait, as a person would, until the tab
    shows its operation's name (``title``; ``<untitled>`` for an anonymous one): GraphiQL
    takes in an edit 100 ms after it, and a run before that would still send the operation
    name of the document pasted over (the gateway then answers "Unknown operation named")."""
    await paste_into(page, QUERY_EDITOR_SELECTOR, document)
    shown = await page.wait_for(
        f"document.querySelector({_js(ACTIVE_TAB)}).innerText.trim() === {_js(title)}"
    )
    assert shown


async def open_headers_panel(page: Page) -> None:
    await click(page, HEADERS_TAB)
    active = await page.wait_for(
        f"document.querySelector({_js(HEADERS_TAB)}).classList.contains('active')"
        f" && !!document.querySelector({_js(SHOWN_TOOL_EDITOR)})"
    )
    assert active


async def set_headers(page: Page, headers: str) -> None:
    """The headers editor's text: ``""`` for none."""
    await open_headers_panel(page)
    await paste_into(page, SHOWN_TOOL_EDITOR, headers)


def query_posts(page: Page) -> list[dict[str, Any]]:
    """The requests of every query the page POSTed, GraphiQL's own introspection aside."""
    return [
        event
        for event in page.of("Network.requestWillBeSent")
        if event["request"]["method"] == "POST"
        and INTROSPECTION not in event["request"].get("postData", "")
    ]


async def _until(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    async with asyncio.timeout(timeout_s):
        # The DevTools reader appends events and signals nothing: poll what it received.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def run(page: Page) -> str:
    """Click the run button; the answer (JSON text) the response editor then shows.

    Done when the page's request for it has finished and the button is back to "Execute":
    two runs with the same answer are still told apart."""
    before = len(query_posts(page))
    await click(page, EXECUTE_BUTTON)
    await _until(lambda: len(query_posts(page)) > before)
    request_id = query_posts(page)[before]["requestId"]
    await _until(
        lambda: any(
            event["requestId"] == request_id
            for name in ("Network.loadingFinished", "Network.loadingFailed")
            for event in page.of(name)
        )
    )
    shown: str = await page.wait_for(
        f"""(() => {{
          const button = document.querySelector({_js(EXECUTE_BUTTON)});
          if (!button || !button.getAttribute('aria-label').startsWith('Execute')) return null;
          const value = {RESPONSE} && {RESPONSE}.CodeMirror.getValue();
          try {{ JSON.parse(value); return value; }} catch (e) {{ return null; }}
        }})()"""
    )
    return shown
