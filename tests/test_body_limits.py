"""Request bodies are limited while they arrive, chunked or not: uploads by MAX_UPLOAD_BYTES
(plus the multipart framing), every other body by MAX_JSON_BYTES, answered 413 in the
envelope.

The issue's requests are sent as they were (300 MB uploads, a 107 MB JSON body), but the
limits are small here and the bodies are made as they are sent: `Body.sent` is what the
server took before it answered, which shows the memory a request can add stays bounded by
the limit (plus the one chunk that crossed it), without sending 300 MB.
"""

import json
from collections.abc import AsyncIterator

import pytest

from pixhaven.middleware import UPLOAD_FRAMING, body_limit, is_upload
from pixhaven.settings import Settings

from .conftest import assert_error_envelope
from .imagegen import unique_jpeg

UPLOAD_LIMIT = 64 * 1024
JSON_LIMIT = 4096
CHUNK = 64 * 1024
MB = 1024 * 1024


@pytest.fixture
def settings_overrides():
    return {"MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT), "MAX_JSON_BYTES": str(JSON_LIMIT)}


class Body:
    """A request body of `size` bytes (`head`, filler, `tail`), produced chunk by chunk as the
    server reads it; `sent` counts the bytes handed over so far."""

    def __init__(self, size: int, head: bytes = b"", tail: bytes = b"", fill: bytes = b"a"):
        self.size, self.head, self.tail, self.fill = size, head, tail, fill
        self.sent = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self._count(self.head)
        left = self.size - len(self.head) - len(self.tail)
        while left > 0:
            piece = min(CHUNK, left)
            left -= piece
            yield self._count(self.fill * piece)
        yield self._count(self.tail)

    def _count(self, chunk: bytes) -> bytes:
        self.sent += len(chunk)
        return chunk


async def send(client, method, path, body: Body, headers: dict, *, declared: bool):
    """`declared`: with Content-Length (the fast path); otherwise chunked."""
    headers = dict(headers)
    if declared:
        headers["Content-Length"] = str(body.size)
    response = await client.request(method, path, content=body.chunks(), headers=headers)
    assert ("transfer-encoding" in response.request.headers) is not declared
    return response


def multipart_upload(size: int) -> tuple[Body, dict]:
    """A CattoPic upload form whose file makes the body `size` bytes."""
    boundary = "pixhavenboundary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="image"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + b"\xff\xd8\xff\xe0"
    tail = f"\r\n--{boundary}--\r\n".encode()
    return Body(size, head, tail), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def created_upload_path(client, admin) -> str:
    response = await client.post("/v1/images", json={"filename": "big.jpg"}, headers=admin)
    assert response.status_code == 201, response.text
    url = response.json()["upload_url"]
    return url.removeprefix("http://testserver")


# -- the requests --------------------------------------------------------------------


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
async def test_300_mb_multipart_upload_is_413_before_it_is_read(client, admin, declared):
    body, headers = multipart_upload(300 * MB)
    response = await send(
        client, "POST", "/api/upload/single", body, {**admin, **headers}, declared=declared
    )
    answer = assert_error_envelope(response, 413, "FILE_TOO_LARGE")
    assert answer["details"] == {"max_bytes": UPLOAD_LIMIT}
    assert answer["error"] == "File exceeds maximum size of 0.0625MB"
    # Read up to the limit and the chunk that crossed it; with a declared length, nothing.
    assert body.sent <= (0 if declared else UPLOAD_LIMIT + UPLOAD_FRAMING + CHUNK)


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
async def test_300_mb_put_to_upload_url_is_413_before_it_is_read(client, admin, declared):
    path = await created_upload_path(client, admin)
    body = Body(300 * MB, head=b"\xff\xd8\xff\xe0")
    response = await send(
        client, "PUT", path, body, {"Content-Type": "image/jpeg"}, declared=declared
    )
    answer = assert_error_envelope(response, 413, "FILE_TOO_LARGE")
    assert answer["details"] == {"max_bytes": UPLOAD_LIMIT}
    assert body.sent <= (0 if declared else UPLOAD_LIMIT + UPLOAD_FRAMING + CHUNK)
    # The URL is still good for the real bytes.
    data = unique_jpeg(1)
    assert len(data) < UPLOAD_LIMIT
    response = await client.put(path, content=data, headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
async def test_107_mb_json_body_to_render_is_413_before_it_is_read(client, admin, declared):
    head = b'{"width": 100, "height": 100, "components": [{"type": "text", "text": "'
    body = Body(107 * MB, head, tail=b'"}]}')
    response = await send(
        client,
        "POST",
        "/api/v1/image",
        body,
        {**admin, "Content-Type": "application/json"},
        declared=declared,
    )
    answer = assert_error_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert answer["details"] == {"max_bytes": JSON_LIMIT}
    assert answer["error"] == f"Request body exceeds maximum size of {JSON_LIMIT} bytes"
    assert body.sent <= (0 if declared else JSON_LIMIT + CHUNK)


@pytest.mark.parametrize(
    "path, content_type",
    [
        ("/api/v1/image", "application/json"),
        ("/api/upload/single", "multipart/form-data; boundary=x"),
    ],
)
async def test_a_content_length_of_4301_digits_is_413(client, admin, path, content_type):
    """int() refuses strings past 4,300 digits; such a length is simply too large."""
    headers = {**admin, "Content-Type": content_type, "Content-Length": "9" * 4301}
    response = await client.post(path, content=b"{}", headers=headers)
    assert_error_envelope(response, 413, None)


# -- one answer, wherever the body is read ---------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/tags"),  # CattoPic, routers/requests.read_json
        ("POST", "/templates"),  # Pictify, the same reader with the field-list wording
        ("POST", "/v1/keys"),  # PixelFlare, parsed by FastAPI itself
        ("POST", "/v1/images"),
        ("POST", "/api/generate"),  # Splinterpic
    ],
)
async def test_json_body_over_the_limit_is_the_same_413_declared_or_chunked(
    client, admin, method, path
):
    answers = []
    for declared in (True, False):
        body = Body(JSON_LIMIT + 1, b'{"name": "', b'"}')
        headers = {**admin, "Content-Type": "application/json"}
        response = await send(client, method, path, body, headers, declared=declared)
        answers.append(assert_error_envelope(response, 413, "PAYLOAD_TOO_LARGE"))
    assert answers[0] == answers[1]


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
async def test_a_json_body_of_exactly_the_limit_is_read(client, admin, declared):
    text = json.dumps({"name": "boundary"}).encode()
    body = Body(JSON_LIMIT, text, fill=b" ")  # JSON allows the trailing whitespace
    headers = {**admin, "Content-Type": "application/json"}
    response = await send(client, "POST", "/api/tags", body, headers, declared=declared)
    assert response.status_code == 200, response.text
    assert response.json()["tag"]["name"] == "boundary"
    assert body.sent == JSON_LIMIT


async def test_an_upload_within_the_limit_is_stored(client, admin):
    data = unique_jpeg(2)
    response = await client.post(
        "/api/upload/single", headers=admin, files={"image": ("ok.jpg", data, "image/jpeg")}
    )
    assert response.status_code == 200, response.text


async def test_a_declared_length_over_the_limit_is_not_refused_before_the_route_reads(client):
    """The limit applies when the body is read: a route that answers first (here 401, no
    token) answers as it would, and a route that reads no body is not refused."""
    body, headers = multipart_upload(300 * MB)
    response = await send(client, "POST", "/api/upload/single", body, headers, declared=True)
    assert_error_envelope(response, 401)
    assert body.sent == 0
    health = await client.request("GET", "/health", content=b"x" * (JSON_LIMIT + 1))
    assert health.status_code == 200


# -- the route classes ---------------------------------------------------------------------


def test_the_upload_class_is_exactly_the_routes_that_take_files(app):
    """`middleware.body_limit` decides the class from the method and path; the document
    says which routes take a file (a non-JSON body): the two must agree."""
    settings = Settings(max_upload_bytes=1000, max_json_bytes=10)
    taking_files, taking_json = [], []
    for path, operations in app.openapi()["paths"].items():
        concrete = path.replace("{", "").replace("}", "")  # /v1/uploads/image_id
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if not content:
                continue
            expected = taking_json if "application/json" in content else taking_files
            expected.append((method.upper(), concrete))
    assert sorted(taking_files) == [("POST", "/api/upload/single"), ("PUT", "/v1/uploads/image_id")]
    for method, path in taking_files:
        assert is_upload(method, path)
        assert body_limit(method, path, settings).max_bytes == 1000 + UPLOAD_FRAMING
    for method, path in taking_json:
        assert not is_upload(method, path)
        assert body_limit(method, path, settings).max_bytes == 10


def test_every_operation_with_a_body_documents_413(app):
    for operations in app.openapi()["paths"].values():
        for operation in operations.values():
            if "requestBody" in operation:
                assert "413" in operation["responses"]


# -- the limit names the way round it -----------------------------------------------------------


async def test_a_file_just_over_the_limit_is_413_naming_the_limit(client, admin):
    """A file over MAX_UPLOAD_BYTES whose form is within the framing allowance: the upload
    route's own check answers like the body limit, with the file's size."""
    data = unique_jpeg(1)
    data = data + b"\0" * (UPLOAD_LIMIT + 10 - len(data))
    files = {"image": ("big.jpg", data, "image/jpeg")}
    response = await client.post("/api/upload/single", headers=admin, files=files)
    answer = assert_error_envelope(response, 413, "FILE_TOO_LARGE")
    assert answer["details"] == {"max_bytes": UPLOAD_LIMIT, "size": UPLOAD_LIMIT + 10}
    assert answer["error"] == "File exceeds maximum size of 0.0625MB"


class TestWithDirectUploadsToR2:
    @pytest.fixture
    def settings_overrides(self):
        return {
            "MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
            "MAX_JSON_BYTES": str(JSON_LIMIT),
            "R2_ACCESS_KEY_ID": "key-id",
            "R2_SECRET_ACCESS_KEY": "secret",
            "R2_ACCOUNT_ID": "account",
            "R2_BUCKET_NAME": "pixhaven",
        }

    async def test_the_413_names_the_direct_upload(self, client, admin):
        """Where upload_url is an R2 presigned PUT, the 413 says how to send a larger file:
        straight to the bucket, up to DIRECT_UPLOAD_MAX_BYTES (the Worker never holds it)."""
        body, headers = multipart_upload(3 * MB)
        response = await send(
            client, "POST", "/api/upload/single", body, {**admin, **headers}, declared=True
        )
        answer = assert_error_envelope(response, 413, "FILE_TOO_LARGE")
        assert answer["error"] == (
            "File exceeds maximum size of 0.0625MB; files up to 100MB upload straight to "
            "storage: POST /v1/images, then PUT the file to the upload_url it answers"
        )
        assert answer["details"] == {"max_bytes": UPLOAD_LIMIT, "directUploadMaxBytes": 100 * MB}
        created = await client.post("/v1/images", json={"filename": "big.jpg"}, headers=admin)
        assert created.status_code == 201
        assert "r2.cloudflarestorage.com" in created.json()["upload_url"]
