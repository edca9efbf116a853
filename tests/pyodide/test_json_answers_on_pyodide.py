"""The answers sent as built (routers/native_json.py) on real Pyodide, through
`entry.Default.fetch`: the image list and detail routes of CattoPic and PixelFlare answer
what the Worker's own /openapi.json documents (tests/test_json_answers.py on CPython)."""

from tests.conftest import ADMIN_TOKEN
from tests.imagegen import image_bytes, upload
from tests.test_json_answers import documented, openapi

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_list_and_detail_answers_match_the_document_on_pyodide(worker_client):
    document = await openapi(worker_client)
    uploaded = await upload(worker_client, ADMIN, image_bytes(64, 48, "PNG"), "a.png", tags="sea")
    assert uploaded.status_code == 200, uploaded.text
    image_id = uploaded.json()["result"]["id"]

    page = await documented(worker_client, document, "GET", "/api/images?limit=24", headers=ADMIN)
    assert [image["id"] for image in page["images"]] == [image_id]
    detail = await documented(
        worker_client, document, "GET", f"/api/images/{image_id}", headers=ADMIN
    )
    assert detail["image"]["tags"] == ["sea"] and detail["id"] == image_id
    tags = await documented(worker_client, document, "GET", "/api/tags", headers=ADMIN)
    assert tags["tags"] == [{"name": "sea", "count": 1}]
    listed = await documented(worker_client, document, "GET", "/v1/images?limit=50", headers=ADMIN)
    assert [image["id"] for image in listed["data"]] == [image_id]
    assert listed["next_cursor"] is None
    resource = await documented(
        worker_client, document, "GET", f"/v1/images/{image_id}", headers=ADMIN
    )
    assert set(resource["versions"]) == {"original", "webp", "avif"}
