"""PixelFlare albums (`/v1/albums`, by slug), as its document shows them: create, list, get,
update, delete (the images stay), slug rules, conflicts, and owners kept apart."""

import re

import pytest

from tests.conftest import assert_error_envelope, bearer
from tests.imagegen import unique_jpeg, upload

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
VACATION = {
    "slug": "vacation-2025",
    "title": "Vacation 2025",
    "description": "Summer vacation photos",
}


async def create(client, headers, **body):
    response = await client.post("/v1/albums", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def image_in_album(client, headers, seed: int, slug: str) -> str:
    """Upload an image and file it in an album, as a PixelFlare client does
    (`PATCH /v1/images/:id {"album": slug}`)."""
    response = await upload(client, headers, unique_jpeg(seed), f"img{seed}.jpg")
    assert response.status_code == 200, response.text
    image_id = response.json()["result"]["id"]
    response = await client.patch(f"/v1/images/{image_id}", headers=headers, json={"album": slug})
    assert response.status_code == 200, response.text
    return image_id


# -- the document's examples ------------------------------------------------------------------


async def test_create_album(client, admin):
    # POST /v1/albums {"slug": "vacation-2025", "title": "Vacation 2025", "description": ...}
    album = await create(client, admin, **VACATION)
    assert album["id"].startswith("col_")
    assert {key: album[key] for key in VACATION} == VACATION
    assert album["image_count"] == 0
    assert ISO_MS.match(album["created_at"]) and album["updated_at"] == album["created_at"]
    # Splinterpic sees the same row as a collection named by its title.
    assert album["name"] == "Vacation 2025"


async def test_list_albums(client, admin):
    # GET /v1/albums
    assert (await client.get("/v1/albums", headers=admin)).json() == {"data": []}
    first = await create(client, admin, **VACATION)
    second = await create(client, admin, slug="photos", title="Photos")
    response = await client.get("/v1/albums", headers=admin)
    assert response.status_code == 200
    assert response.json() == {"data": [first, second]}


async def test_get_album(client, admin):
    # GET /v1/albums/:slug
    album = await create(client, admin, **VACATION)
    await image_in_album(client, admin, 1, album["slug"])
    await image_in_album(client, admin, 2, album["slug"])
    response = await client.get("/v1/albums/vacation-2025", headers=admin)
    assert response.status_code == 200
    assert response.json() == {**album, "image_count": 2}


async def test_update_album(client, admin):
    # PATCH /v1/albums/:slug
    await create(client, admin, **VACATION)
    response = await client.patch(
        "/v1/albums/vacation-2025",
        headers=admin,
        json={"title": "Vacation '25", "description": None},
    )
    assert response.status_code == 200, response.text
    album = response.json()
    assert album["title"] == "Vacation '25" and album["description"] is None
    assert album["updated_at"] >= album["created_at"]
    assert (await client.get("/v1/albums/vacation-2025", headers=admin)).json() == album


async def test_change_an_albums_slug(client, admin):
    await create(client, admin, **VACATION)
    response = await client.patch(
        "/v1/albums/vacation-2025", headers=admin, json={"slug": "summer-2025"}
    )
    assert response.json()["slug"] == "summer-2025"
    assert_error_envelope(await client.get("/v1/albums/vacation-2025", headers=admin), 404)
    assert (await client.get("/v1/albums/summer-2025", headers=admin)).status_code == 200


async def test_delete_album_keeps_its_images(client, admin):
    # DELETE /v1/albums/:slug
    album = await create(client, admin, **VACATION)
    image_id = await image_in_album(client, admin, 1, album["slug"])
    response = await client.delete("/v1/albums/vacation-2025", headers=admin)
    assert response.status_code == 200
    assert response.json()["slug"] == "vacation-2025"
    assert_error_envelope(await client.get("/v1/albums/vacation-2025", headers=admin), 404)
    image = (await client.get(f"/api/images/{image_id}", headers=admin)).json()
    assert image["collection_id"] is None
    assert (await client.get(f"/v1/images/{image_id}", headers=admin)).json()["album"] is None
    assert (await client.get("/v1/albums", headers=admin)).json() == {"data": []}
    # The slug is free again.
    assert (await create(client, admin, **VACATION))["image_count"] == 0


# -- rules and errors -------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["a", "0", "my-album-2025", "x" * 64, "-dash-"])
async def test_valid_slugs(client, admin, slug):
    assert (await create(client, admin, slug=slug, title="T"))["slug"] == slug


@pytest.mark.parametrize(
    "slug", ["", "x" * 65, "Vacation", "summer_2025", "two words", "café", "a/b", "..", None, 42]
)
async def test_invalid_slugs_are_400_and_create_nothing(client, admin, slug):
    response = await client.post("/v1/albums", headers=admin, json={"slug": slug, "title": "T"})
    body = assert_error_envelope(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == "slug"
    assert (await client.get("/v1/albums", headers=admin)).json() == {"data": []}


async def test_title_defaults_to_the_slug_and_is_validated(client, admin):
    assert (await create(client, admin, slug="photos"))["title"] == "photos"
    response = await client.post(
        "/v1/albums", headers=admin, json={"slug": "long", "title": "t" * 201}
    )
    assert assert_error_envelope(response, 400)["details"]["field"] == "title"
    response = await client.post(
        "/v1/albums", headers=admin, json={"slug": "bad", "description": ["not", "text"]}
    )
    assert assert_error_envelope(response, 400)["details"]["field"] == "description"
    assert_error_envelope(await client.post("/v1/albums", headers=admin, json=["x"]), 400)


async def test_duplicate_slug_is_409(client, admin):
    await create(client, admin, **VACATION)
    response = await client.post("/v1/albums", headers=admin, json=VACATION)
    assert assert_error_envelope(response, 409, "CONFLICT")["details"]["slug"] == "vacation-2025"
    await create(client, admin, slug="photos", title="Photos")
    response = await client.patch(
        "/v1/albums/photos", headers=admin, json={"slug": "vacation-2025"}
    )
    assert_error_envelope(response, 409, "CONFLICT")
    assert len((await client.get("/v1/albums", headers=admin)).json()["data"]) == 2


async def test_invalid_patch_changes_nothing(client, admin):
    album = await create(client, admin, **VACATION)
    for body in (
        {"slug": "Bad Slug", "title": "New"},
        {"title": ""},
        {"title": None},
        {"title": "New", "description": "d" * 2001},
    ):
        response = await client.patch("/v1/albums/vacation-2025", headers=admin, json=body)
        assert_error_envelope(response, 400)
    assert (await client.get("/v1/albums/vacation-2025", headers=admin)).json() == album


async def test_unknown_album_is_404(client, admin):
    for response in (
        await client.get("/v1/albums/nope", headers=admin),
        await client.patch("/v1/albums/nope", headers=admin, json={"title": "x"}),
        await client.delete("/v1/albums/nope", headers=admin),
    ):
        body = assert_error_envelope(response, 404, "NOT_FOUND")
        assert body["details"] == {"slug": "nope"}


async def test_image_count_is_of_visible_images(client, admin):
    album = await create(client, admin, **VACATION)
    await image_in_album(client, admin, 1, album["slug"])
    gone = await image_in_album(client, admin, 2, album["slug"])
    await client.delete(f"/api/images/{gone}", headers=admin)
    assert (await client.get("/v1/albums/vacation-2025", headers=admin)).json()["image_count"] == 1


# -- owners and scopes -------------------------------------------------------------------------


async def test_another_owner_sees_none_of_it(client, admin, make_key):
    await create(client, admin, **VACATION)
    bob_key, _ = await make_key(["images:read", "images:write"], owner="bob")
    bob = bearer(bob_key)
    assert (await client.get("/v1/albums", headers=bob)).json() == {"data": []}
    for response in (
        await client.get("/v1/albums/vacation-2025", headers=bob),
        await client.patch("/v1/albums/vacation-2025", headers=bob, json={"title": "mine"}),
        await client.delete("/v1/albums/vacation-2025", headers=bob),
    ):
        assert_error_envelope(response, 404)
    # Slugs are per owner: Bob may use the same one.
    bobs = await create(client, bob, **VACATION)
    assert bobs["owner"] == "bob"
    mine = (await client.get("/v1/albums/vacation-2025", headers=admin)).json()
    assert mine["id"] != bobs["id"] and mine["title"] == "Vacation 2025"


async def test_scopes(client, make_key):
    reader_key, _ = await make_key(["images:read"])
    reader = bearer(reader_key)
    assert (await client.get("/v1/albums", headers=reader)).status_code == 200
    for response in (
        await client.post("/v1/albums", headers=reader, json=VACATION),
        await client.patch("/v1/albums/x", headers=reader, json={}),
        await client.delete("/v1/albums/x", headers=reader),
    ):
        assert_error_envelope(response, 403, "FORBIDDEN")
    assert_error_envelope(await client.get("/v1/albums"), 401)
