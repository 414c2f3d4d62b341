"""Browser fixtures: the app under pytest-django's live_server, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Error, Page, Playwright, sync_playwright

# Playwright's sync API keeps an event loop running in the test thread, so Django's
# async-safety guard would refuse the ORM calls pytest-django makes around each test
# (flushing the database). This only affects the test process, never the app.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

#: Where Debian's `chromium` package installs the browser; CHROMIUM_PATH overrides it.
DEFAULT_CHROMIUM = "/usr/bin/chromium"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

MISSING_BROWSER = (
    "Browser tests need Chromium at {path} (set CHROMIUM_PATH to use another one). "
    "Install it with `make chromium`. These tests fail rather than skip, so CI cannot pass without running them."
)


def chromium_path() -> str:
    """Return the Chromium executable the browser tests launch."""
    return os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Start Playwright once for the whole run."""
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Launch headless Chromium once; fail (never skip) when it is not installed."""
    path = chromium_path()
    if not Path(path).is_file() or not os.access(path, os.X_OK):
        pytest.fail(MISSING_BROWSER.format(path=path), pytrace=False)
    try:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
    except Error as exc:
        pytest.fail(f"{MISSING_BROWSER.format(path=path)}\nLaunching it failed: {exc}", pytrace=False)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """Return a factory of pages, each in a fresh context aimed at the live server; close them all afterwards."""
    contexts: list[BrowserContext] = []

    def make(**context_options) -> Page:
        context = browser.new_context(base_url=live_server.url, **context_options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """Return a page in a fresh browser context, with JavaScript on."""
    return new_page()
