"""Tags, as CattoPic's document shows them (`/api/tags*`) and as PixelFlare lists them
(`GET /v1/tags`): naming rules, counts of visible images, rename with merge, delete with the
images, batch add/remove, and one owner never seeing another's tags."""

import uuid

import pytest

from tests.conftest import assert_error_envelope, bearer
from tests.imagegen import unique_jpeg, upload


async def uploaded(client, headers, seed: int, tags: str | None = None) -> str:
    response = await upload(client, headers, unique_jpeg(seed), f"img{seed}.jpg", tags=tags)
    assert response.status_code == 200, response.text
    return response.json()["result"]["id"]


async def tags_of(client, headers, image_id: str) -> list[str]:
    response = await client.get(f"/api/images/{image_id}", headers=headers)
    assert response.status_code == 200, response.text
    return sorted(response.json()["image"]["tags"])


async def tag_list(client, headers) -> dict[str, int]:
    response = await client.get("/api/tags", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return {tag["name"]: tag["count"] for tag in body["tags"]}


# -- the document's curl examples ----------------------------------------------------------


async def test_list_tags_with_counts(client, admin):
    # curl -H "Authorization: Bearer YOUR_API_KEY" "https://your-worker.workers.dev/api/tags"
    await uploaded(client, admin, 1, "nature,outdoor")
    await uploaded(client, admin, 2, "nature")
    response = await client.get("/api/tags", headers=admin)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "tags": [{"name": "nature", "count": 2}, {"name": "outdoor", "count": 1}],
    }


async def test_create_tag(client, admin):
    # curl -X POST -H "Content-Type: application/json" -d '{"name": "mountain"}' .../api/tags
    response = await client.post("/api/tags", headers=admin, json={"name": "mountain"})
    assert response.status_code == 200
    assert response.json() == {"success": True, "tag": {"name": "mountain", "count": 0}}
    assert await tag_list(client, admin) == {"mountain": 0}


async def test_creating_an_existing_tag_answers_it_with_its_count(client, admin):
    await uploaded(client, admin, 1, "mountain")
    response = await client.post("/api/tags", headers=admin, json={"name": "Mountain"})
    assert response.status_code == 200
    assert response.json()["tag"] == {"name": "mountain", "count": 1}


async def test_rename_tag(client, admin):
    # curl -X PUT -d '{"newName": "mountains"}' .../api/tags/mountain
    first = await uploaded(client, admin, 1, "mountain,snow")
    second = await uploaded(client, admin, 2, "mountain")
    response = await client.put("/api/tags/mountain", headers=admin, json={"newName": "mountains"})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "tag": {"name": "mountains", "count": 2}}
    assert await tags_of(client, admin, first) == ["mountains", "snow"]
    assert await tags_of(client, admin, second) == ["mountains"]
    assert await tag_list(client, admin) == {"mountains": 2, "snow": 1}
    listed = await client.get("/api/images?tag=mountains", headers=admin)
    assert listed.json()["total"] == 2


async def test_rename_to_the_same_name_is_refused(client, admin):
    await client.post("/api/tags", headers=admin, json={"name": "mountain"})
    for new_name in ("mountain", "  Mountain "):
        response = await client.put("/api/tags/mountain", headers=admin, json={"newName": new_name})
        body = assert_error_envelope(response, 400, "INVALID_REQUEST")
        assert body["error"] == "New name must be different from old name"


async def test_delete_tag_deletes_its_images(client, admin):
    # curl -X DELETE .../api/tags/mountain
    tagged = [await uploaded(client, admin, seed, "mountain,travel") for seed in (1, 2)]
    kept = await uploaded(client, admin, 3, "travel")
    response = await client.delete("/api/tags/mountain", headers=admin)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "message": "Tag and associated images deleted",
        "deletedImages": 2,
    }
    for image_id in tagged:
        assert_error_envelope(await client.get(f"/api/images/{image_id}", headers=admin), 404)
    listed = (await client.get("/api/images", headers=admin)).json()
    assert [image["id"] for image in listed["images"]] == [kept]
    assert await tag_list(client, admin) == {"travel": 1}
    # Deleting it again deletes nothing, as CattoPic's server answers.
    again = await client.delete("/api/tags/mountain", headers=admin)
    assert again.status_code == 200 and again.json()["deletedImages"] == 0


async def test_batch_update_tags(client, admin):
    # curl -X POST -d '{"imageIds": [...], "addTags": ["landscape"], "removeTags": ["draft"]}'
    #   .../api/tags/batch
    first = await uploaded(client, admin, 1, "draft,sky")
    second = await uploaded(client, admin, 2, "draft")
    response = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={"imageIds": [first], "addTags": ["landscape"], "removeTags": ["draft"]},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "updatedCount": 1}
    assert await tags_of(client, admin, first) == ["landscape", "sky"]
    assert await tags_of(client, admin, second) == ["draft"]

    # The document's request body: two images, two tags added, two removed.
    response = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={
            "imageIds": [first, second],
            "addTags": ["landscape", "nature"],
            "removeTags": ["test", "draft"],
        },
    )
    assert response.json() == {"success": True, "updatedCount": 2}
    assert await tags_of(client, admin, first) == ["landscape", "nature", "sky"]
    assert await tags_of(client, admin, second) == ["landscape", "nature"]
    assert await tag_list(client, admin) == {"landscape": 2, "nature": 2, "sky": 1, "draft": 0}


async def test_pixelflare_lists_tags(client, admin):
    # GET /v1/tags → {"data": [{"tag": "beach", "count": 15}, ...]}
    await uploaded(client, admin, 1, "beach,vacation")
    await uploaded(client, admin, 2, "vacation")
    response = await client.get("/v1/tags", headers=admin)
    assert response.status_code == 200
    assert response.json() == {
        "data": [{"tag": "vacation", "count": 2}, {"tag": "beach", "count": 1}]
    }


# -- naming rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given,stored",
    [
        ("  Sunset  ", "sunset"),  # trimmed, lowercased
        ("SUMMER-2024_trip", "summer-2024_trip"),
        ("风景", "风景"),  # Chinese
        ("夜景-tokyo", "夜景-tokyo"),
        ("x" * 50, "x" * 50),  # exactly the maximum
        # Cleaned as CattoPic's server cleans them, not refused: other characters removed,
        # cut to 50 characters.
        ("x" * 51, "x" * 50),
        ("two words", "twowords"),
        ("My Cat", "mycat"),
        ("semi;colon", "semicolon"),
        ("a/b", "ab"),
        ("Hello.World", "helloworld"),
    ],
)
async def test_tag_names_are_normalised(client, admin, given, stored):
    response = await client.post("/api/tags", headers=admin, json={"name": given})
    assert response.status_code == 200, response.text
    assert response.json()["tag"] == {"name": stored, "count": 0}


@pytest.mark.parametrize(
    "name,error",
    [
        ("", "Tag name is required"),
        ("   ", "Tag name is required"),
        (None, "Tag name is required"),
        (42, "Tag name is required"),
        # Only what cleans to nothing is refused.
        ("!!!", "Tag name must contain a letter, a digit, '-' or '_'"),
        (" ; / . ", "Tag name must contain a letter, a digit, '-' or '_'"),
    ],
)
async def test_invalid_tag_names_are_400_and_create_nothing(client, admin, name, error):
    response = await client.post("/api/tags", headers=admin, json={"name": name})
    body = assert_error_envelope(response, 400, "INVALID_REQUEST")
    assert body["error"] == error
    assert await tag_list(client, admin) == {}


async def test_missing_name_and_bad_bodies_are_400(client, admin):
    assert_error_envelope(await client.post("/api/tags", headers=admin, json={}), 400)
    assert_error_envelope(await client.post("/api/tags", headers=admin, json=["mountain"]), 400)
    response = await client.post(
        "/api/tags", headers={**admin, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert_error_envelope(response, 400)
    assert await tag_list(client, admin) == {}


async def test_url_encoded_names_in_paths(client, admin):
    image_id = await uploaded(client, admin, 1, "风景")
    response = await client.put(
        "/api/tags/%E9%A3%8E%E6%99%AF", headers=admin, json={"newName": "山水"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["tag"] == {"name": "山水", "count": 1}
    assert await tags_of(client, admin, image_id) == ["山水"]
    response = await client.delete("/api/tags/%E5%B1%B1%E6%B0%B4", headers=admin)
    assert response.json()["deletedImages"] == 1


async def test_rename_validates_the_new_name(client, admin):
    await client.post("/api/tags", headers=admin, json={"name": "mountain"})
    for body, error in (
        ({}, "Tag name is required"),
        ({"newName": ""}, "Tag name is required"),
        ({"newName": "..."}, "Tag name must contain a letter, a digit, '-' or '_'"),
    ):
        response = await client.put("/api/tags/mountain", headers=admin, json=body)
        assert assert_error_envelope(response, 400)["error"] == error
    assert await tag_list(client, admin) == {"mountain": 0}


async def test_rename_normalises_the_new_name(client, admin):
    await client.post("/api/tags", headers=admin, json={"name": "mountain"})
    response = await client.put("/api/tags/mountain", headers=admin, json={"newName": " Alps "})
    assert response.json()["tag"] == {"name": "alps", "count": 0}
    # Cleaned, not refused (CattoPic's server): "New Name" is "newname".
    response = await client.put("/api/tags/alps", headers=admin, json={"newName": "New Name"})
    assert response.json()["tag"] == {"name": "newname", "count": 0}


async def test_renaming_an_unknown_tag_is_404_deleting_it_deletes_nothing(client, admin):
    response = await client.put("/api/tags/nope", headers=admin, json={"newName": "yes"})
    body = assert_error_envelope(response, 404, "NOT_FOUND")
    assert body["error"] == "Tag not found"
    # CattoPic's server answers 200 with deletedImages 0 for a tag that does not exist.
    response = await client.delete("/api/tags/nope", headers=admin)
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "message": "Tag and associated images deleted",
        "deletedImages": 0,
    }
    assert await tag_list(client, admin) == {}


# -- rename merges, delete and counts -----------------------------------------------------


async def test_rename_into_an_existing_tag_merges(client, admin):
    only_a = await uploaded(client, admin, 1, "cat")
    both = await uploaded(client, admin, 2, "cat,cats")
    only_b = await uploaded(client, admin, 3, "cats")
    response = await client.put("/api/tags/cat", headers=admin, json={"newName": "cats"})
    assert response.status_code == 200
    assert response.json()["tag"] == {"name": "cats", "count": 3}
    for image_id in (only_a, both, only_b):
        assert await tags_of(client, admin, image_id) == ["cats"]
    assert await tag_list(client, admin) == {"cats": 3}


async def test_counts_are_of_visible_images_only(client, admin):
    kept = await uploaded(client, admin, 1, "sky")
    gone = await uploaded(client, admin, 2, "sky")
    assert (await client.delete(f"/api/images/{gone}", headers=admin)).status_code == 200
    assert await tag_list(client, admin) == {"sky": 1}
    # Deleting the tag reports (and deletes) the one image a client could see.
    response = await client.delete("/api/tags/sky", headers=admin)
    assert response.json()["deletedImages"] == 1
    assert_error_envelope(await client.get(f"/api/images/{kept}", headers=admin), 404)


async def test_deleting_a_tag_without_images(client, admin):
    await client.post("/api/tags", headers=admin, json={"name": "empty"})
    response = await client.delete("/api/tags/empty", headers=admin)
    assert response.json() == {
        "success": True,
        "message": "Tag and associated images deleted",
        "deletedImages": 0,
    }
    assert await tag_list(client, admin) == {}


async def test_images_deleted_with_their_tag_can_be_uploaded_again(client, admin):
    image_id = await uploaded(client, admin, 1, "temp")
    await client.delete("/api/tags/temp", headers=admin)
    again = await upload(client, admin, unique_jpeg(1), "img1.jpg")
    assert again.status_code == 200
    assert again.json()["result"]["id"] != image_id


# -- batch -----------------------------------------------------------------------------------


async def test_batch_accepts_comma_strings_and_normalises(client, admin):
    image_id = await uploaded(client, admin, 1, "old")
    response = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={"imageIds": [image_id.upper()], "addTags": " New , Fresh ", "removeTags": ["OLD"]},
    )
    assert response.json() == {"success": True, "updatedCount": 1}
    assert await tags_of(client, admin, image_id) == ["fresh", "new"]


async def test_batch_with_malformed_ids_is_400_naming_them(client, admin):
    image_id = await uploaded(client, admin, 1, "keep")
    response = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={"imageIds": [image_id, "not-a-uuid", "img_abc123"], "addTags": ["new"]},
    )
    body = assert_error_envelope(response, 400, "INVALID_REQUEST")
    assert body["error"] == "Invalid image ID"
    assert body["details"]["invalid_ids"] == ["not-a-uuid", "img_abc123"]
    assert await tags_of(client, admin, image_id) == ["keep"]
    assert await tag_list(client, admin) == {"keep": 1}


async def test_batch_with_unknown_ids_changes_nothing(client, admin):
    image_id = await uploaded(client, admin, 1, "keep")
    unknown = [str(uuid.uuid4()) for _ in range(150)]  # more than D1's 100 parameters
    response = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={"imageIds": [image_id, *unknown], "addTags": ["new"], "removeTags": ["keep"]},
    )
    body = assert_error_envelope(response, 404, "NOT_FOUND")
    assert body["error"] == "Image not found"
    assert body["details"]["image_ids"] == unknown
    assert await tags_of(client, admin, image_id) == ["keep"]
    assert await tag_list(client, admin) == {"keep": 1}


async def test_batch_on_a_deleted_image_is_404(client, admin):
    image_id = await uploaded(client, admin, 1, "keep")
    await client.delete(f"/api/images/{image_id}", headers=admin)
    response = await client.post(
        "/api/tags/batch", headers=admin, json={"imageIds": [image_id], "addTags": ["new"]}
    )
    assert assert_error_envelope(response, 404)["details"]["image_ids"] == [image_id]


async def test_batch_over_more_images_than_d1_binds_in_one_statement(client, admin):
    # D1 allows 100 bound parameters per statement; a batch names any number of images.
    ids = [await uploaded(client, admin, seed, "draft") for seed in range(120)]
    response = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={"imageIds": ids, "addTags": ["published"], "removeTags": ["draft"]},
    )
    assert response.json() == {"success": True, "updatedCount": 120}
    assert await tag_list(client, admin) == {"published": 120, "draft": 0}
    response = await client.put("/api/tags/published", headers=admin, json={"newName": "live"})
    assert response.json()["tag"] == {"name": "live", "count": 120}
    response = await client.delete("/api/tags/live", headers=admin)
    assert response.json()["deletedImages"] == 120
    assert (await client.get("/api/images", headers=admin)).json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"imageIds": [], "addTags": ["a"]},
        {"imageIds": "550e8400-e29b-41d4-a716-446655440000", "addTags": ["a"]},
        {"imageIds": [42], "addTags": ["a"]},
        {"imageIds": ["550e8400-e29b-41d4-a716-446655440000"], "addTags": {"a": 1}},
        {"imageIds": ["550e8400-e29b-41d4-a716-446655440000"], "addTags": ["ok", 7]},
        {"imageIds": ["550e8400-e29b-41d4-a716-446655440000"], "removeTags": [None]},
    ],
)
async def test_batch_validation_errors_are_400(client, admin, body):
    assert_error_envelope(await client.post("/api/tags/batch", headers=admin, json=body), 400)
    assert await tag_list(client, admin) == {}


async def test_batch_invalid_tag_leaves_images_untouched(client, admin):
    image_id = await uploaded(client, admin, 1, "keep")
    response = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={"imageIds": [image_id], "addTags": ["fine", 7], "removeTags": ["keep"]},
    )
    body = assert_error_envelope(response, 400)
    assert body["details"]["field"] == "addTags"
    assert await tags_of(client, admin, image_id) == ["keep"]
    assert await tag_list(client, admin) == {"keep": 1}


async def test_batch_cannot_add_and_remove_the_same_tag(client, admin):
    image_id = await uploaded(client, admin, 1, "keep")
    response = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={"imageIds": [image_id], "addTags": ["same"], "removeTags": ["Same"]},
    )
    assert assert_error_envelope(response, 400)["details"]["tags"] == ["same"]


async def test_batch_with_repeated_ids_counts_each_image_once(client, admin):
    image_id = await uploaded(client, admin, 1)
    response = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={"imageIds": [image_id, image_id, image_id.upper()], "addTags": ["once"]},
    )
    assert response.json()["updatedCount"] == 1
    assert await tag_list(client, admin) == {"once": 1}


# -- owners and scopes -------------------------------------------------------------------------


async def test_another_owner_sees_none_of_it(client, admin, make_key):
    mine = await uploaded(client, admin, 1, "private-trip")
    await client.post("/api/tags", headers=admin, json={"name": "mountain"})
    bob_key, _ = await make_key(["images:read", "images:write"], owner="bob")
    bob = bearer(bob_key)

    assert (await client.get("/api/tags", headers=bob)).json() == {"success": True, "tags": []}
    assert (await client.get("/v1/tags", headers=bob)).json() == {"data": []}
    response = await client.put("/api/tags/mountain", headers=bob, json={"newName": "bobs"})
    assert_error_envelope(response, 404)
    # Bob has no such tag: deleting it deletes nothing of Alice's.
    response = await client.delete("/api/tags/private-trip", headers=bob)
    assert response.status_code == 200 and response.json()["deletedImages"] == 0
    assert (await client.get(f"/api/images/{mine}", headers=admin)).status_code == 200
    response = await client.post(
        "/api/tags/batch", headers=bob, json={"imageIds": [mine], "removeTags": ["private-trip"]}
    )
    assert assert_error_envelope(response, 404)["details"]["image_ids"] == [mine]

    # Bob's tag of the same name is his own; deleting it touches nothing of ours.
    await uploaded(client, bob, 2, "private-trip")
    assert await tag_list(client, bob) == {"private-trip": 1}
    assert (await client.delete("/api/tags/private-trip", headers=bob)).json()["deletedImages"] == 1
    assert await tags_of(client, admin, mine) == ["private-trip"]
    assert await tag_list(client, admin) == {"mountain": 0, "private-trip": 1}


async def test_scopes(client, make_key):
    reader_key, _ = await make_key(["images:read"])
    reader = bearer(reader_key)
    assert (await client.get("/api/tags", headers=reader)).status_code == 200
    assert (await client.get("/v1/tags", headers=reader)).status_code == 200
    for response in (
        await client.post("/api/tags", headers=reader, json={"name": "a"}),
        await client.put("/api/tags/a", headers=reader, json={"newName": "b"}),
        await client.delete("/api/tags/a", headers=reader),
        await client.post(
            "/api/tags/batch",
            headers=reader,
            json={"imageIds": [str(uuid.uuid4())], "addTags": ["a"]},
        ),
    ):
        assert_error_envelope(response, 403, "FORBIDDEN")
    assert_error_envelope(await client.get("/api/tags"), 401, "UNAUTHORIZED")
