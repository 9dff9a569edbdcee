"""What the browser tests need beside their fixtures: Debian's Chromium driven through Playwright (never a
browser Playwright downloads), the skip-or-fail rule when there is none, a real server on a free port,
and signing in through the form as a person does."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from tests.service.pages.conftest import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

ROOT = Path(__file__).resolve().parents[4]
# Where the tests write each role's home page as seen at each width (git-ignored: var/ is).
SCREENSHOTS = Path(os.environ.get("TRAINREC_SCREENSHOTS", ROOT / "var" / "screenshots"))
# The browser: $TRAINREC_CHROMIUM, else Debian's `chromium` (apt-get install chromium fonts-noto-cjk).
CHROMIUM_NAMES = ("chromium", "chromium-browser")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
READY_WITHIN = 30.0  # seconds for a fresh server to answer /healthz/ready
STEP_TIMEOUT = 15_000  # milliseconds for one action or expectation of a page


def chromium_path() -> str | None:
    named = os.environ.get("TRAINREC_CHROMIUM")
    if named:
        return named if Path(named).is_file() and os.access(named, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def playwright_api() -> ModuleType | None:
    try:
        from playwright import sync_api
    except ImportError:
        return None
    return sync_api


def missing() -> str | None:
    """None when a browser can be driven here, else the one-line reason it cannot."""
    if playwright_api() is None:
        return "no Playwright for Python (pip install -e '.[dev]')"
    if chromium_path() is None:
        return "no Chromium on this machine (apt-get install chromium fonts-noto-cjk, or set TRAINREC_CHROMIUM)"
    return None


def require_browser() -> None:
    """Skip with the reason where there is no browser; fail instead where one is required (CI)."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("TRAINREC_REQUIRE_BROWSER") == "1":
        pytest.fail(f"a browser is required here (CI): {reason}")
    pytest.skip(reason)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free port of 127.0.0.1; yields its base URL once
    /healthz/ready answers 200, and stops the server afterwards."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", server_header=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="browser-test-server",
                              daemon=True)
    thread.start()
    try:
        wait_ready(url, thread)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def wait_ready(url: str, thread: threading.Thread) -> None:
    """Poll /healthz/ready until it answers 200 (the server thread still alive), within READY_WITHIN."""
    deadline = time.monotonic() + READY_WITHIN
    last = "no answer"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise RuntimeError(f"the test server stopped before it was ready ({last})")
            try:
                answer = client.get(url + "/healthz/ready")
            except httpx.TransportError as error:
                last = type(error).__name__
            else:
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code} {answer.text[:200]}"
            time.sleep(0.05)  # the interval between polls
    raise RuntimeError(f"the test server was not ready within {READY_WITHIN:.0f} s ({last})")


def path_of(url: str) -> str:
    """The path and query of `url`, as the tests compare them."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in(page: Page, username: str, password: str = PASSWORD) -> Response | None:
    """Sign in through the sign-in page's form; returns the answer of the page the browser lands on."""
    page.goto("/signin")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    with page.expect_navigation() as landed:
        page.get_by_role("button", name="登录").click()
    return landed.value


def sign_out(page: Page) -> Response | None:
    with page.expect_navigation() as landed:
        page.get_by_role("button", name="退出").click()
    return landed.value
