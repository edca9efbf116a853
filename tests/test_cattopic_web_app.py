"""CattoPic's own web app against Pixhaven: each test replays a request exactly as the app
sends it (method, path, form fields, headers; the app file is named in a comment) and
asserts the fields the app reads from the answer."""

from io import BytesIO

from PIL import Image

from tests.imagegen import animated_gif, image_bytes, unique_jpeg


async def app_upload(
    client,
    headers: dict,
    data: bytes,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    *,
    tags: str = "",
    quality: int = 90,
    max_width: int = 0,
    output_format: str = "both",
) -> dict:
    """POST /api/upload/single as app/utils/concurrentUpload.ts builds it, with the app's
    defaults (app/page.tsx: quality 90, size "no limit" = 0, output "both", animation kept);
    app/utils/request.ts adds only the bearer token."""
    response = await client.post(
        "/api/upload/single",
        headers=headers,
        data={
            "tags": tags,
            "expiryMinutes": "0",
            "quality": str(quality),
            "maxWidth": str(max_width),
            "maxHeight": str(max_width),
            "preserveAnimation": "true",
            "generateWebp": str(output_format in ("webp", "both")).lower(),
            "generateAvif": str(output_format in ("avif", "both")).lower(),
        },
        files={"image": (filename, data, content_type)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # app/utils/concurrentUpload.ts: success and result; app/page.tsx primeImagesListCache
    # reads result.status, urls.original, orientation, format.
    assert body["success"] is True
    assert body["result"]["status"] == "success"
    return body["result"]


async def test_upload_with_the_apps_default_options(client, admin):
    """The default size option "no limit" sends maxWidth=0&maxHeight=0: no bound, as in
    CattoPic's server (its 0 default), not a 400."""
    result = await app_upload(client, admin, image_bytes(900, 600))
    assert result["urls"]["original"].endswith(f"/r2/images/landscape/{result['id']}.jpg")
    assert result["urls"]["webp"].endswith(".webp")
    assert result["urls"]["avif"].endswith(".avif")
    assert result["orientation"] == "landscape" and result["format"] == "jpg"
    assert (result["width"], result["height"]) == (900, 600)
    details = (await client.get(f"/api/images/{result['id']}", headers=admin)).json()
    assert details["image"]["sizes"]["webp"] > 0


async def test_upload_with_a_size_preset_bounds_the_converted_versions(client, admin, env):
    # app/components/upload/CompressionSettings.tsx: a preset width, sent as both bounds.
    result = await app_upload(client, admin, unique_jpeg(7, 800, 400), max_width=400)
    key = result["urls"]["webp"].split("/r2/", 1)[1]
    data = bytes(await (await env.BUCKET.get(key)).arrayBuffer())
    assert Image.open(BytesIO(data)).size == (400, 200)


BROWSER_IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


def app_thumbnail_url(url: str, width: int, quality: int) -> str:
    """app/utils/cdnImage.ts toCdnCgiImageUrl: the options before the URL's own path."""
    path = url.split("http://testserver", 1)[1]
    return f"/cdn-cgi/image/width={width},fit=scale-down,quality={quality},format=auto{path}"


async def test_gallery_thumbnails_load(client, admin):
    """app/components/ImageCard.tsx (quality 75) and ImageSidebar.tsx (quality 70) transform
    `urls.webp || urls.original` as read from GET /api/images (app/hooks/useImages.ts)."""
    uploaded = await app_upload(client, admin, image_bytes(1200, 600))
    listing = await client.get("/api/images", params={"page": "1", "limit": "20"}, headers=admin)
    image = listing.json()["images"][0]
    assert image["id"] == uploaded["id"]
    base = image["urls"]["webp"] or image["urls"]["original"]
    assert base.endswith(".webp")
    for width, quality in ((592, 75), (296, 70)):
        response = await client.get(
            app_thumbnail_url(base, width, quality), headers={"Accept": BROWSER_IMAGE_ACCEPT}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("image/")
        assert Image.open(BytesIO(response.content)).size == (width, width // 2)
    # The AVIF version and the original name the same image too.
    for version in ("avif", "original"):
        response = await client.get(app_thumbnail_url(image["urls"][version], 592, 75))
        assert response.status_code == 200, response.text


async def test_thumbnails_of_a_version_that_is_not_stored_are_404(client, admin):
    uploaded = await app_upload(client, admin, unique_jpeg(3), output_format="webp")
    avif = uploaded["urls"]["original"].replace(".jpg", ".avif")
    response = await client.get(app_thumbnail_url(avif, 592, 75))
    assert response.status_code == 404


async def test_versions_that_do_not_exist_are_empty(client, admin):
    """app/components/ImageCard.tsx disables "copy WebP/AVIF" for an empty URL and shows
    `urls.webp || urls.original`; app/hooks/useImages.ts filters on `!!urls.webp`. A missing
    version answers "" (path, URL) and size 0, like CattoPic's server, never the original."""
    gif = await app_upload(client, admin, animated_gif(), "cat.gif", "image/gif")
    webp_only = await app_upload(client, admin, unique_jpeg(11), output_format="webp")
    avif_only = await app_upload(client, admin, unique_jpeg(12), output_format="avif")
    webp_original = await app_upload(
        client, admin, image_bytes(60, 40, "WEBP"), "a.webp", "image/webp", output_format="webp"
    )
    assert gif["urls"]["webp"] == gif["urls"]["avif"] == ""
    assert gif["sizes"]["webp"] == gif["sizes"]["avif"] == 0
    assert webp_only["urls"]["webp"].endswith(".webp") and webp_only["urls"]["avif"] == ""
    assert avif_only["urls"]["webp"] == "" and avif_only["urls"]["avif"].endswith(".avif")
    assert webp_only["sizes"]["avif"] == 0 and avif_only["sizes"]["webp"] == 0
    # A WebP original is the WebP version (CattoPic: "treat upload as best format").
    assert webp_original["urls"]["webp"] == webp_original["urls"]["original"]
    assert webp_original["urls"]["original"].endswith(".webp")

    listing = await client.get("/api/images", params={"page": "1", "limit": "20"}, headers=admin)
    shown = {image["id"]: image for image in listing.json()["images"]}
    image = shown[gif["id"]]
    assert image["paths"]["webp"] == image["paths"]["avif"] == ""
    assert image["urls"]["webp"] == image["urls"]["avif"] == ""
    assert image["urls"]["original"].endswith(".gif")
    assert shown[webp_only["id"]]["paths"]["avif"] == ""
    details = await client.get(f"/api/images/{avif_only['id']}", headers=admin)
    assert details.json()["image"]["urls"]["webp"] == ""


async def test_format_filter_means_which_versions_an_image_has(client, admin):
    """app/hooks/useImages.ts sends `format` (gif, webp, avif, original; never "all") with
    page and limit; its own cache filter (the same file) keeps `!!urls.webp` for webp,
    `!!urls.avif` for avif and neither for original — the server answers the same sets."""
    both = await app_upload(client, admin, unique_jpeg(21))
    webp_only = await app_upload(client, admin, unique_jpeg(22), output_format="webp")
    avif_only = await app_upload(client, admin, unique_jpeg(23), output_format="avif")
    gif = await app_upload(client, admin, animated_gif(), "cat.gif", "image/gif")
    webp_original = await app_upload(
        client, admin, image_bytes(60, 40, "WEBP"), "a.webp", "image/webp", output_format="webp"
    )

    async def listed(fmt: str) -> tuple[set[str], int]:
        params = {"page": "1", "limit": "24", "format": fmt}
        body = (await client.get("/api/images", params=params, headers=admin)).json()
        return {image["id"] for image in body["images"]}, body["total"]

    expected = {
        "webp": {both["id"], webp_only["id"], webp_original["id"]},
        "avif": {both["id"], avif_only["id"]},
        "original": {gif["id"]},
        "gif": {gif["id"]},
        "bmp": {i["id"] for i in (both, webp_only, avif_only, gif, webp_original)},  # ignored
    }
    for fmt, ids in expected.items():
        assert await listed(fmt) == (ids, len(ids)), fmt
    body = (await client.get("/api/images?format=webp", headers=admin)).json()
    assert all(image["urls"]["webp"] for image in body["images"])


async def test_random_link_for_auto_orientation_chooses_by_user_agent(client, admin):
    """app/components/RandomApiModal/index.tsx leaves `orientation` out for "Auto" (its
    default): CattoPic's server then picks portrait for mobile User-Agents, else landscape.
    The link is public: no Authorization header."""
    wide = await app_upload(client, admin, unique_jpeg(31, 80, 40))
    tall = await app_upload(client, admin, unique_jpeg(32, 40, 80))
    phone = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile"}
    desktop = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0"}
    for headers, expected, other in ((phone, tall, wide), (desktop, wide, tall)):
        for _ in range(12):
            response = await client.get("/api/random", headers=headers)
            assert response.status_code == 302
            assert expected["id"] in response.headers["location"]
            assert other["id"] not in response.headers["location"]


async def test_tag_list_is_by_name_and_deleting_an_unknown_tag_deletes_nothing(client, admin):
    """app/hooks/useTags.ts: GET /api/tags reads `success` and `tags` ({name, count});
    DELETE /api/tags/{encodeURIComponent(name)} reads `success`. CattoPic's server lists by
    name and answers 200 {deletedImages: 0} for a tag that is gone (another tab deleted it)."""
    await app_upload(client, admin, unique_jpeg(41), tags="zebra,mango")
    await app_upload(client, admin, unique_jpeg(42), tags="zebra")
    json_headers = {**admin, "Content-Type": "application/json"}
    created = await client.post("/api/tags", headers=json_headers, content=b'{"name":"apple"}')
    assert created.json()["success"] is True
    listed = (await client.get("/api/tags", headers=admin)).json()
    assert listed["success"] is True
    assert listed["tags"] == [
        {"name": "apple", "count": 0},
        {"name": "mango", "count": 1},
        {"name": "zebra", "count": 2},
    ]
    response = await client.delete("/api/tags/gone", headers=admin)
    assert response.status_code == 200
    assert response.json()["success"] is True and response.json()["deletedImages"] == 0
    after = (await client.get("/api/tags", headers=admin)).json()["tags"]
    assert [tag["name"] for tag in after] == ["apple", "mango", "zebra"]


async def test_tag_names_are_cleaned_not_refused(client, admin):
    """The names a person types into the app: app/hooks/useTags.ts (POST /api/tags {name},
    PUT /api/tags/{encodeURIComponent(oldName)} {newName}), app/utils/concurrentUpload.ts
    (`tags` joined with ","), app/hooks/useImages.ts (PUT /api/images/{id} {tags}); JSON
    bodies with Content-Type application/json (app/utils/request.ts). CattoPic's server
    cleans the names (lowercase, other characters removed) and refuses only what cleans to
    nothing."""
    json_headers = {**admin, "Content-Type": "application/json"}
    created = await client.post("/api/tags", headers=json_headers, json={"name": "My Cat"})
    assert created.status_code == 200, created.text
    assert created.json()["success"] is True and created.json()["tag"]["name"] == "mycat"

    uploaded = await app_upload(client, admin, unique_jpeg(51), tags="My Cat,Hello.World")
    assert sorted(uploaded["tags"]) == ["helloworld", "mycat"]

    renamed = await client.put(
        "/api/tags/mycat", headers=json_headers, json={"newName": "New Name"}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["tag"] == {"name": "newname", "count": 1}

    updated = await client.put(
        f"/api/images/{uploaded['id']}", headers=json_headers, json={"tags": ["Mixed Case"]}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["success"] is True and updated.json()["image"]["tags"] == ["mixedcase"]

    # The list filter and the random link clean the name the same way.
    listing = await client.get(
        "/api/images", params={"page": "1", "limit": "24", "tag": "Mixed Case"}, headers=admin
    )
    assert [image["id"] for image in listing.json()["images"]] == [uploaded["id"]]
    drawn = await client.get("/api/random", params={"tags": "Mixed Case"})
    assert drawn.status_code == 302 and uploaded["id"] in drawn.headers["location"]

    refused = await client.post("/api/tags", headers=json_headers, json={"name": "!!!"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "Tag name must contain a letter, a digit, '-' or '_'"


async def test_a_webp_or_avif_original_is_kept_as_uploaded(client, admin, env):
    """A version in the original's own format shares the original's key: making one (here
    bounded by a size preset) used to replace the stored original with a smaller re-encode
    while the row still described the upload."""
    for fmt, mime, extension in (("WEBP", "image/webp", "webp"), ("AVIF", "image/avif", "avif")):
        upload = image_bytes(800, 400, fmt)
        result = await app_upload(client, admin, upload, f"wide.{extension}", mime, max_width=200)
        key = result["urls"]["original"].split("/r2/", 1)[1]
        stored = bytes(await (await env.BUCKET.get(key)).arrayBuffer())
        assert Image.open(BytesIO(stored)).size == (800, 400)
        assert result["sizes"]["original"] == len(stored)
