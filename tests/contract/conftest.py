"""The binding contract suite runs every test once per implementation.

`local` is Pixhaven's own emulation (src/pixhaven/local/). `miniflare` is Cloudflare's
emulator inside wrangler, reached through the bridge Worker in tests/miniflare/; it is
skipped when Node/npm or the installed wrangler are missing, unless
PIXHAVEN_REQUIRE_MINIFLARE=1 (CI sets it), in which case its absence is a failure.
Where the two disagree, the local binding is the one to fix.
"""

import pytest

IMPLEMENTATIONS = ["local", "miniflare"]


@pytest.fixture(scope="session")
def miniflare():
    from tests.miniflare.bridge import MiniflareBridge

    bridge = MiniflareBridge.start_or_skip()
    yield bridge
    bridge.stop()


@pytest.fixture(params=IMPLEMENTATIONS)
async def d1(request, tmp_path):
    """An empty D1 database."""
    if request.param == "local":
        from pixhaven.local.bindings.d1 import LocalD1

        database = LocalD1(tmp_path / "d1.sqlite3")
        yield database
        database.close()
    else:
        bridge = request.getfixturevalue("miniflare")
        yield await bridge.fresh_d1()


@pytest.fixture(params=IMPLEMENTATIONS)
async def r2(request, tmp_path):
    """An empty R2 bucket."""
    if request.param == "local":
        from pixhaven.local.bindings.r2 import LocalR2

        yield LocalR2(tmp_path / "bucket")
    else:
        bridge = request.getfixturevalue("miniflare")
        yield await bridge.fresh_r2()


# The browser binding (`env.BROWSER`): every test takes an object with the contract's
# `fetch(url, method=, body=)` shape. "local" is LocalBrowser (Playwright + Chromium);
# "companion" is the companion Worker's page logic (browser/src/) under Node with the same
# Chromium, driven over HTTP as the service binding carries it (tests/contract/
# companion_harness.py). Each has a strict instance and one told, test-only, to let
# loopback destinations through.
BROWSER_IMPLEMENTATIONS = ["local", "companion"]


@pytest.fixture(scope="session")
def local_browsers():
    """(strict, loopback-allowed) LocalBrowsers shared by the session: each launches its
    Chromium once, on first use."""
    import asyncio

    from pixhaven.local.bindings.browser import LocalBrowser
    from pixhaven.local.runtime.browser_scripts import ScriptCache
    from tests.browser_support import require_browser

    require_browser()
    scripts = ScriptCache().ensure
    strict = LocalBrowser(None, allow_loopback=False, script_path=scripts)
    loopback = LocalBrowser(None, allow_loopback=True, script_path=scripts)
    yield strict, loopback
    for browser in (strict, loopback):
        asyncio.run(browser.close())


@pytest.fixture(scope="session")
def companion_browsers():
    """(strict, loopback-allowed) harnesses of the companion's page logic."""
    from tests.contract.companion_harness import Harness

    strict = Harness.start_or_skip(allow_loopback_ports=[])
    try:
        loopback = Harness.start_or_skip(allow_loopback_ports=["any"])
    except BaseException:
        strict.stop()
        raise
    yield strict.browser, loopback.browser
    strict.stop()
    loopback.stop()


@pytest.fixture(params=BROWSER_IMPLEMENTATIONS)
def browser_implementation(request):
    """(strict, loopback-allowed) of one implementation: a test that takes both `browser`
    and `loopback_browser` gets the two of the same implementation."""
    return request.getfixturevalue(f"{request.param}_browsers")


@pytest.fixture
def browser(browser_implementation):
    """A browser with the default outbound rules (no loopback)."""
    return browser_implementation[0]


@pytest.fixture
def loopback_browser(browser_implementation):
    """A browser told (test-only) to let loopback destinations through."""
    return browser_implementation[1]
