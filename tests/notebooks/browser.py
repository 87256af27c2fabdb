"""Headless Chromium (Debian's ``chromium``) for checking that report charts draw offline.

One browser serves the whole session: it is started once and driven over the DevTools
protocol on a pipe (``--remote-debugging-pipe``: JSON messages separated by NUL bytes on
file descriptors 3 and 4), so no port is opened and each chart check costs a page load,
not a browser start. Every page gets its own target, closed after the check.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--remote-debugging-pipe",
)

#: Counts the charts of a page once plotly had time to draw: resolves when two looks 250 ms
#: apart agree and every chart div holds its svg layers, or when the budget runs out.
_COUNT_CHARTS = """
new Promise((resolve) => {
  const deadline = Date.now() + %(budget)d;
  let last = "";
  const look = () => {
    const divs = document.querySelectorAll(".plotly-graph-div").length;
    const svgs = document.querySelectorAll(".plotly-graph-div .main-svg").length;
    const now = JSON.stringify({divs, svgs, ready: document.readyState});
    if ((now === last && document.readyState === "complete" && svgs >= 2 * divs) || Date.now() > deadline) {
      resolve(now);
    } else {
      last = now;
      setTimeout(look, 250);
    }
  };
  look();
})
"""


def chromium() -> str:
    """Path of Debian's chromium, or skip the test with the reason."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")


def _above_nine(fd: int) -> int:
    """``fd`` moved to a number above 9, so that moving it to 3 or 4 overwrites nothing."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Browser:
    """One headless Chromium driven over the DevTools pipe."""

    def __init__(self, executable: str) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="s3f-chromium-")
        commands_r, self._commands_w = os.pipe()
        self._replies_r, replies_w = os.pipe()
        commands_r, replies_w = _above_nine(commands_r), _above_nine(replies_w)

        # chromium reads commands on fd 3 and writes replies on fd 4: bash moves the two
        # pipe ends there, since Popen keeps descriptors only under their own numbers.
        script = f'exec "$0" "$@" 3<&{commands_r} 4>&{replies_w} {commands_r}<&- {replies_w}>&-'
        self._process = subprocess.Popen(
            ["bash", "-c", script, executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(commands_r, replies_w),
        )
        os.close(commands_r)
        os.close(replies_w)
        self._buffer = b""
        self._next_id = 0

    def _send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 60) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        raise RuntimeError(f"chromium {method}: {reply['error']}")
                    return reply.get("result", {})
            if time.monotonic() > deadline:
                raise TimeoutError(f"chromium did not answer {method} within {timeout:.0f} s")
            chunk = os.read(self._replies_r, 1 << 16)
            if not chunk:
                raise RuntimeError(f"chromium exited (code {self._process.poll()}) during {method}")
            self._buffer += chunk

    def charts(self, html: Path, budget_ms: int = 15000) -> dict[str, Any]:
        """``{divs, svgs, ready}`` of ``html`` after its scripts ran, with no network."""
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            self._send("Page.enable", session=session)
            self._send("Page.navigate", {"url": html.resolve().as_uri()}, session=session)
            result = self._send(
                "Runtime.evaluate",
                {"expression": _COUNT_CHARTS % {"budget": budget_ms}, "awaitPromise": True, "returnByValue": True},
                session=session,
                timeout=budget_ms / 1000 + 60,
            )
            return json.loads(result["result"]["value"])
        finally:
            self._send("Target.closeTarget", {"targetId": target})

    def evaluate(self, html: Path, expression: str, timeout: float = 30) -> Any:
        """The value of ``expression`` (a script; may return a promise) in ``html`` once loaded, offline."""
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            self._send("Page.enable", session=session)
            self._send("Page.navigate", {"url": html.resolve().as_uri()}, session=session)
            loaded = "new Promise(r => { const t = () => document.readyState === 'complete' ? r(1) : setTimeout(t, 50); t(); })"
            self._send("Runtime.evaluate", {"expression": loaded, "awaitPromise": True}, session=session, timeout=timeout)
            result = self._send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}, session=session, timeout=timeout)
            return result["result"].get("value")
        finally:
            self._send("Target.closeTarget", {"targetId": target})

    def screenshot(self, html: Path, png: Path, width: int = 1280, height: int = 2400) -> Path:
        """A PNG of the top of ``html`` once its charts drew."""
        import base64

        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            self._send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
            self._send("Page.navigate", {"url": html.resolve().as_uri()}, session=session)
            self._send("Runtime.evaluate", {"expression": _COUNT_CHARTS % {"budget": 15000}, "awaitPromise": True}, session=session, timeout=75)
            data = self._send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
            png.write_bytes(base64.b64decode(data))
            return png
        finally:
            self._send("Target.closeTarget", {"targetId": target})

    def close(self) -> None:
        """Ask the browser to quit, then make sure it did."""
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self._send("Browser.close", timeout=5)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._commands_w, self._replies_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._profile.cleanup()


def assert_charts_drawn(browser: Browser, html: Path, charts: int) -> None:
    """The report holds exactly ``charts`` plotly charts, and every one drew in headless Chromium with no network."""
    seen = browser.charts(html)
    divs, drawn = seen["divs"], seen["svgs"]
    assert divs == charts, f"{html.name}: {divs} charts, expected {charts}"
    # plotly draws two main-svg layers per chart; a chart that did not draw has none.
    assert drawn >= 2 * divs, f"{html.name}: {divs} chart divs but only {drawn} drawn svg layers"
