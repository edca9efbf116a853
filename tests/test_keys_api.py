"""PixelFlare's /v1/keys, as its document shows it."""

import re

from tests.conftest import assert_error_envelope, bearer

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_create_key_shows_the_key_once(client, admin):
    response = await client.post(
        "/v1/keys",
        headers=admin,
        json={"name": "My App", "scopes": ["images:read", "images:write"]},
    )
    assert response.status_code == 201
    created = response.json()
    assert set(created) >= {"id", "name", "key", "scopes", "created_at"}
    assert created["id"].startswith("key_")
    assert created["key"].startswith("pxf_")
    assert created["name"] == "My App"
    assert created["scopes"] == ["images:read", "images:write"]
    assert ISO_MS.match(created["created_at"])

    listed = (await client.get("/v1/keys", headers=admin)).json()["data"]
    entry = next(k for k in listed if k["id"] == created["id"])
    assert "key" not in entry
    assert created["key"].startswith(entry["prefix"]) and len(entry["prefix"]) < 16
    assert created["key"] not in str(listed)

    # The new key works, with exactly its scopes.
    assert (
        await client.post("/api/validate-api-key", headers=bearer(created["key"]))
    ).status_code == 200


async def test_revoke_key(client, admin, make_key):
    _, key_id = await make_key(["images:read"])
    response = await client.delete(f"/v1/keys/{key_id}", headers=admin)
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    # Revoking again: the key is still visible, still revoked; an unknown id is 404.
    assert (await client.delete(f"/v1/keys/{key_id}", headers=admin)).status_code == 200
    assert_error_envelope(await client.delete("/v1/keys/key_nope", headers=admin), 404)


async def test_create_key_validation(client, admin):
    cases = [
        ({"scopes": ["images:read"]}, "name"),
        ({"name": "", "scopes": ["images:read"]}, "name"),
        ({"name": "x", "scopes": ["images:everything"]}, None),
        ({"name": "x", "scopes": "images:read"}, "scopes"),
    ]
    for body, field in cases:
        response = await client.post("/v1/keys", json=body, headers=admin)
        envelope = assert_error_envelope(response, 400, "INVALID_REQUEST")
        if field:
            assert field in envelope["error"]
    response = await client.post(
        "/v1/keys", content=b"{not json", headers={**admin, "Content-Type": "application/json"}
    )
    assert_error_envelope(response, 400, "INVALID_REQUEST")
    # Nothing was half-created.
    assert (await client.get("/v1/keys", headers=admin)).json()["data"] == []
