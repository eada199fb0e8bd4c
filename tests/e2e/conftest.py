"""Browser tests: the app served on a real port, driven by Debian's Chromium through Playwright.

One live server and one Chromium per run (all browser tests share the xdist group "browser"),
a fresh browser context and page per test, at a phone and a desktop viewport.
"""
from __future__ import annotations

import os
import threading
import traceback

import pytest
from flask import got_request_exception
from werkzeug.serving import make_server

from tests.clock import BASE, ProductClock

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
E2E_DIR = os.path.dirname(os.path.abspath(__file__))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the group marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.path).startswith(E2E_DIR + os.sep):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("browser"))


class LiveServer(str):
    """The base URL; `.errors` holds tracebacks of exceptions the served app raised."""

    errors: list[str]


@pytest.fixture(autouse=True)
def clock():
    """The portal's clock at BASE, as in every other test; Chromium keeps the real one."""
    test_clock = ProductClock(BASE)
    yield test_clock
    test_clock.stop()


@pytest.fixture(scope="session")
def live_server(app):
    """The session's app (and so its database and outbox) served on 127.0.0.1, a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = LiveServer(f"http://127.0.0.1:{server.server_port}")
    url.errors = []

    def note_exception(sender, exception, **extra):
        if threading.current_thread() is not threading.main_thread():  # not a test client
            url.errors.append("".join(traceback.format_exception(exception)))

    got_request_exception.connect(note_exception, app, weak=False)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=5)
    got_request_exception.disconnect(note_exception, app)


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    """The viewport a test runs at: "phone" (390x844, touch) or "desktop" (1280x800)."""
    return request.param


@pytest.fixture()
def page(browser, live_server, viewport, db):
    """A fresh context and page, based at the live server; fails the test on a server error
    (with its traceback), a CSP violation or an uncaught script error."""
    live_server.errors.clear()
    context = browser.new_context(base_url=live_server, locale="en-GB", **VIEWPORTS[viewport])
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    yield page
    context.close()
    problems[:0] = [f"server error:\n{error}" for error in live_server.errors]
    assert not problems, "\n".join(problems)
