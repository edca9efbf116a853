"""A real Caddy in front of a real `pixhaven dev` with SERVE_OBJECTS_VIA=sendfile: Caddy sends
the object's bytes from the bucket's plain copy named by `X-Sendfile`, with Pixhaven's
headers, after Pixhaven's checks. The Caddyfile is README's snippet ("Behind nginx or
Caddy"), read from README itself, with the upstream's address. Skipped where Caddy is not
installed (CI installs Debian's `caddy`)."""

import shutil
from pathlib import Path

import httpx
import pytest

from tests.behind_web_server import behind_web_server, check_sent_by_web_server, published_photo
from tests.readme_snippets import readme_block, substituted

CADDY = shutil.which("caddy")
pytestmark = pytest.mark.skipif(CADDY is None, reason="caddy is not installed")
README_UPSTREAM = "reverse_proxy 127.0.0.1:8787"


def caddyfile(port: int, upstream: str) -> str:
    snippet = substituted(readme_block("caddy"), {README_UPSTREAM: f"reverse_proxy {upstream}"})
    indented = "".join(f"    {line}\n" for line in snippet.splitlines())
    # No admin endpoint, no automatic HTTPS: one plain-HTTP site on a free loopback port.
    return f"{{\n    admin off\n    auto_https off\n}}\nhttp://127.0.0.1:{port} {{\n{indented}}}\n"


@pytest.fixture(scope="module")
def behind_caddy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("caddy")

    def caddy(upstream: str, port: int) -> list[str]:
        config = folder / "Caddyfile"
        config.write_text(caddyfile(port, upstream.removeprefix("http://")))
        return [str(CADDY), "run", "--config", str(config), "--adapter", "caddyfile"]

    # Caddy keeps its state under HOME / XDG folders: the test's own.
    home = {"HOME": str(folder), "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder)}
    yield from behind_web_server(folder, "sendfile", caddy, cwd=folder, env=home)


def test_caddy_sends_the_object_with_pixhavens_headers(behind_caddy):
    url, upstream = behind_caddy
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
        path = published_photo(client)
        original = httpx.get(f"{upstream}/{path}", trust_env=False)
        sendfile = original.headers["x-sendfile"]
        assert Path(sendfile).is_absolute() and original.content == b""

        served = check_sent_by_web_server(client, path, original)
        assert served.content == Path(sendfile).read_bytes()
