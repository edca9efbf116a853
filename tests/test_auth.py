"""Bearer authentication, scopes and owner isolation, through the HTTP API."""

from tests.conftest import assert_error_envelope, bearer


async def test_no_token_is_401_json(client):
    response = await client.get("/v1/keys")
    body = assert_error_envelope(response, 401, "UNAUTHORIZED")
    assert body["error"] == "Unauthorized"  # CattoPic's documented message


async def test_malformed_authorization_header_is_401(client):
    for header in ("Basic abc", "Bearer", "Bearer   ", "pxf_nope"):
        response = await client.get("/v1/keys", headers={"Authorization": header})
        assert_error_envelope(response, 401, "UNAUTHORIZED")


async def test_unknown_key_is_401(client):
    response = await client.get("/v1/keys", headers=bearer("pxf_not-a-real-key"))
    assert_error_envelope(response, 401, "UNAUTHORIZED")


async def test_admin_token_is_allowed_everywhere(client, admin):
    assert (await client.get("/v1/keys", headers=admin)).status_code == 200
    assert (await client.get("/api/config", headers=admin)).status_code == 200
    response = await client.post("/api/validate-api-key", headers=admin)
    assert response.json() == {"success": True, "valid": True}


async def test_revoked_key_is_401(client, admin, make_key):
    key, key_id = await make_key(["images:read"])
    assert (await client.post("/api/validate-api-key", headers=bearer(key))).status_code == 200
    assert (await client.delete(f"/v1/keys/{key_id}", headers=admin)).status_code == 200
    response = await client.post("/api/validate-api-key", headers=bearer(key))
    assert_error_envelope(response, 401, "UNAUTHORIZED")


async def test_key_lacking_scope_is_403(client, make_key):
    key, _ = await make_key(["images:read"])
    response = await client.get("/v1/keys", headers=bearer(key))
    body = assert_error_envelope(response, 403, "FORBIDDEN")
    assert body["details"] == {"required_scope": "keys:read"}


async def test_key_with_scope_is_allowed(client, make_key):
    key, key_id = await make_key(["keys:read"])
    response = await client.get("/v1/keys", headers=bearer(key))
    assert response.status_code == 200
    assert [k["id"] for k in response.json()["data"]] == [key_id]


async def test_a_key_never_sees_another_owners_keys(client, make_key):
    alice, alice_id = await make_key(["keys:read", "keys:write"], owner="alice")
    bob, bob_id = await make_key(["keys:read", "keys:write"], owner="bob")

    listed = (await client.get("/v1/keys", headers=bearer(alice))).json()["data"]
    assert {k["id"] for k in listed} == {alice_id}
    assert all(k["owner"] == "alice" for k in listed)

    # Bob's key id is invisible to Alice: revoking it is a 404, and it stays active.
    response = await client.delete(f"/v1/keys/{bob_id}", headers=bearer(alice))
    assert_error_envelope(response, 404, "NOT_FOUND")
    assert (await client.post("/api/validate-api-key", headers=bearer(bob))).status_code == 200

    # Keys Alice creates belong to Alice, and she cannot create keys for Bob.
    created = await client.post(
        "/v1/keys", json={"name": "a2", "scopes": ["keys:read"]}, headers=bearer(alice)
    )
    assert created.status_code == 201
    response = await client.post(
        "/v1/keys", json={"name": "x", "owner": "bob"}, headers=bearer(alice)
    )
    assert_error_envelope(response, 403, "FORBIDDEN")


async def test_a_key_cannot_grant_scopes_it_lacks(client, make_key):
    key, _ = await make_key(["keys:write", "images:read"])
    response = await client.post(
        "/v1/keys", json={"name": "x", "scopes": ["images:write"]}, headers=bearer(key)
    )
    assert_error_envelope(response, 403, "FORBIDDEN")
    ok = await client.post(
        "/v1/keys", json={"name": "x", "scopes": ["images:read"]}, headers=bearer(key)
    )
    assert ok.status_code == 201


async def test_keys_are_stored_as_hashes_only(client, env, make_key):
    key, key_id = await make_key(["images:read"])
    row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(key_id).first()
    assert key not in {str(value) for value in row.values()}
    assert len(row["key_hash"]) == 64


async def test_key_use_is_recorded(client, env, make_key):
    key, key_id = await make_key(["images:read"])
    assert (await client.post("/api/validate-api-key", headers=bearer(key))).status_code == 200
    used = (
        await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?")
        .bind(key_id)
        .first("last_used_at")
    )
    assert used is not None and used.endswith("Z")
