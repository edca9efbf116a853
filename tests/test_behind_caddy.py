"""A real Caddy in front of a real `pixhaven dev` with SERVE_OBJECTS_VIA=sendfile: Caddy sends
the object's bytes from the bucket's plain copy named by `X-Sendfile`, with Pixhaven's
headers, after Pixhaven's checks. The Caddyfile is README's snippet ("Behind nginx or
Caddy"), read from README itself, with the upstream's address. Skipped where Caddy is not
installed (CI installs Debian's `caddy`)."""

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.dev_server import free_port, run_dev_server
from tests.imagegen import image_bytes
from tests.serving_support import assert_pixhavens_headers, readme_block, substituted

CADDY = shutil.which("caddy")
pytestmark = pytest.mark.skipif(CADDY is None, reason="caddy is not installed")
IMMUTABLE = "public, max-age=31536000, immutable"
README_UPSTREAM = "reverse_proxy 127.0.0.1:8787"


def caddyfile(port: int, upstream: str) -> str:
    snippet = substituted(readme_block("caddy"), {README_UPSTREAM: f"reverse_proxy {upstream}"})
    indented = "".join(f"    {line}\n" for line in snippet.splitlines())
    # No admin endpoint, no automatic HTTPS: one plain-HTTP site on a free loopback port.
    return f"{{\n    admin off\n    auto_https off\n}}\nhttp://127.0.0.1:{port} {{\n{indented}}}\n"


@pytest.fixture(scope="module")
def behind_caddy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("caddy")
    servers = run_dev_server(folder, SERVE_OBJECTS_VIA="sendfile")
    upstream = next(servers)
    port = free_port()
    config = folder / "Caddyfile"
    config.write_text(caddyfile(port, upstream.removeprefix("http://")))
    log = (folder / "caddy.out").open("w")
    caddy = subprocess.Popen(
        [CADDY, "run", "--config", str(config), "--adapter", "caddyfile"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
        env={"HOME": str(folder), "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            assert caddy.poll() is None, (folder / "caddy.out").read_text()
            try:
                httpx.get(f"{url}/health", timeout=5, trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, upstream
    finally:
        caddy.terminate()
        caddy.wait(timeout=15)
        log.close()
        next(servers, None)  # stops pixhaven dev


def test_caddy_sends_the_object_with_pixhavens_headers(behind_caddy):
    url, upstream = behind_caddy
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
        data = image_bytes(640, 480)
        answer = client.post(
            "/api/upload/single",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            files={"image": ("photo.jpg", data, "application/octet-stream")},
        )
        assert answer.status_code == 200, answer.text
        made = answer.json()["result"]
        path = made["urls"]["original"].split("://", 1)[1].split("/", 1)[1]
        original = httpx.get(f"{upstream}/{path}", trust_env=False)
        sendfile = original.headers["x-sendfile"]
        assert Path(sendfile).is_absolute() and original.content == b""

        served = client.get(f"/{path}")
        assert served.status_code == 200
        assert "x-sendfile" not in served.headers
        assert served.content == Path(sendfile).read_bytes()
        assert served.content[:2] == b"\xff\xd8" and served.content[-2:] == b"\xff\xd9"
        etag = original.headers["etag"]
        assert served.headers["etag"] == etag
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["cache-control"] == IMMUTABLE
        assert_pixhavens_headers(served, original)
        assert int(served.headers["content-length"]) == len(served.content)

        part = client.get(f"/{path}", headers={"Range": "bytes=10-19"})
        assert part.status_code == 206 and part.content == served.content[10:20]
        # Pixhaven answers a matching If-None-Match itself, before any X-Sendfile.
        assert client.get(f"/{path}", headers={"If-None-Match": etag}).status_code == 304
        # Pixhaven's checks still decide: an unknown image is Pixhaven's 404 envelope.
        missing = client.get("/r2/images/landscape/00000000-0000-0000-0000-000000000000.jpg")
        assert missing.status_code == 404 and missing.json()["success"] is False
        # Every other answer passes through untouched.
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
