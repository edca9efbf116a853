"""A real nginx in front of a real `pixhaven dev` with SERVE_OBJECTS_VIA=nginx: nginx sends
the object's bytes from the bucket's plain copy, with Pixhaven's headers, after Pixhaven's
checks; the configuration is README's nginx block, read from README itself. Skipped where
nginx is not installed (CI installs nginx-light)."""

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from tests.behind_web_server import behind_web_server, check_sent_by_web_server, published_photo
from tests.readme_snippets import readme_nginx_site

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


def nginx_config(folder: Path, port: int, upstream: str, bucket: Path) -> str:
    # README's block ("Behind nginx or Caddy"), with the upstream's address, the bucket's
    # path and a port. As root, nginx's workers would run as nobody, who cannot enter the
    # test's private folder.
    block = readme_nginx_site(upstream.removeprefix("http://"), bucket, port)
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

    def nginx(upstream: str, port: int) -> list[str]:
        config = folder / "nginx.conf"
        config.write_text(nginx_config(folder, port, upstream, folder / "state" / "bucket"))
        return [str(NGINX), "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log")]

    yield from behind_web_server(folder, "nginx", nginx)


def test_nginx_sends_the_object_with_pixhavens_headers(behind_nginx):
    url, upstream = behind_nginx
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
        path = published_photo(client)
        time.sleep(1.1)  # the plain copy is made a second later: its mtime must not say so
        original = httpx.get(f"{upstream}/{path}", trust_env=False)
        assert "x-accel-redirect" in original.headers and original.content == b""

        served = check_sent_by_web_server(client, path, original)
        assert served.headers["accept-ranges"] == "bytes"
        # The internal location is not reachable from outside.
        name = original.headers["x-accel-redirect"]
        assert client.get(name).status_code == 404
