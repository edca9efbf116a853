"""Splinterpic collections (`/api/collections*`), as its document lists them: list (with
limit/offset pagination), create, get, its images, delete. Collections are PixelFlare's
albums: both products see the same rows."""

import re

import pytest

from tests.conftest import assert_error_envelope, bearer
from tests.imagegen import unique_jpeg, upload

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FIELDS = {"id", "name", "description", "image_count", "created_at", "updated_at", "slug", "title"}


async def create(client, headers, name="Landscapes", description="Mountains and lakes"):
    response = await client.post(
        "/api/collections", headers=headers, json={"name": name, "description": description}
    )
    assert response.status_code == 201, response.text
    return response.json()["collection"]


async def image_in(client, headers, seed: int, collection: dict) -> str:
    """Upload an image and file it in a collection. Splinterpic files generated images at
    creation; for uploads the PixelFlare route does it (`PATCH /v1/images/:id {"album"}`),
    since collections and albums are one thing."""
    response = await upload(client, headers, unique_jpeg(seed), f"img{seed}.jpg")
    assert response.status_code == 200, response.text
    image_id = response.json()["result"]["id"]
    response = await client.patch(
        f"/v1/images/{image_id}", headers=headers, json={"album": collection["slug"]}
    )
    assert response.status_code == 200, response.text
    return image_id


# -- the document's endpoints -------------------------------------------------------------


async def test_create_collection(client, admin):
    # POST /api/collections {"name": ..., "description": ...} → 201
    response = await client.post(
        "/api/collections",
        headers=admin,
        json={"name": "Landscapes", "description": "Mountains and lakes"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    collection = body["collection"]
    assert FIELDS <= set(collection)
    assert {key: body[key] for key in collection} == collection  # also at the top level
    assert collection["id"].startswith("col_")
    assert collection["name"] == collection["title"] == "Landscapes"
    assert collection["description"] == "Mountains and lakes"
    assert collection["slug"] == "landscapes"
    assert collection["image_count"] == 0
    assert ISO_MS.match(collection["created_at"]) and ISO_MS.match(collection["updated_at"])


async def test_list_collections(client, admin):
    # GET /api/collections
    response = await client.get("/api/collections", headers=admin)
    assert response.json() == {
        "success": True,
        "collections": [],
        "pagination": {"limit": 20, "offset": 0, "total": 0, "has_more": False},
    }
    first = await create(client, admin, "First")
    second = await create(client, admin, "Second")
    body = (await client.get("/api/collections", headers=admin)).json()
    assert body["collections"] == [second, first]  # newest first
    assert body["pagination"] == {"limit": 20, "offset": 0, "total": 2, "has_more": False}


async def test_list_collections_pages_with_limit_and_offset(client, admin):
    made = [await create(client, admin, f"Collection {n}") for n in range(5)]
    newest_first = [c["id"] for c in reversed(made)]
    body = (await client.get("/api/collections?limit=2&offset=2", headers=admin)).json()
    assert [c["id"] for c in body["collections"]] == newest_first[2:4]
    assert body["pagination"] == {"limit": 2, "offset": 2, "total": 5, "has_more": True}
    body = (await client.get("/api/collections?limit=2&offset=4", headers=admin)).json()
    assert body["pagination"]["has_more"] is False and len(body["collections"]) == 1
    body = (await client.get("/api/collections?limit=1000", headers=admin)).json()
    assert body["pagination"]["limit"] == 100


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "offset=-1", "offset=x"])
async def test_bad_pagination_is_400(client, admin, query):
    assert_error_envelope(await client.get(f"/api/collections?{query}", headers=admin), 400)


async def test_get_collection_by_id_or_slug(client, admin):
    # GET /api/collections/:id
    collection = await create(client, admin)
    await image_in(client, admin, 1, collection)
    for key in (collection["id"], "landscapes"):
        response = await client.get(f"/api/collections/{key}", headers=admin)
        assert response.status_code == 200
        assert response.json()["collection"] == {**collection, "image_count": 1}
        assert response.json()["name"] == "Landscapes"


async def test_collection_images(client, admin):
    # GET /api/collections/:id/images, paginated like /api/images
    collection = await create(client, admin)
    inside = [await image_in(client, admin, seed, collection) for seed in range(3)]
    outside = await upload(client, admin, unique_jpeg(99), "outside.jpg")
    assert outside.status_code == 200
    response = await client.get(
        f"/api/collections/{collection['id']}/images?limit=2&offset=0", headers=admin
    )
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    first_page = [image["id"] for image in body["images"]]
    assert len(first_page) == 2
    assert all(image["collection_id"] == collection["id"] for image in body["images"])
    assert body["pagination"] == {"limit": 2, "offset": 0, "total": 3, "has_more": True}
    assert body["total"] == 3 and body["totalPages"] == 2
    # CattoPic-style pages work too, and the slug addresses the collection.
    body = (
        await client.get("/api/collections/landscapes/images?page=2&limit=2", headers=admin)
    ).json()
    second_page = [image["id"] for image in body["images"]]
    assert sorted(first_page + second_page) == sorted(inside)  # each image exactly once
    assert body["page"] == 2 and body["pagination"]["offset"] == 2
    assert body["pagination"]["has_more"] is False
    # Deleted images leave the listing at once.
    await client.delete(f"/api/images/{inside[0]}", headers=admin)
    body = (await client.get(f"/api/collections/{collection['id']}/images", headers=admin)).json()
    assert body["total"] == 2


async def test_collection_images_default_to_the_documented_20_a_page(client, admin):
    # "limit: integer, default 20" for every list endpoint (the overview's pagination table)
    collection = await create(client, admin)
    await image_in(client, admin, 7, collection)
    body = (await client.get(f"/api/collections/{collection['id']}/images", headers=admin)).json()
    assert body["pagination"] == {"limit": 20, "offset": 0, "total": 1, "has_more": False}
    assert body["limit"] == 20


async def test_delete_collection(client, admin):
    # DELETE /api/collections/:id
    collection = await create(client, admin)
    image_id = await image_in(client, admin, 1, collection)
    response = await client.delete(f"/api/collections/{collection['id']}", headers=admin)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["id"] == collection["id"]
    assert_error_envelope(
        await client.get(f"/api/collections/{collection['id']}", headers=admin), 404
    )
    # The images stay, in no collection.
    image = (await client.get(f"/api/images/{image_id}", headers=admin)).json()
    assert image["collection_id"] is None
    assert (await client.get("/api/images", headers=admin)).json()["total"] == 1


# -- names, slugs and errors ------------------------------------------------------------------


async def test_slugs_derive_from_names_and_stay_unique(client, admin):
    assert (await create(client, admin, "Summer Trip 2025!"))["slug"] == "summer-trip-2025"
    assert (await create(client, admin, "Summer trip 2025"))["slug"] == "summer-trip-2025-2"
    assert (await create(client, admin, "summer-trip-2025"))["slug"] == "summer-trip-2025-3"
    assert (await create(client, admin, "风景"))["slug"] == "collection"
    assert (await create(client, admin, "山水"))["slug"] == "collection-2"
    long = await create(client, admin, "x" * 100)
    assert long["slug"] == "x" * 64 and long["name"] == "x" * 100
    assert (await create(client, admin, "x" * 100))["slug"] == "x" * 62 + "-2"


async def test_collections_are_albums(client, admin):
    collection = await create(client, admin, "Trip Photos")
    album = (await client.get("/v1/albums/trip-photos", headers=admin)).json()
    assert album == collection
    response = await client.post("/v1/albums", headers=admin, json={"slug": "pf", "title": "PF"})
    created = response.json()
    assert (await client.get(f"/api/collections/{created['id']}", headers=admin)).json()[
        "collection"
    ] == created


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 5}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": "ok", "description": 7}, "description"),
    ],
)
async def test_invalid_bodies_are_400_and_create_nothing(client, admin, body, field):
    response = await client.post("/api/collections", headers=admin, json=body)
    body = assert_error_envelope(response, 400, "INVALID_REQUEST")
    assert body["details"]["field"] == field
    assert (await client.get("/api/collections", headers=admin)).json()["collections"] == []


@pytest.mark.parametrize(
    "headers",
    [{"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}, {}],
)
async def test_non_json_content_type_is_the_documented_400(client, admin, headers):
    # "All POST and PUT requests must include a Content-Type: application/json header."
    for path in ("/api/collections", "/api/generate"):
        response = await client.post(
            path, headers={**admin, **headers}, content=b'{"name": "x", "prompt": "a lake"}'
        )
        body = assert_error_envelope(response, 400)
        assert body["error"] == "Invalid request body"
        assert body["details"] == "Expected JSON content-type"


async def test_json_content_type_with_parameters_is_json(client, admin):
    response = await client.post(
        "/api/collections",
        headers={**admin, "Content-Type": "application/json; charset=utf-8"},
        content=b'{"name": "Charset"}',
    )
    assert response.status_code == 201, response.text


async def test_non_json_body_is_400(client, admin):
    response = await client.post(
        "/api/collections", headers={**admin, "Content-Type": "application/json"}, content=b"name=x"
    )
    assert assert_error_envelope(response, 400)["error"] == "Invalid request body"


async def test_unknown_collection_is_404_with_its_id(client, admin):
    for response in (
        await client.get("/api/collections/col_missing", headers=admin),
        await client.get("/api/collections/col_missing/images", headers=admin),
        await client.delete("/api/collections/col_missing", headers=admin),
    ):
        body = assert_error_envelope(response, 404, "NOT_FOUND")
        assert body["error"] == "Collection not found"
        assert body["details"] == {"collection_id": "col_missing"}


# -- owners and scopes -------------------------------------------------------------------------


async def test_another_owner_sees_none_of_it(client, admin, make_key):
    collection = await create(client, admin)
    await image_in(client, admin, 1, collection)
    bob_key, _ = await make_key(["images:read", "images:write"], owner="bob")
    bob = bearer(bob_key)
    body = (await client.get("/api/collections", headers=bob)).json()
    assert body["collections"] == [] and body["pagination"]["total"] == 0
    for key in (collection["id"], "landscapes"):
        for response in (
            await client.get(f"/api/collections/{key}", headers=bob),
            await client.get(f"/api/collections/{key}/images", headers=bob),
            await client.delete(f"/api/collections/{key}", headers=bob),
        ):
            assert_error_envelope(response, 404)
    assert (await create(client, bob))["slug"] == "landscapes"  # slugs are per owner
    mine = (await client.get(f"/api/collections/{collection['id']}", headers=admin)).json()
    assert mine["image_count"] == 1


async def test_scopes(client, make_key):
    reader_key, _ = await make_key(["images:read"])
    reader = bearer(reader_key)
    assert (await client.get("/api/collections", headers=reader)).status_code == 200
    response = await client.post("/api/collections", headers=reader, json={"name": "x"})
    assert_error_envelope(response, 403, "FORBIDDEN")
    assert_error_envelope(await client.delete("/api/collections/x", headers=reader), 403)
    assert_error_envelope(await client.get("/api/collections"), 401)
