"""A real nginx in front of a real `pixhaven dev` with SERVE_OBJECTS_VIA=nginx: nginx sends
the object's bytes from the bucket's plain copy, with Pixhaven's headers, after Pixhaven's
checks; the configuration is README's nginx block, read from README itself. Skipped where
nginx is not installed (CI installs nginx-light)."""

import os
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

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
IMMUTABLE = "public, max-age=31536000, immutable"


def nginx_config(folder: Path, port: int, upstream: str, bucket: Path) -> str:
    # README's block ("Behind nginx or Caddy"), with the upstream's address, the bucket's
    # path and a port. As root, nginx's workers would run as nobody, who cannot enter the
    # test's private folder.
    block = substituted(
        readme_block("nginx"),
        {
            "server 127.0.0.1:8787;": f"server {upstream.removeprefix('http://')};",
            "/srv/pixhaven/.pixhaven/bucket/plain/": f"{bucket}/plain/",
            "server {\n": f"server {{\n    listen 127.0.0.1:{port};\n",
        },
    )
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
{user}
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{block}
}}
"""


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx")
    servers = run_dev_server(folder, SERVE_OBJECTS_VIA="nginx")
    upstream = next(servers)
    port = free_port()
    config = folder / "nginx.conf"
    config.write_text(nginx_config(folder, port, upstream, folder / "state" / "bucket"))
    log = (folder / "nginx.out").open("w")
    nginx = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            assert nginx.poll() is None, (folder / "nginx.out").read_text()
            try:
                httpx.get(f"{url}/health", timeout=5, trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, upstream
    finally:
        nginx.terminate()
        nginx.wait(timeout=15)
        log.close()
        next(servers, None)  # stops pixhaven dev


def test_nginx_sends_the_object_with_pixhavens_headers(behind_nginx):
    url, upstream = behind_nginx
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
        data = image_bytes(640, 480)
        answer = client.post(
            "/api/upload/single",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            files={"image": ("photo.jpg", data, "application/octet-stream")},
        )
        assert answer.status_code == 200, answer.text
        made = answer.json()["result"]
        time.sleep(1.1)  # the plain copy is made a second later: its mtime must not say so
        path = made["urls"]["original"].split("://", 1)[1].split("/", 1)[1]
        original = httpx.get(f"{upstream}/{path}", trust_env=False)
        assert "x-accel-redirect" in original.headers and original.content == b""

        served = client.get(f"/{path}")
        assert served.status_code == 200
        assert "x-accel-redirect" not in served.headers
        etag = original.headers["etag"]
        assert served.headers["etag"] == etag
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["cache-control"] == IMMUTABLE
        assert served.headers["last-modified"] == original.headers["last-modified"]
        assert served.headers["accept-ranges"] == "bytes"
        assert_pixhavens_headers(served, original)
        assert int(served.headers["content-length"]) == len(served.content)
        assert served.content[:2] == b"\xff\xd8" and served.content[-2:] == b"\xff\xd9"

        part = client.get(f"/{path}", headers={"Range": "bytes=10-19"})
        assert part.status_code == 206 and part.content == served.content[10:20]
        assert client.get(f"/{path}", headers={"If-None-Match": etag}).status_code == 304
        # The internal location is not reachable from outside.
        name = original.headers["x-accel-redirect"]
        assert client.get(name).status_code == 404
        # Pixhaven's checks still decide: an unknown image is Pixhaven's 404 envelope.
        missing = client.get("/r2/images/landscape/00000000-0000-0000-0000-000000000000.jpg")
        assert missing.status_code == 404 and missing.json()["success"] is False
