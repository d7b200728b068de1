"""A small driver of headless Chromium over the Chrome DevTools Protocol, for the dashboard's browser test.

Debian's ``chromium`` runs headless with its own empty profile; the driver talks to the page target over
its WebSocket (``websocket-client``), clicks with real mouse events at an element's box and types with
``Input.insertText``, so what the test does is what a person's clicks and keys do. ``find_chromium``
says why when there is no browser (the test then skips loudly; ``make chromium`` installs it).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT = 30.0  # seconds for one page to load or one command to answer on a loaded 2-core machine


def find_chromium() -> str | None:
    return next((path for name in NAMES if (path := shutil.which(name))), None)


class Browser:
    """One headless Chromium process and one page, closed on exit."""

    def __init__(self, binary: str, *, width: int = 1280, height: int = 900) -> None:
        self.binary = binary
        self.width = width
        self.height = height
        self._profile = tempfile.TemporaryDirectory(prefix="dash-chromium-")
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._ws: Any = None
        self._next = 0
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        import websocket

        args = [
            self.binary,
            "--headless",
            "--no-sandbox",  # root in a container: Chromium's own sandbox cannot start
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={self._profile.name}",
            f"--window-size={self.width},{self.height}",
            "about:blank",
        ]
        env = {**os.environ, "LANG": "zh_CN.UTF-8"}
        self._log = open(Path(self._profile.name) / "chromium.log", "w")  # closed in __exit__
        self._proc = subprocess.Popen(args, stderr=self._log, stdout=subprocess.DEVNULL, env=env)
        port = self._devtools_port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=TIMEOUT) as answer:
            pages = [t for t in json.loads(answer.read()) if t.get("type") == "page"]
        self._ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=TIMEOUT)
        self.send("Page.enable")
        self.send("Runtime.enable")
        return self

    def _devtools_port(self) -> int:
        """The port Chromium chose: the first line of ``DevToolsActivePort`` in its profile folder."""
        assert self._proc is not None
        marker = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and self._proc.poll() is None:
            lines = marker.read_text().splitlines() if marker.exists() else []
            if lines and lines[0].isdigit():
                return int(lines[0])
            time.sleep(0.05)
        log = (Path(self._profile.name) / "chromium.log").read_text(errors="replace")
        raise RuntimeError("chromium did not start its DevTools endpoint:\n" + log[-3000:])

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            self._tell_why(exc)
        if self._ws is not None:
            self._ws.close()
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
        self._profile.cleanup()

    def _tell_why(self, exc: BaseException) -> None:
        """On a failure: the page's address and text, the events not yet consumed and Chromium's log,
        printed (pytest shows them with the failure) so that a failure seen once can be understood."""
        import websocket

        try:
            where = self.js("location.href + '\\n' + document.body.innerText.slice(0, 2000)")
        except (RuntimeError, OSError, ValueError, websocket.WebSocketException) as page_exc:
            where = f"(page not readable: {page_exc!r})"  # the page may be what failed: say so, go on
        log = (Path(self._profile.name) / "chromium.log").read_text(errors="replace")[-3000:]
        events = [m.get("method") for m in self._events][-20:]
        print(f"browser failure: {exc!r}\npage: {where}\npending events: {events}\nchromium log:\n{log}")

    # --- the protocol -------------------------------------------------------------------------------

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One command; its result (events that arrive meanwhile are kept for ``wait_for``)."""
        self._next += 1
        ident = self._next
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message = json.loads(self._ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._events.append(message)
        raise TimeoutError(method)

    def wait_for(self, event: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, message in enumerate(self._events):
                if message["method"] == event:
                    del self._events[: i + 1]
                    return message
            if time.monotonic() > deadline:
                raise TimeoutError(event)
            message = json.loads(self._ws.recv())
            if "method" in message:
                self._events.append(message)

    # --- what a person does -------------------------------------------------------------------------

    def goto(self, url: str) -> None:
        self._events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def click(self, selector: str, *, navigates: bool = True) -> None:
        """A real left click in the middle of the element (scrolled into view first)."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        if box is None:
            raise LookupError(f"no element {selector!r} on the page")
        x, y = box
        self._events.clear()
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        if navigates:
            self.wait_for("Page.loadEventFired")

    def type_into(self, selector: str, text: str) -> None:
        self.click(selector, navigates=False)
        self.send("Input.insertText", text=text)

    def dom(self) -> str:
        return str(self.js("document.documentElement.outerHTML"))

    def screenshot(self, path: Path, *, width: int, mobile: bool) -> None:
        """The whole page laid out ``width`` CSS pixels wide (a phone: 390, mobile, a 2x screen)."""
        scale = 2 if mobile else 1
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=scale, mobile=mobile)
        height = int(self.js("Math.ceil(document.documentElement.scrollHeight)"))
        self.send(
            "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=scale, mobile=mobile
        )
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        self.send("Emulation.clearDeviceMetricsOverride")
