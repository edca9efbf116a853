"""The console's templates and webhooks views in Chromium against a real `pixhaven dev`:
an HTML template whose live preview follows its colour variable (read back from the
preview's pixels), the FabricJS starter's bound colour, a component template saved,
rendered and batch rendered to completion, the list's delete with its confirmation dialog,
and webhook subscriptions created (the secret shown once), paused, resumed and deleted.
Every request must stay on the origin (tests/console_support.py); screenshots go to
test-artifacts/console/ and axe-core checks the list, the editor (in dark mode too) and the
webhooks view."""

import re
import time

from tests.conftest import ADMIN_TOKEN

# The fixtures: `console` (a page on a real `pixhaven dev`), `chromium`, `console_server`.
pytest_plugins = ["tests.console_support"]

RED, GREEN = (255, 0, 0), (0, 255, 0)
WAIT_SECONDS = 60.0  # how long a render may take on a loaded machine (not a measurement)

# The preview's centre pixel, drawn into a canvas (a blob: image is same-origin, so the
# canvas is readable).
PREVIEW_PIXEL = """async () => {
    const image = document.querySelector(".preview-image");
    if (!image || image.hidden || !image.src) return null;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const x = Math.floor(canvas.width / 2), y = Math.floor(canvas.height / 2);
    return Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
}"""


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def near(pixel, colour, tolerance=8) -> bool:
    return pixel is not None and all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def wait_for_preview_colour(page, colour) -> None:
    """Waits until the preview shows `colour` at its centre (renders are debounced and the
    browser renders HTML in its own time)."""
    deadline = time.monotonic() + WAIT_SECONDS
    pixel = None
    while time.monotonic() < deadline:
        pixel = page.evaluate(PREVIEW_PIXEL)
        if near(pixel, colour):
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the preview stayed {pixel}, never {colour}")


def preview_bytes(page) -> list[int]:
    return page.evaluate(
        """async () => {
            const blob = await (await fetch(document.querySelector(".preview-image").src)).blob();
            return Array.from(new Uint8Array(await blob.arrayBuffer()));
        }"""
    )


def new_template(console, engine: str, name: str) -> None:
    console.goto(f"/#/templates?new={engine}")
    console.page.get_by_label("Name", exact=True).fill(name)


def save_new(page) -> str:
    """Saves the draft; answers the uid the editor moved to."""
    page.get_by_role("button", name="Save template").click()
    page.wait_for_url(re.compile(r"#/templates\?uid="))
    page.get_by_role("button", name="Save changes").wait_for()
    return page.url.split("uid=")[1]


def test_html_preview_follows_the_colour_variable_then_saves(console):
    page = console.page
    console.sign_in()
    new_template(console, "html", "Flat colour")
    source = page.get_by_label(re.compile("^HTML"))
    source.fill(
        '<html><body style="margin:0">'
        '<div style="background:{{ bg }};width:100%;height:100vh"></div></body></html>'
    )
    page.get_by_label("Width (px)").fill("80")
    page.get_by_label("Height (px)").fill("40")
    # The starter's second variable is not in this HTML: remove it.
    page.get_by_role("button", name="Remove variable 2").click()
    expect(page.get_by_label("Variable 2 name")).to_have_count(0)

    colour = page.get_by_label(re.compile(r"^bg"))
    colour.fill("#ff0000")
    wait_for_preview_colour(page, RED)
    red = preview_bytes(page)
    colour.fill("#00ff00")
    wait_for_preview_colour(page, GREEN)
    assert preview_bytes(page) != red
    console.screenshot("template-editor-html")

    # Saved with green as the default: reopened, the preview shows it without a value.
    page.get_by_label("Variable 1 default").fill("#00ff00")
    uid = save_new(page)
    expect(page.get_by_role("heading", name="Flat colour", level=1)).to_be_visible()
    # Reopened from the API: the HTML, the size and the declared colour came back.
    assert "{{ bg }}" in page.get_by_label(re.compile("^HTML")).input_value()
    assert page.get_by_label("Width (px)").input_value() == "80"
    assert page.get_by_label("Variable 1 name").input_value() == "bg"
    wait_for_preview_colour(page, GREEN)
    assert uid


def test_fabric_starter_previews_its_bound_colour(console):
    """The FabricJS starter: a rectangle whose fill is bound to `bg`, drawn by fabric.js in
    the server's browser."""
    page = console.page
    console.sign_in()
    new_template(console, "fabric", "Fabric card")
    # A colour value not set by hand follows its default (#rgb shown as #rrggbb).
    page.get_by_label("Variable 1 default").fill("#f00")
    expect(page.get_by_label(re.compile(r"^bg"))).to_have_value("#ff0000")
    wait_for_preview_colour(page, RED)
    save_new(page)
    expect(page.get_by_label(re.compile("^FabricJS canvas JSON"))).to_have_value(
        re.compile("variableBindings")
    )


def test_component_template_errors_save_render_and_batch(console):
    page = console.page
    page.emulate_media(color_scheme="dark")
    console.sign_in()
    new_template(console, "document", "Card")
    preview = page.locator(".preview-pane")
    expect(page.locator(".preview-image")).to_be_visible(timeout=WAIT_SECONDS * 1000)

    # JSON that does not parse is refused in the page, without a request.
    source = page.get_by_label(re.compile("^Component document JSON"))
    good = source.input_value()
    source.fill(good.replace('"components"', '"components" oops'))
    expect(preview.locator(".field-errors")).to_contain_text("document: not valid JSON")
    expect(page.locator(".preview-image")).to_be_hidden()
    # The API's 400 names the field: an unknown placeholder.
    source.fill(good.replace("{{title}}", "{{nope}}"))
    expect(preview.locator(".field-errors")).to_contain_text("nope", timeout=WAIT_SECONDS * 1000)
    source.fill(good)
    expect(page.locator(".preview-image")).to_be_visible(timeout=WAIT_SECONDS * 1000)
    console.screenshot("template-editor-dark")
    console.assert_accessible("template editor (dark)")

    save_new(page)
    page.get_by_label(re.compile(r"^title")).fill("Rendered once")
    page.get_by_role("button", name="Render", exact=True).click()
    link = page.locator(".render-url")
    expect(link).to_have_attribute(
        "href", re.compile("^http://127.0.0.1"), timeout=WAIT_SECONDS * 1000
    )
    page.wait_for_function(
        "() => { const i = document.querySelector('.render-image'); return i && i.naturalWidth > 0; }"
    )

    # Three variable sets: one typed into a row, two pasted as CSV.
    page.get_by_role("button", name="Add row").click()
    page.get_by_label("Row 1 title").fill("First")
    page.get_by_label("Row 1 bg").fill("#ff0000")
    page.get_by_label(re.compile("^Paste rows")).fill(
        'title,bg\nSecond,#00ff00\n"Third, last",#0000ff'
    )
    page.get_by_role("button", name="Add pasted rows").click()
    expect(page.get_by_label("Row 3 title")).to_have_value("Third, last")
    page.get_by_role("button", name="Render batch").click()
    progress = page.locator(".batch-progress")
    expect(progress).to_have_attribute("data-status", "completed", timeout=WAIT_SECONDS * 1000)
    assert page.locator("#batch-progress").evaluate("bar => bar.value") == 100
    results = page.locator(".batch-result-list a")
    expect(results).to_have_count(3)
    assert all(
        href.startswith("http://127.0.0.1")
        for href in results.evaluate_all("links => links.map((a) => a.href)")
    )
    console.screenshot("template-batch")

    # Saving again updates the same template (PUT): renamed, and still so after a reload.
    page.get_by_label("Name", exact=True).fill("Card, renamed")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Card, renamed", level=1)).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Card, renamed", level=1)).to_be_visible()


def test_template_list_opens_and_deletes_after_confirmation(console):
    page = console.page
    console.sign_in()
    new_template(console, "document", "Kept card")
    kept = save_new(page)
    new_template(console, "document", "To be deleted <b>not bold</b>")
    save_new(page)
    console.goto("/#/templates")
    row = page.get_by_role("row", name=re.compile("To be deleted"))
    # The name is text, never markup.
    expect(row.get_by_role("link")).to_have_text("To be deleted <b>not bold</b>")
    expect(row).to_contain_text("Component document")
    console.assert_accessible("templates list")
    console.screenshot("templates-list")

    delete = row.get_by_role("button", name=re.compile("^Delete"))
    delete.click()
    dialog = page.get_by_role("dialog", name="Delete this template?")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # closes without deleting; the focus goes back
    expect(dialog).to_have_count(0)
    expect(delete).to_be_focused()
    delete.click()
    page.get_by_role("button", name="Delete template").click()
    expect(page.get_by_role("row", name=re.compile("To be deleted"))).to_have_count(0)
    expect(page.get_by_role("heading", name="Saved templates")).to_be_focused()

    page.get_by_role("link", name="Kept card").click()
    page.wait_for_url(re.compile(rf"#/templates\?uid={kept}$"))
    expect(page.get_by_role("heading", name="Kept card", level=1)).to_be_visible()

    # On a phone the editor is one column and nothing makes the page scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator(".preview-image")).to_be_visible(timeout=WAIT_SECONDS * 1000)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    console.screenshot("template-editor-mobile")


def test_webhooks_create_pause_resume_deliveries_delete(console):
    page = console.page
    console.sign_in()
    console.goto("/#/webhooks")
    url = page.get_by_label("Target URL")
    url.fill("http://127.0.0.1:9/hook")  # loopback: refused, and the 400 says why
    page.get_by_role("button", name="Create subscription").click()
    expect(page.locator("form [role=alert]")).to_contain_text("url")

    target = "https://93.184.215.14/pixhaven-hook"  # a public literal address: no DNS needed
    url.fill(target)
    page.get_by_label("batch.completed").check()
    page.get_by_label("Description").fill("console test")
    page.get_by_role("button", name="Create subscription").click()
    secret = page.get_by_label("Signing secret")
    expect(secret).to_have_value(re.compile("^whsec_"))
    expect(secret).to_be_focused()
    console.screenshot("webhooks-created")
    page.get_by_role("button", name="Done").click()
    expect(secret).to_be_hidden()

    row = page.get_by_role("row", name=target)
    expect(row).to_contain_text("batch.completed")
    expect(row).to_contain_text("active")
    console.assert_accessible("webhooks")
    row.get_by_role("button", name=re.compile("^Pause")).click()
    expect(row).to_contain_text("paused")
    row.get_by_role("button", name=re.compile("^Resume")).click()
    expect(row).to_contain_text("active")
    row.get_by_role("button", name=re.compile("^Deliveries")).click()
    expect(page.get_by_role("heading", name=re.compile("^Deliveries to"))).to_be_focused()
    expect(page.locator(".deliveries [role=status]")).to_have_text("Nothing delivered yet.")
    console.screenshot("webhooks")

    row.get_by_role("button", name=re.compile("^Delete")).click()
    page.get_by_role("button", name="Delete subscription").click()
    expect(page.get_by_role("row", name=target)).to_have_count(0)
    assert ADMIN_TOKEN not in page.content()
