"""What tests/test_behind_nginx.py and tests/test_behind_caddy.py share: a real `pixhaven dev`
with a real web server in front of it, and what the web server's answer for an object must
be. README's snippets themselves are read by tests/readme_snippets.py."""

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN
from tests.dev_server import free_port, run_dev_server
from tests.imagegen import image_bytes
from tests.serving_support import IMMUTABLE

# Pixhaven's word to the web server to send a file: never passed on to the client.
HANDOVER = ("x-accel-redirect", "x-sendfile")
# What the web server says itself when it sends the file, not Pixhaven's to pass on.
WEB_SERVERS_OWN = {*HANDOVER, "content-length", "date", "server"}
UNKNOWN_IMAGE = "/r2/images/landscape/00000000-0000-0000-0000-000000000000.jpg"


def behind_web_server(
    folder: Path, serve_objects_via: str, web_server: Callable[[str, int], list[str]], **popen
) -> Iterator[tuple[str, str]]:
    """`pixhaven dev` with SERVE_OBJECTS_VIA=`serve_objects_via`, and in front of it the
    web server whose command `web_server(pixhaven's URL, port)` returns (having written its
    configuration). Yields (the web server's URL, pixhaven's URL) once the web server
    answers, and stops both afterwards."""
    servers = run_dev_server(folder, SERVE_OBJECTS_VIA=serve_objects_via)
    upstream = next(servers)
    port = free_port()
    log = folder / "web_server.out"
    with log.open("w") as output:
        process = subprocess.Popen(
            web_server(upstream, port), stdout=output, stderr=subprocess.STDOUT, **popen
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"{url}/health", timeout=5, trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, upstream
    finally:
        process.terminate()
        process.wait(timeout=15)
        next(servers, None)  # stops pixhaven dev


def published_photo(client: httpx.Client) -> str:
    """Upload a JPEG through the web server, as CattoPic's app does; its original's path."""
    answer = client.post(
        "/api/upload/single",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        files={"image": ("photo.jpg", image_bytes(640, 480), "application/octet-stream")},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]["urls"]["original"].split("://", 1)[1].split("/", 1)[1]


def assert_pixhavens_headers(served, upstream) -> None:
    """The web server's answer carries every header of Pixhaven's own answer to another
    request for the same object (the CORS headers, the validators…), with Pixhaven's
    values; the request id is that request's own."""
    for name, value in upstream.headers.items():
        if name == "x-request-id":
            assert re.fullmatch(r"[0-9a-f]{32}", served.headers.get(name, "")), name
        elif name not in WEB_SERVERS_OWN:
            assert served.headers.get(name) == value, name


def check_sent_by_web_server(client: httpx.Client, path: str, original) -> httpx.Response:
    """What the web server answers for the object at `path`, whose answer from Pixhaven
    itself was `original`: the JPEG with every Pixhaven header, ranges, Pixhaven's own 304
    and 404 envelope, and every other answer passed through. The object answer is returned
    for the web server's own checks."""
    served = client.get(f"/{path}")
    assert served.status_code == 200
    assert not any(name in served.headers for name in HANDOVER)
    etag = original.headers["etag"]
    assert served.headers["etag"] == etag
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == IMMUTABLE
    assert served.headers["last-modified"] == original.headers["last-modified"]
    assert_pixhavens_headers(served, original)
    assert int(served.headers["content-length"]) == len(served.content)
    assert served.content[:2] == b"\xff\xd8" and served.content[-2:] == b"\xff\xd9"

    part = client.get(f"/{path}", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == served.content[10:20]
    # Pixhaven answers a matching If-None-Match itself, before handing the file over.
    assert client.get(f"/{path}", headers={"If-None-Match": etag}).status_code == 304
    # Pixhaven's checks still decide: an unknown image is Pixhaven's 404 envelope.
    missing = client.get(UNKNOWN_IMAGE)
    assert missing.status_code == 404 and missing.json()["success"] is False
    # Every other answer passes through untouched.
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    return served
