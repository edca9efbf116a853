"""The console's image views in a real Chromium against a real `pixhaven dev`: uploading
through the page (with its progress events), the gallery's ThumbHash placeholders giving way
to the thumbnails, filters, the detail dialog's edits, delete and restore from the trash,
tags and albums, and the random-image link builder.

The server is module-scoped (tests/console_support.py): each test makes the images it looks
at, through the HTTP API unless the upload itself is the subject, with tags of its own so the
tests do not see each other's images.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from pixhaven.imaging.placeholder import thumbhash_average_rgba
from tests.conftest import ADMIN_TOKEN
from tests.imagegen import image_bytes, unique_jpeg

# The `console` fixture and the module-scoped server and browser it stands on.
pytest_plugins = ["tests.console_support"]

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def seed(base_url: str, tags: str, count: int, start: int = 0, **fields: str) -> list[dict]:
    """`count` distinct JPEGs uploaded over HTTP with `tags`; their /v1 resources, oldest
    first."""
    made = []
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as client:
        for seed_number in range(start, start + count):
            answer = client.post(
                "/api/upload/single",
                files={"image": (f"seed-{seed_number}.jpg", unique_jpeg(seed_number, 96, 64))},
                data={"tags": tags, **fields},
            )
            assert answer.status_code == 200, answer.text
            image = client.get(f"/v1/images/{answer.json()['result']['id']}")
            made.append(image.json())
    return made


def test_upload_two_images_with_progress_and_results(console):
    console.sign_in()
    console.goto("/#/upload")
    page = console.page
    page.get_by_label("Tags").fill("upload-test, browser")
    page.get_by_label("Expires after").select_option(label="1 day")
    page.get_by_label("Quality").fill("80")
    # The visible "Choose images" button is the label of the real file input.
    page.get_by_label("Choose images").set_input_files(
        [
            {"name": "red.png", "mimeType": "image/png", "buffer": image_bytes(120, 80, "PNG")},
            {"name": "blue.jpg", "mimeType": "image/jpeg", "buffer": unique_jpeg(7, 80, 120)},
        ]
    )
    rows = page.locator(".upload-row")
    rows.first.wait_for()
    page.wait_for_function(
        "document.querySelectorAll('.upload-row .upload-result img').length === 2"
    )
    assert rows.count() == 2
    for index in range(2):
        row = rows.nth(index)
        assert row.locator(".upload-status").text_content() == "Uploaded."
        assert row.locator("progress").evaluate("bar => bar.value") == 100
    events = page.evaluate("window.__pixhavenUploadEvents")
    assert {event["file"] for event in events} == {"red.png", "blue.jpg"}
    assert all(event["loaded"] > 0 for event in events)
    page.wait_for_function(
        "[...document.querySelectorAll('.upload-result img')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    console.screenshot("upload")
    console.assert_accessible("upload")
    ids = [
        href.split("image=")[1]
        for href in page.locator(".upload-result a:not(:has(img))").evaluate_all(
            "links => links.map((link) => link.getAttribute('href'))"
        )
    ]
    with httpx.Client(base_url=console.base_url, headers=AUTH) as client:
        stored = [client.get(f"/v1/images/{image_id}").json() for image_id in ids]
    assert sorted(image["filename"] for image in stored) == ["blue.jpg", "red.png"]
    for image in stored:
        assert image["tags"] == ["browser", "upload-test"]
        assert image["expires_at"] is not None


def test_upload_of_a_broken_file_says_why(console):
    console.sign_in()
    console.goto("/#/upload")
    page = console.page
    page.get_by_label("Choose images").set_input_files(
        [{"name": "broken.png", "mimeType": "image/png", "buffer": b"not an image at all"}]
    )
    status = page.locator(".upload-status.error")
    status.wait_for()
    assert status.text_content().startswith("Failed: ")
    assert page.get_by_role("button", name="Cancel").count() == 0


def test_upload_into_a_new_album_uses_the_two_step_upload(console):
    console.sign_in()
    console.goto("/#/upload")
    page = console.page
    page.get_by_label("Album", exact=True).select_option("__new__")
    page.get_by_label("New album slug").fill("browser-album")
    page.get_by_label("Expires after").select_option(label="7 days")
    page.locator("#upload-files").set_input_files(
        [{"name": "album.png", "mimeType": "image/png", "buffer": image_bytes(90, 60, "PNG")}]
    )
    page.locator(".upload-result img").wait_for()
    link = page.get_by_role("link", name="Open album.png").get_attribute("href")
    image_id = link.split("image=")[1]
    with httpx.Client(base_url=console.base_url, headers=AUTH) as client:
        image = client.get(f"/v1/images/{image_id}").json()
    assert image["album"] == "browser-album"
    assert image["status"] == "ready"
    assert image["expires_at"] is not None
    events = page.evaluate("window.__pixhavenUploadEvents")
    assert [e for e in events if e["file"] == "album.png"]


def test_cancel_removes_a_pending_two_step_upload(console):
    console.sign_in()
    console.goto("/#/upload")
    page = console.page
    held = []
    # Hold the PUT of the bytes: the upload stays in flight until the test cancels it.
    page.route("**/v1/uploads/**", lambda route: held.append(route))
    page.get_by_label("Album", exact=True).select_option("__new__")
    page.get_by_label("New album slug").fill("cancelled")
    created = page.expect_response(lambda r: r.url.endswith("/v1/images") and r.status == 201)
    with page.expect_request("**/v1/uploads/**"), created as made:
        page.locator("#upload-files").set_input_files(
            [{"name": "gone.png", "mimeType": "image/png", "buffer": image_bytes(50, 50, "PNG")}]
        )
    image_id = made.value.json()["id"]
    with page.expect_response(lambda r: r.request.method == "DELETE"):
        page.get_by_role("button", name="Cancel").click()
    assert page.locator(".upload-status").text_content() == "Cancelled."
    with httpx.Client(base_url=console.base_url, headers=AUTH) as client:
        assert client.get(f"/v1/images/{image_id}").status_code == 404


def test_gallery_shows_placeholders_then_thumbnails(console):
    seed(console.base_url, "placeholder-test", 3, start=100)
    page = console.page
    held = []
    # Hold the thumbnails back: what the grid shows meanwhile is the ThumbHash placeholders.
    # From before sign-in: the gallery it lands on shows these images too, and a thumbnail
    # that had loaded there would be shown again from the document's memory, with no request.
    page.route("**/r2/**", lambda route: held.append(route))
    console.sign_in()
    console.goto("/#/gallery?tag=placeholder-test")
    tiles = page.locator(".tile")
    page.wait_for_function("document.querySelectorAll('.tile').length === 3")
    assert page.locator(".tile-frame canvas.placeholder").count() == 3
    assert page.locator(".tile-frame.loaded").count() == 0
    # The canvases hold decoded pixels, not a blank: some are not transparent.
    assert page.evaluate(
        """() => [...document.querySelectorAll('canvas.placeholder')].every((canvas) => {
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
            return pixels.data.some((value, index) => index % 4 === 3 && value > 0);
        })"""
    )
    console.screenshot("gallery-placeholders")
    for route in held:
        route.continue_()
    page.unroute("**/r2/**")
    page.wait_for_function("document.querySelectorAll('.tile-frame.loaded').length === 3")
    assert tiles.evaluate_all(
        "tiles => tiles.every((t) => t.querySelector('img').complete"
        " && t.querySelector('img').naturalWidth > 0)"
    )
    console.screenshot("gallery")
    console.assert_accessible("gallery")


def test_thumbhash_decoder_agrees_with_the_encoder(console):
    """The browser's decoder (console/views/thumbhash.js) against the Python encoder: the
    same average colour, the aspect ratio, and the blue top-left quadrant of the test
    image where it is."""
    (image,) = seed(console.base_url, "thumbhash-test", 1, start=150)
    average = thumbhash_average_rgba(base64.b64decode(image["placeholder"]))
    console.sign_in()
    decoded = console.page.evaluate(
        """async (hash) => {
            const { decodeThumbHash } = await import("/views/thumbhash.js");
            const { width, height, rgba } = decodeThumbHash(hash);
            const mean = [0, 1, 2, 3].map((channel) => {
                let sum = 0;
                for (let i = channel; i < rgba.length; i += 4) sum += rgba[i];
                return sum / (width * height) / 255;
            });
            const at = (x, y) => [...rgba.slice((y * width + x) * 4, (y * width + x) * 4 + 3)];
            return { width, height, mean, topLeft: at(2, 2), bottomRight: at(width - 3, height - 3) };
        }""",
        image["placeholder"],
    )
    assert decoded["mean"] == pytest.approx(list(average), abs=0.04)
    # 96 × 64 is 3:2; the hash keeps the ratio only as coarsely as its coefficient counts.
    assert decoded["width"] / decoded["height"] == pytest.approx(96 / 64, rel=0.2)
    red, green, blue = decoded["topLeft"]
    assert blue > red and blue > green
    assert decoded["bottomRight"][2] < blue


def test_gallery_filter_by_tag_survives_a_reload(console):
    seed(console.base_url, "filter-cats", 2, start=200)
    seed(console.base_url, "filter-dogs", 1, start=210)
    console.sign_in()
    page = console.page
    # A phone's width: the nav folds behind its button, the grid and filters reflow.
    page.set_viewport_size({"width": 390, "height": 844})
    console.goto("/#/gallery")
    page.get_by_label("Tag").select_option("filter-dogs")
    page.wait_for_function("document.querySelectorAll('.tile').length === 1")
    assert "tag=filter-dogs" in page.evaluate("location.hash")
    page.get_by_label("Tag").select_option("filter-cats")
    page.wait_for_function("document.querySelectorAll('.tile').length === 2")
    page.reload()
    page.wait_for_function("document.querySelectorAll('.tile').length === 2")
    assert page.get_by_role("button", name="Menu").is_visible()
    console.screenshot("gallery-narrow")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.get_by_label("Tag").input_value() == "filter-cats"
    page.get_by_role("button", name="Dark mode").click()
    page.wait_for_function("document.querySelectorAll('.tile-frame.loaded').length === 2")
    console.screenshot("gallery-dark")
    console.assert_accessible("gallery in dark mode")
    page.get_by_label("Orientation").select_option("portrait")
    page.get_by_text("No images match these filters.").wait_for()
    # A tag no image carries (any more) stays the filter, rather than quietly showing all.
    console.goto("/#/gallery?tag=nobody-has-this")
    page.get_by_text("No images match these filters.").wait_for()
    assert page.get_by_label("Tag").input_value() == "nobody-has-this"


def test_detail_edits_tags_then_delete_and_restore(console):
    (image,) = seed(console.base_url, "detail-test", 1, start=300)
    console.sign_in()
    page = console.page
    console.goto("/#/gallery?tag=detail-test")
    details = page.get_by_role("button", name=f"Details of {image['filename']}")
    details.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("heading", name=image["filename"]).wait_for()
    page.locator(".detail-image").evaluate("img => img.decode()")
    console.screenshot("detail")
    console.assert_accessible("detail")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    dialog.get_by_role("button", name="Copy Markdown").click()
    page.get_by_text("Markdown copied.").wait_for()
    markdown = page.evaluate("navigator.clipboard.readText()")
    assert markdown == f"![{image['filename']}]({image['versions']['original']})"
    dialog.get_by_label("Tags").fill("detail-test, edited")
    dialog.get_by_label("Alt text").fill("A red <b>square</b>")
    dialog.get_by_label("Expiry").select_option(label="Expire in 1 day")
    with page.expect_response(lambda r: r.request.method == "PUT"):
        dialog.get_by_role("button", name="Save changes").click()
    page.get_by_text("Saved.").wait_for()
    with httpx.Client(base_url=console.base_url, headers=AUTH) as client:
        stored = client.get(f"/v1/images/{image['id']}").json()
    assert stored["tags"] == ["detail-test", "edited"]
    assert stored["alt"] == "A red <b>square</b>"
    assert stored["expires_at"] is not None
    # The edited detail shows the expiry it now has, and can take it away again.
    dialog.get_by_label("Expiry").select_option(label="Never expire")
    with page.expect_response(lambda r: r.request.method == "PUT"):
        dialog.get_by_role("button", name="Save changes").click()
    dialog.get_by_label("Expiry").get_by_text("Unchanged (never)").wait_for(state="attached")
    # A private image's thumbnail is a signed view URL, which <img> loads without a token.
    dialog.get_by_label("Private").check()
    with page.expect_response(lambda r: r.request.method == "PATCH"):
        dialog.get_by_role("button", name="Save changes").click()
    page.wait_for_function(
        "(() => { const img = document.querySelector('.tile img');"
        " return img.src.includes('/view/') && img.complete && img.naturalWidth > 0; })()"
    )
    assert dialog.get_by_text("Private: it has no public link to share.").is_visible()
    # Escape closes the dialog and gives the focus back to the button that opened it.
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert details.evaluate("button => button === document.activeElement")

    details.click()
    with page.expect_response(lambda r: r.request.method == "DELETE"):
        page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    page.get_by_text("No images match these filters.").wait_for()

    console.goto("/#/trash")
    restore = page.get_by_role("button", name=f"Restore {image['filename']}")
    with page.expect_response(lambda r: r.url.endswith("/restore")):
        restore.click()
    restore.wait_for(state="detached")
    with httpx.Client(base_url=console.base_url, headers=AUTH) as client:
        assert client.get(f"/v1/images/{image['id']}").json()["deleted_at"] is None


def tag_counts(base_url: str) -> dict[str, int]:
    with httpx.Client(base_url=base_url, headers=AUTH) as client:
        return {row["tag"]: row["count"] for row in client.get("/v1/tags").json()["data"]}


def test_tags_rename_then_merge(console):
    seed(console.base_url, "merge-from", 2, start=400)
    seed(console.base_url, "merge-into", 1, start=410)
    console.sign_in()
    page = console.page
    console.goto("/#/tags")
    page.get_by_role("row", name="merge-from 2").wait_for()
    page.get_by_role("button", name="Rename or merge merge-from").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New name").fill("merge-middle")
    dialog.get_by_role("button", name="Rename").click()
    page.get_by_role("row", name="merge-middle 2").wait_for()
    # Renaming onto an existing tag merges the two.
    page.get_by_role("button", name="Rename or merge merge-middle").click()
    page.get_by_role("dialog").get_by_label("New name").fill("merge-into")
    page.get_by_role("dialog").get_by_role("button", name="Rename").click()
    page.get_by_role("row", name="merge-into 3").wait_for()
    counts = tag_counts(console.base_url)
    assert counts["merge-into"] == 3
    assert "merge-from" not in counts and "merge-middle" not in counts
    console.screenshot("tags")
    console.assert_accessible("tags")


def test_albums_create_edit_delete(console):
    console.sign_in()
    page = console.page
    console.goto("/#/albums")
    page.get_by_role("button", name="New album").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Slug").fill("summer-trip")
    dialog.get_by_label("Title").fill("Summer <trip>")
    dialog.get_by_role("button", name="Create").click()
    page.get_by_role("link", name="Summer <trip>").wait_for()
    page.get_by_role("button", name="Edit Summer <trip>").click()
    page.get_by_role("dialog").get_by_label("Description").fill("Beaches")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    page.get_by_role("cell", name="Beaches").wait_for()
    console.screenshot("albums")
    console.assert_accessible("albums")
    with httpx.Client(base_url=console.base_url, headers=AUTH) as client:
        album = client.get("/v1/albums/summer-trip").json()
        assert (album["title"], album["description"]) == ("Summer <trip>", "Beaches")
        page.get_by_role("button", name="Delete Summer <trip>").click()
        page.get_by_role("dialog").get_by_role("button", name="Delete album").click()
        page.get_by_role("link", name="Summer <trip>").wait_for(state="detached")
        assert client.get("/v1/albums/summer-trip").status_code == 404


def test_random_link_builder_previews_and_its_link_gives_an_image(console):
    seed(console.base_url, "random-pick", 2, start=500)
    console.sign_in()
    page = console.page
    console.goto("/#/random")
    page.get_by_label("Tags", exact=True).fill("random-pick")
    page.get_by_label("Orientation").select_option("landscape")
    page.get_by_label("Format").select_option("webp")
    link = page.get_by_label("Random image link")
    page.wait_for_function(
        "document.querySelector('.random-preview').src.includes('tags=random-pick')"
        " && document.querySelector('.random-preview').src.includes('format=webp')"
    )
    page.wait_for_function(
        "(() => { const img = document.querySelector('.random-preview');"
        " return img.src.includes('format=webp') && img.complete && img.naturalWidth > 0; })()"
    )
    url = link.input_value()
    assert (
        url == f"{console.base_url}/api/random?tags=random-pick&orientation=landscape&format=webp"
    )
    with page.expect_response(lambda r: "/api/random" in r.url):
        page.get_by_role("button", name="Re-roll").click()
    console.screenshot("random")
    console.assert_accessible("random")
    answer = page.goto(url)
    assert answer.ok
    assert answer.headers["content-type"] == "image/webp"
    # Nothing matches: the preview says so instead of a broken image.
    console.goto("/#/random")
    page.get_by_label("Tags", exact=True).fill("no-such-tag-anywhere")
    page.get_by_text("No public image matches these choices.").wait_for()


def test_paste_uploads_the_clipboard_image(console):
    console.sign_in()
    console.goto("/#/upload")
    page = console.page
    page.get_by_role("heading", name="Upload").wait_for()
    # What Ctrl+V of a copied image delivers: a paste event whose clipboardData has a file.
    page.evaluate(
        """async () => {
            const canvas = document.createElement("canvas");
            canvas.width = 40;
            canvas.height = 30;
            canvas.getContext("2d").fillRect(0, 0, 20, 15);
            const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
            const clipboard = new DataTransfer();
            clipboard.items.add(new File([blob], "image.png", { type: "image/png" }));
            document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: clipboard }));
        }"""
    )
    page.locator(".upload-result img").wait_for()
    # Clipboard images all arrive as "image.png": each gets a name of its own.
    assert page.locator(".upload-name").text_content().startswith("pasted-")
    assert page.locator(".upload-row progress").evaluate("bar => bar.value") == 100


def test_gallery_scrolls_into_the_next_page(console):
    seed(console.base_url, "scroll-test", 53, start=600)
    console.sign_in()
    page = console.page
    console.goto("/#/gallery?tag=scroll-test")
    page.wait_for_function("document.querySelectorAll('.tile').length === 50")
    page.locator(".grid-sentinel").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('.tile').length === 53")
    names = page.locator(".tile-caption").all_text_contents()
    assert len(set(names)) == 53
    assert page.get_by_text("No images match these filters.").count() == 0
