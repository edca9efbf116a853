"""Tag names are folded before the naming rule: Unicode NFKC, case folding, NFKC again, and
the combining dot that folding `İ` leaves behind dropped. `İstanbul`, a decomposed `é` and
full-width `ＡＢＣ` behave exactly like `istanbul`, `é` and `abc`, on every path that names a
tag: CattoPic /api/tags*, upload and image tags, batch updates, list `tag=` filters, PixelFlare
image tags, `tag=` and /v1/tags, and random `tags=`/`exclude=`."""

from urllib.parse import quote, urlsplit

import pytest

from tests.conftest import assert_error_envelope
from tests.imagegen import unique_jpeg, upload
from tests.serving_support import publish

# İstanbul: capital I with dot above (U+0130); plain case folding gives "i\u0307stanbul".
ISTANBUL = "\u0130stanbul"
E_DECOMPOSED = "e\u0301"  # e + COMBINING ACUTE ACCENT
E_COMPOSED = "\u00e9"  # é
FULL_WIDTH = "\uff21\uff22\uff23"  # ＡＢＣ
FOLDED = {ISTANBUL: "istanbul", E_DECOMPOSED: E_COMPOSED, FULL_WIDTH: "abc"}


async def tag_names(client, headers) -> dict[str, int]:
    response = await client.get("/api/tags", headers=headers)
    assert response.status_code == 200, response.text
    return {tag["name"]: tag["count"] for tag in response.json()["tags"]}


async def listed_ids(client, headers, path: str, **params) -> set[str]:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return {image["id"] for image in body.get("images", body.get("data", []))}


@pytest.mark.parametrize("given,stored", list(FOLDED.items()))
async def test_creating_a_tag_stores_the_folded_name(client, admin, given, stored):
    response = await client.post("/api/tags", headers=admin, json={"name": given})
    assert response.status_code == 200, response.text
    assert response.json()["tag"] == {"name": stored, "count": 0}
    # The plain spelling is the same tag, not a second one.
    again = await client.post("/api/tags", headers=admin, json={"name": stored})
    assert again.json()["tag"] == {"name": stored, "count": 0}
    assert await tag_names(client, admin) == {stored: 0}


async def test_other_variants_fold_too(client, admin):
    for given, stored in (
        ("Straße", "strasse"),
        ("ＳＵＭＭＥＲ-２０２４", "summer-2024"),
        ("ﬁsh", "fish"),
        ("\u3000ＴＯＫＹＯ\u3000", "tokyo"),  # ideographic spaces are trimmed
    ):
        response = await client.post("/api/tags", headers=admin, json={"name": given})
        assert response.json()["tag"]["name"] == stored, given


async def test_upload_and_update_tags_are_folded(client, admin):
    tags = ",".join(FOLDED)
    response = await upload(client, admin, unique_jpeg(1), tags=tags)
    assert response.status_code == 200, response.text
    image_id = response.json()["result"]["id"]
    assert sorted(response.json()["result"]["tags"]) == sorted(FOLDED.values())
    # The plain spellings add nothing new.
    updated = await client.put(
        f"/api/images/{image_id}",
        headers=admin,
        json={"tags": ["istanbul", "abc", E_COMPOSED, ISTANBUL]},
    )
    assert sorted(updated.json()["image"]["tags"]) == sorted(FOLDED.values())
    assert await tag_names(client, admin) == {name: 1 for name in FOLDED.values()}


async def test_rename_delete_and_batch_name_tags_folded(client, admin):
    image_id = (await upload(client, admin, unique_jpeg(2), tags="istanbul,abc")).json()["result"][
        "id"
    ]
    # PUT /api/tags/İstanbul renames "istanbul".
    response = await client.put(
        f"/api/tags/{quote(ISTANBUL)}", headers=admin, json={"newName": FULL_WIDTH + "d"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["tag"] == {"name": "abcd", "count": 1}
    # Renaming a tag to its own name in another spelling is no rename.
    same = await client.put(
        f"/api/tags/{quote(FULL_WIDTH)}", headers=admin, json={"newName": "ABC"}
    )
    assert assert_error_envelope(same, 400)["error"] == "New name must be different from old name"
    # Batch: add É (decomposed, upper case), remove ＡＢＣＤ.
    response = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={"imageIds": [image_id], "addTags": ["E\u0301"], "removeTags": ["ＡＢＣＤ"]},
    )
    assert response.status_code == 200, response.text
    image = (await client.get(f"/api/images/{image_id}", headers=admin)).json()["image"]
    assert sorted(image["tags"]) == ["abc", E_COMPOSED]
    # Adding and removing the same tag in two spellings is refused.
    both = await client.post(
        "/api/tags/batch",
        headers=admin,
        json={"imageIds": [image_id], "addTags": [FULL_WIDTH], "removeTags": ["abc"]},
    )
    assert_error_envelope(both, 400)
    # DELETE /api/tags/ＡＢＣ deletes "abc" (and, as documented, its image).
    response = await client.delete(f"/api/tags/{quote(FULL_WIDTH)}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["deletedImages"] == 1
    assert "abc" not in await tag_names(client, admin)


async def test_list_filters_fold_the_tag(client, admin):
    wanted = (await upload(client, admin, unique_jpeg(3), tags=ISTANBUL)).json()["result"]["id"]
    await upload(client, admin, unique_jpeg(4), tags="ankara")
    for spelling in (ISTANBUL, "istanbul", "ISTANBUL", "ｉｓｔａｎｂｕｌ"):
        assert await listed_ids(client, admin, "/api/images", tag=spelling) == {wanted}
        assert await listed_ids(client, admin, "/v1/images", tag=spelling) == {wanted}


async def test_pixelflare_image_tags_and_tag_list_are_folded(client, admin):
    response = await client.post(
        "/v1/images",
        headers=admin,
        json={"filename": "a.jpg", "tags": [ISTANBUL, E_DECOMPOSED, FULL_WIDTH, "abc"]},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert sorted(created["tags"]) == sorted(FOLDED.values())
    parts = urlsplit(created["upload_url"])
    put = await client.put(f"{parts.path}?{parts.query}", content=unique_jpeg(8))
    assert put.status_code == 200, put.text
    patched = await client.patch(
        f"/v1/images/{created['id']}", headers=admin, json={"tags": ["ＩＳＴＡＮＢＵＬ"]}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["tags"] == ["istanbul"]
    listed = (await client.get("/v1/tags", headers=admin)).json()["data"]
    assert {tag["tag"] for tag in listed} == set(FOLDED.values())


async def test_random_tags_and_exclude_fold(client, admin):
    istanbul = await publish(client, admin, unique_jpeg(5), "a.jpg", tags="istanbul")
    both = await publish(client, admin, unique_jpeg(6), "b.jpg", tags=f"istanbul,{E_COMPOSED}")
    seen = set()
    for _ in range(30):
        response = await client.get("/api/random", params={"tags": ISTANBUL})
        assert response.status_code == 302, response.text
        seen.add(response.headers["location"].rsplit("/", 1)[1].split(".")[0])
    assert seen == {istanbul["id"], both["id"]}
    for _ in range(10):
        response = await client.get(
            "/api/random", params={"tags": "ＩＳＴＡＮＢＵＬ", "exclude": E_DECOMPOSED}
        )
        assert response.status_code == 302, response.text
        assert istanbul["id"] in response.headers["location"]


async def test_a_tag_stored_before_folding_can_still_be_renamed_and_deleted(client, admin, env):
    """Names stored when tags were only lowercased (`straße`, `ａｂｃ`) fold differently now:
    their path still finds them, so they can be renamed into the folded name or deleted."""
    image_id = (await upload(client, admin, unique_jpeg(7))).json()["result"]["id"]
    for legacy in ("straße", "ａｂｃ"):
        await (
            env.DB.prepare("INSERT INTO tags (owner, name, created_at) VALUES (?, ?, ?)")
            .bind("default_user", legacy, "2024-01-01T00:00:00.000Z")
            .run()
        )
        await (
            env.DB.prepare("INSERT INTO image_tags (image_id, owner, tag) VALUES (?, ?, ?)")
            .bind(image_id, "default_user", legacy)
            .run()
        )
    response = await client.put(
        f"/api/tags/{quote('straße')}", headers=admin, json={"newName": "Straße"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["tag"] == {"name": "strasse", "count": 1}
    response = await client.delete(f"/api/tags/{quote('ａｂｃ')}", headers=admin)
    assert response.status_code == 200, response.text
    assert await tag_names(client, admin) == {"strasse": 0}
