"""Headless Chromium driven by Playwright against pytest-django's live server.

One browser per test module; each test gets a fresh context (cookies, storage) and page.
On failure the page is saved to <artifacts>/<test id>.png for the CI job to upload; <artifacts> is
TEST_ARTIFACTS_DIR, by default .run/test-artifacts in the project (git-ignored, like all of .run/).

While Playwright runs, its sync API keeps an asyncio loop marked as running in this thread, and
Django refuses ORM calls from such a thread unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The browser
therefore lives only as long as the module that uses it, and the variable is set only for that
long: the rest of the suite keeps Django's async-safety checks, and subprocesses it starts (such
as `manage.py check --deploy`) do not inherit the variable.
"""

import os
import re
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("KAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROJECT = Path(__file__).resolve().parents[2]
# Screenshots of failures, of the layout checks and of the role journeys; a relative path counts from the project.
ARTIFACTS = PROJECT / os.environ.get("TEST_ARTIFACTS_DIR", ".run/test-artifacts")
# Generous for a cold first page, short enough that a broken page fails the test quickly.
TIMEOUT_MS = 10_000


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[dev]')")

    set_here = "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:
            skip_or_fail(f"Chromium did not start: {exc}")
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
        if set_here:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(request, browser, live_server):
    """A new page in a clean browser context; relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            except Exception:  # noqa: S110 - a missing screenshot must not hide the real failure
                pass
        context.close()
