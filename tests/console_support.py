"""What the console's browser tests share: a real `pixhaven dev` serving the console, a
Chromium page that records every request it makes (the tests assert none left the origin),
screenshots saved under test-artifacts/console/ (git-ignored) and axe-core's accessibility
check, failing on serious or critical violations.

Skips where Playwright, Chromium or axe-core (root package.json, `npm ci`) is missing, unless
PIXHAVEN_REQUIRE_BROWSER=1, where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pixhaven.local.bindings.browser import find_executable
from tests.browser_support import require_browser
from tests.conftest import ADMIN_TOKEN, ROOT
from tests.dev_server import run_dev_server

ARTIFACTS = ROOT / "test-artifacts" / "console"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VENDOR = ROOT / "console" / "vendor"
BLOCKING_IMPACTS = {"serious", "critical"}
# Schemes that never go over the network.
LOCAL_SCHEMES = {"data", "blob", "about"}


def missing(message: str) -> None:
    if os.environ.get("PIXHAVEN_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def vendored_libraries() -> None:
    """Swagger UI and ReDoc in console/vendor (`pixhaven console install`), or skip."""
    if (
        not (VENDOR / "swagger-ui" / "swagger-ui-bundle.js").is_file()
        or not (VENDOR / "redoc" / "redoc.standalone.js").is_file()
    ):
        missing("Swagger UI and ReDoc are not installed (pixhaven console install)")


class ConsolePage:
    """One browser page on the console, with its request log."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.requests: list[str] = []
        self.console_messages: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda message: self.console_messages.append(message.text))
        page.on("pageerror", lambda error: self.console_messages.append(f"error: {error}"))

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def sign_in(self, token: str = ADMIN_TOKEN) -> None:
        self.goto("/#/signin")
        self.page.get_by_label("API key or admin token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.get_by_role("navigation", name="Console").wait_for()

    def off_origin_requests(self) -> list[str]:
        origin = urlsplit(self.base_url)
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in LOCAL_SCHEMES
            and (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
        ]

    def assert_same_origin(self) -> None:
        assert self.requests, "the page made no request at all"
        assert self.off_origin_requests() == []

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_accessible(self, name: str) -> None:
        """axe-core on the page as it is now: no serious or critical violation."""
        if not AXE.is_file():
            missing("axe-core is not installed (npm ci at the repository's root)")
        self.page.add_script_tag(path=str(AXE))
        violations = self.page.evaluate(
            """async () => {
                const result = await axe.run(document, { resultTypes: ["violations"] });
                return result.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
                }));
            }"""
        )
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert blocking == [], f"{name}: {blocking}"


@pytest.fixture(scope="module")
def console_server(tmp_path_factory) -> Iterator[str]:
    yield from run_dev_server(tmp_path_factory.mktemp("console"))


@pytest.fixture(scope="module")
def chromium():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = find_executable()
        browser = playwright.chromium.launch(
            **({"executable_path": executable} if executable else {}),
            args=["--no-sandbox"],
        )
        yield browser
        browser.close()


@pytest.fixture
def console(chromium, console_server) -> Iterator[ConsolePage]:
    """A fresh browser context (its own sessionStorage) on the console; after the test, no
    request it made may have left the origin."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = ConsolePage(context.new_page(), console_server)
    try:
        yield page
        page.assert_same_origin()
        assert not [m for m in page.console_messages if ADMIN_TOKEN in m], "token logged"
    finally:
        context.close()
