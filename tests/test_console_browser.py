"""The console end to end in Chromium, against a real `pixhaven dev`: sign-in, keys, usage,
and /docs and /redoc offline. Every test's page may only talk to its own origin
(tests/console_support.py checks the request log after each test), screenshots go to
test-artifacts/console/, and axe-core finds no serious or critical violation on the main
views."""

import re

import httpx

from tests.conftest import ADMIN_TOKEN

# The fixtures: `console` (a page on a real `pixhaven dev`), `chromium`, `console_server`.
pytest_plugins = ["tests.console_support"]


def expect_text(locator, pattern: str) -> None:
    from playwright.sync_api import expect

    expect(locator).to_contain_text(re.compile(pattern))


def test_sign_in_refuses_a_bad_token_and_keeps_a_good_one(console):
    page = console.page
    console.goto("/#/keys")
    page.wait_for_url(re.compile(r"#/signin$"))  # not signed in: every view asks first
    assert page.get_by_role("navigation", name="Console").is_hidden()
    console.assert_accessible("sign-in")
    console.screenshot("signin")

    page.get_by_label("API key or admin token").fill("not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect_text(page.locator("#signin-error"), "Unauthorized.*unknown or revoked API key")
    console.screenshot("signin-refused")
    assert page.evaluate("sessionStorage.getItem('pixhaven.token')") is None

    page.get_by_label("API key or admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    nav = page.get_by_role("navigation", name="Console")
    nav.wait_for()
    page.wait_for_url(re.compile(r"#/keys$"))  # where it was going before signing in
    assert nav.get_by_role("link", name="Usage").is_visible()
    assert page.evaluate("sessionStorage.getItem('pixhaven.token')") == ADMIN_TOKEN

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"#/signin$"))
    assert page.evaluate("sessionStorage.getItem('pixhaven.token')") is None
    console.goto("/#/usage")
    page.wait_for_url(re.compile(r"#/signin$"))


def test_dark_mode_and_the_mobile_nav(console):
    page = console.page
    page.emulate_media(color_scheme="dark")
    console.sign_in()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    toggle = page.get_by_role("button", name="Dark mode")
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"  # remembered
    toggle.click()

    page.set_viewport_size({"width": 375, "height": 740})
    menu = page.get_by_role("button", name="Menu")
    links = page.get_by_role("navigation", name="Console").get_by_role("link", name="Usage")
    assert menu.is_visible() and not links.is_visible()
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true" and links.is_visible()
    console.screenshot("mobile-nav-dark")
    # Nothing wider than the phone's screen (no sideways scrolling of the page).
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    links.click()
    page.wait_for_url(re.compile(r"#/usage$"))
    assert not links.is_visible()  # the menu closes on navigation

    # Keyboard: the skip link is the first stop and moves to the main landmark, and the
    # route stays.
    page.reload()
    page.get_by_role("heading", name="Usage and cost").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url.endswith("#/usage")


def test_a_key_is_created_shown_once_and_revoked(console):
    page = console.page
    console.sign_in()
    console.goto("/#/keys")
    page.get_by_label("Name").fill("console test key")
    page.get_by_label("render").check()
    page.get_by_role("button", name="Create key").click()
    shown = page.get_by_label("The new key")
    shown.wait_for()
    key = shown.input_value()
    assert len(key) > 20
    console.screenshot("keys-created")
    with httpx.Client(base_url=console.base_url, trust_env=False) as http:
        check = http.post("/api/validate-api-key", headers={"Authorization": f"Bearer {key}"})
        assert check.status_code == 200

    page.get_by_role("button", name="Done").click()
    assert shown.is_hidden() and shown.input_value() == ""
    page.reload()
    assert key not in page.content()  # the list shows its first characters only
    row = page.locator("tr", has_text="console test key")
    expect_text(row, "Active")
    expect_text(row, "images:read, render")
    console.assert_accessible("keys")
    console.screenshot("keys-list")

    row.get_by_role("button", name="Revoke console test key").click()
    dialog = page.get_by_role("dialog", name="Revoke this key?")
    dialog.wait_for()
    console.screenshot("keys-revoke-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect_text(row, "Active")
    row.get_by_role("button", name="Revoke console test key").click()
    dialog.get_by_role("button", name="Revoke key").click()
    expect_text(row, "Revoked")
    console.screenshot("keys-revoked")
    with httpx.Client(base_url=console.base_url, trust_env=False) as http:
        check = http.post("/api/validate-api-key", headers={"Authorization": f"Bearer {key}"})
        assert check.status_code == 401


def test_the_usage_view_draws_its_charts_with_a_text_alternative(console):
    page = console.page
    console.sign_in()
    console.goto("/#/usage")
    charts = page.get_by_role("img", name=re.compile(r"^(Requests|Cost) per day"))
    charts.first.wait_for()
    assert charts.count() == 2
    with httpx.Client(base_url=console.base_url, trust_env=False) as http:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        days = {
            n: http.get(f"/api/analytics/usage?days={n}", headers=admin).json()["period"]["days"]
            for n in (7, 30)
        }
    expect_text(page.locator("#usage-status"), rf"^{days[30]} days")
    tables = page.locator("table")
    assert tables.count() >= 2
    assert tables.first.locator("tbody tr").count() == days[30]  # a row per day
    page.get_by_label("Period").select_option("7")
    expect_text(page.locator("#usage-status"), rf"^{days[7]} days")
    console.assert_accessible("usage")
    console.screenshot("usage")


def test_swagger_ui_works_offline_with_authorize(vendored_libraries, console):
    page = console.page
    console.goto("/docs")
    page.locator(".swagger-ui .info .title").wait_for(timeout=60_000)
    assert page.locator("#docs-missing").count() == 0
    console.assert_accessible("docs")
    page.get_by_role("button", name=re.compile("^Authorize")).first.click()
    dialog = page.locator(".modal-ux")
    dialog.locator("input").first.fill(ADMIN_TOKEN)
    dialog.get_by_role("button", name="Apply credentials").click()
    dialog.get_by_role("button", name="Close", exact=True).click()

    operation = page.locator("#operations-PixelFlare-list_keys_v1_keys_get")
    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    expect_text(status, "^200$")
    operation.scroll_into_view_if_needed()
    console.screenshot("docs-try-it-out", full_page=False)
    assert any(url.endswith("/v1/keys") for url in console.requests)


def test_redoc_loads_offline(vendored_libraries, console):
    page = console.page
    console.goto("/redoc")
    # ReDoc lays out the whole document before it shows anything: on a busy machine that
    # takes a while (a deadline, not a measurement).
    page.get_by_role("heading", name=re.compile("^Pixhaven")).first.wait_for(timeout=90_000)
    assert page.locator("#docs-missing").count() == 0
    console.screenshot("redoc", full_page=False)


def test_the_api_module_keeps_its_contract(console):
    """What other views build on: api() turns the envelope into an ApiError, 204 into null;
    uploadWithProgress() reports progress, answers {status, json}, and cancels."""
    console.sign_in()
    result = console.page.evaluate(
        """async () => {
            const m = await import("/api.js");
            const out = {};
            try {
                await m.api("/v1/keys/no-such-key", { method: "DELETE" });
            } catch (error) {
                out.error = {
                    isApiError: error instanceof m.ApiError, status: error.status,
                    code: error.code, message: error.message, details: error.details,
                };
            }
            out.created = await m.api("/v1/keys", {
                json: { name: "contract", scopes: ["images:read"] },
            });
            const progress = [];
            const body = new Blob([JSON.stringify({ padding: "x".repeat(200000) })]);
            out.upload = await m.uploadWithProgress("/api/validate-api-key", {
                body, headers: { "Content-Type": "application/json" },
                onProgress: (event) => progress.push(event),
            });
            out.progress = progress.length && progress.at(-1);
            const aborted = new AbortController();
            aborted.abort();
            try {
                await m.uploadWithProgress("/api/validate-api-key", { body, signal: aborted.signal });
            } catch (error) {
                out.cancelled = error.name;
            }
            out.tokenKept = m.getToken() !== null;
            return out;
        }"""
    )
    assert result["error"]["isApiError"] and result["error"]["status"] == 404
    assert result["error"]["code"] == "NOT_FOUND" and result["error"]["message"]
    assert isinstance(result["error"]["details"], dict)
    assert result["created"]["name"] == "contract" and result["created"]["key"]
    assert result["upload"] == {"status": 200, "json": {"success": True, "valid": True}}
    assert result["progress"]["loaded"] == result["progress"]["total"] > 200000
    assert result["cancelled"] == "AbortError"
    assert result["tokenKept"]


def test_the_docs_pages_say_what_to_install_when_the_libraries_are_missing(console):
    """A server without console/vendor (here: its files refused to the page) shows how to
    install them, never a blank page."""
    page = console.page
    page.route("**/vendor/**", lambda route: route.fulfill(status=404, body=""))
    for path, library in (("/docs", "Swagger UI"), ("/redoc", "ReDoc")):
        console.goto(path)
        message = page.get_by_role("alert")
        expect_text(message, f"{library} is not installed on this server")
        expect_text(message, "pixhaven console install")
    console.assert_accessible("docs-missing")
    console.screenshot("docs-missing")
