"""Fixtures of the browser tests: one Chromium for the session, a real server over a fresh store of the
pages' county (one account per role, tests/service/pages/conftest.py) for each test, and a page of a
fresh browser context (its own cookies) at desktop width; `phone` is the same at a phone's.

The store is SQLite or PostgreSQL (a server serves a durable store; the memory store is left to the
TestClient tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from service.api.main import create_app
from service.app import TrainRec
from tests.conftest import Backend, require_postgres
from tests.service.api.conftest import SECRET
from tests.service.pages.browser.harness import (
    DESKTOP,
    PHONE,
    STEP_TIMEOUT,
    chromium_path,
    playwright_api,
    require_browser,
    serving,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The pages' `county` on each durable store (overrides the memory-SQLite-PostgreSQL one)."""
    if request.param == "postgres":
        require_postgres()
    return Backend(request.param, tmp_path)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, through Playwright's driver (no browser of Playwright's own)."""
    require_browser()
    api: Any = playwright_api()
    api.expect.set_options(timeout=STEP_TIMEOUT)
    driver = api.sync_playwright().start()
    try:
        browser = driver.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        driver.stop()


@dataclass
class Site:
    """A server answering at `url` over `service` (the tests act on the store behind it too)."""

    url: str
    service: TrainRec


@pytest.fixture
def site(chromium: Browser, county: TrainRec) -> Iterator[Site]:
    with serving(create_app(county, SECRET)) as url:
        yield Site(url, county)


@contextmanager
def _browsing(chromium: Browser, site: Site, **options: Any) -> Iterator[Page]:
    """A page of a fresh context; afterwards, no script of it failed and the pages' policy blocked
    nothing (a style sheet, a form or a handler the Content-Security-Policy refuses works only in tests
    that are not a browser)."""
    context = chromium.new_context(base_url=site.url, locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(STEP_TIMEOUT)
    troubles: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: troubles.append(f"script error: {error}"))
    page.on("console", lambda message: troubles.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        yield page
    finally:
        context.close()
    assert troubles == [], troubles


@pytest.fixture
def page(chromium: Browser, site: Site) -> Iterator[Page]:
    """A fresh browser (no cookies) at desktop width, 1280×800."""
    with _browsing(chromium, site, viewport=DESKTOP) as browsing:
        yield browsing


@pytest.fixture
def phone(chromium: Browser, site: Site) -> Iterator[Page]:
    """A fresh browser as a phone's, 375×812 (honours the pages' viewport meta, touch)."""
    with _browsing(chromium, site, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2) as browsing:
        yield browsing
