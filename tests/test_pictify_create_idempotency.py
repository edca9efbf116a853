"""Idempotency-Key on Pictify's POSTs that create something (api-reference/overview.mdx:
"The same key with the same request will return the cached response for 24 hours"):
`POST /templates` here (200 with `{template}`, as the OpenAPI gives it), `POST /webhook-subscriptions` in tests/test_webhooks.py."""

from tests.conftest import assert_error_envelope

TEMPLATE = {
    "name": "Badge",
    "document": {"width": 40, "height": 20, "background": "#112233", "components": []},
}


async def template_count(client, headers) -> int:
    listed = await client.get("/templates", headers=headers)
    assert listed.status_code == 200, listed.text
    return len(listed.json()["templates"])


async def test_same_key_same_body_is_one_template(client, admin):
    headers = {**admin, "Idempotency-Key": "create-template-1"}
    first = await client.post("/templates", json=TEMPLATE, headers=headers)
    assert first.status_code == 200, first.text
    again = await client.post("/templates", json=TEMPLATE, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await template_count(client, admin) == 1
    # Without a key, each POST is a new template, as before.
    assert (await client.post("/templates", json=TEMPLATE, headers=admin)).status_code == 200
    assert await template_count(client, admin) == 2


async def test_same_key_other_body_is_refused(client, admin):
    headers = {**admin, "Idempotency-Key": "create-template-2"}
    assert (await client.post("/templates", json=TEMPLATE, headers=headers)).status_code == 200
    other = await client.post("/templates", json={**TEMPLATE, "name": "Other"}, headers=headers)
    assert_error_envelope(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert await template_count(client, admin) == 1


async def test_a_refused_create_frees_its_key(client, admin):
    """A 400 stores nothing: the same key may be retried with a corrected body."""
    headers = {**admin, "Idempotency-Key": "create-template-3"}
    bad = await client.post("/templates", json={"name": "Badge"}, headers=headers)
    assert_error_envelope(bad, 400)
    good = await client.post("/templates", json=TEMPLATE, headers=headers)
    assert good.status_code == 200, good.text
    assert await template_count(client, admin) == 1
