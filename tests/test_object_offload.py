"""SERVE_OBJECTS_VIA: a public object request answered with X-Accel-Redirect (nginx) or
X-Sendfile after Pixhaven's checks, carrying its headers and no body; and the bodies
Pixhaven sends itself, whole when small and streamed when large."""

import os
import uuid
from types import SimpleNamespace

import pytest

from pixhaven.settings import Settings
from tests.conftest import assert_error_envelope
from tests.imagegen import image_bytes
from tests.serving_support import IMMUTABLE, key_of, publish, set_column

PREFIX = "/_pixhaven_objects/"


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


async def stored(env, url: str) -> tuple[bytes, str]:
    obj = await env.BUCKET.get(key_of(url))
    return await obj.bytes(), obj.httpEtag


@pytest.mark.parametrize("settings_overrides", [{"SERVE_OBJECTS_VIA": "nginx"}])
async def test_nginx_style_hands_over_the_plain_file_with_pixhavens_headers(
    client, admin, env, settings_overrides
):
    made = await publish(client, admin, image_bytes(120, 80), "beach.jpg")
    data, etag = await stored(env, made["urls"]["original"])
    response = await client.get(path_of(made["urls"]["original"]))
    assert response.status_code == 200
    assert response.content == b""
    accel = response.headers["x-accel-redirect"]
    assert accel.startswith(PREFIX)
    plain = env.BUCKET.root / "plain" / accel.removeprefix(PREFIX)
    assert plain.read_bytes() == data  # what nginx sends is exactly the object
    assert response.headers["etag"] == etag
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == IMMUTABLE
    assert "last-modified" in response.headers
    assert "x-sendfile" not in response.headers

    current = await client.get(path_of(made["urls"]["original"]), headers={"If-None-Match": etag})
    assert current.status_code == 304
    assert "x-accel-redirect" not in current.headers

    # The checks come first: a private image is a 404, with nothing handed over.
    await set_column(env, made["id"], "is_private", 1)
    hidden = await client.get(path_of(made["urls"]["original"]))
    assert_error_envelope(hidden, 404)
    assert "x-accel-redirect" not in hidden.headers
    traversal = await client.get("/r2/images/../objects/x")
    assert traversal.status_code in (400, 404)
    assert "x-accel-redirect" not in traversal.headers


@pytest.mark.parametrize(
    "settings_overrides",
    [{"SERVE_OBJECTS_VIA": "sendfile", "ACCEL_REDIRECT_PREFIX": "/ignored/"}],
)
async def test_sendfile_style_names_the_absolute_path(client, admin, env, settings_overrides):
    made = await publish(client, admin, image_bytes(90, 60), "lake.jpg")
    data, _ = await stored(env, made["urls"]["original"])
    response = await client.get(path_of(made["urls"]["original"]))
    assert response.status_code == 200 and response.content == b""
    path = response.headers["x-sendfile"]
    assert os.path.isabs(path)
    with open(path, "rb") as handed_over:
        assert handed_over.read() == data
    assert "x-accel-redirect" not in response.headers


class R2ApiOnly:
    """A bucket with R2's API and nothing more, as the Worker's binding is: no files."""

    def __init__(self, bucket):
        self._bucket = bucket

    def __getattr__(self, name):
        if name not in ("head", "get", "put", "delete", "list"):
            raise AttributeError(name)
        return getattr(self._bucket, name)


@pytest.mark.parametrize("settings_overrides", [{"SERVE_OBJECTS_VIA": "nginx"}])
async def test_a_bucket_without_files_refuses_the_setting(client, admin, env, settings_overrides):
    made = await publish(client, admin, image_bytes(60, 40), "cloud.jpg")
    env.BUCKET = R2ApiOnly(env.BUCKET)
    response = await client.get(path_of(made["urls"]["original"]))
    assert_error_envelope(response, 500, "MISCONFIGURED")
    assert "SERVE_OBJECTS_VIA" in response.json()["error"]


@pytest.mark.parametrize(
    ("variables", "refused"),
    [
        ({"SERVE_OBJECTS_VIA": "apache"}, "SERVE_OBJECTS_VIA"),
        ({"ACCEL_REDIRECT_PREFIX": "_pixhaven_objects/"}, "ACCEL_REDIRECT_PREFIX"),
        ({"ACCEL_REDIRECT_PREFIX": "/objects"}, "ACCEL_REDIRECT_PREFIX"),
    ],
)
def test_settings_refuse_an_unknown_style_or_a_prefix_that_is_no_location(variables, refused):
    with pytest.raises(ValueError, match=refused):
        Settings.from_env(SimpleNamespace(**variables))
    spelled = SimpleNamespace(SERVE_OBJECTS_VIA=" NGINX ")
    assert Settings.from_env(spelled).serve_objects_via == "nginx"


async def test_large_bodies_are_streamed_and_small_ones_sent_whole(client, env):
    key = f"renders/{uuid.uuid4()}.pdf"  # public by its unguessable key: no image row needed
    data = os.urandom(3 * 1024 * 1024 + 5)
    await env.BUCKET.put(key, data, httpMetadata={"contentType": "application/pdf"})
    response = await client.get(f"/r2/{key}")
    assert response.status_code == 200 and response.content == data
    assert int(response.headers["content-length"]) == len(data)
    part = await client.get(f"/r2/{key}", headers={"Range": "bytes=1000000-2999999"})
    assert part.status_code == 206 and part.content == data[1_000_000:3_000_000]
    assert part.headers["content-range"] == f"bytes 1000000-2999999/{len(data)}"
    tail = await client.get(f"/r2/{key}", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
