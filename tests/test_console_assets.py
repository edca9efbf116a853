"""The console's static assets (wrangler.toml `[assets]`, console/): served at `/` by the local
server as Workers Static Assets serves them on Cloudflare, never in the way of the API.

The local server's assets layer (pixhaven.local.runtime.assets) reads the same `[assets]`
section wrangler deploys with; these tests drive it over HTTP, in a real `pixhaven dev` and
in front of the app with a configuration of their own.
"""

import re
import tomllib
from pathlib import Path

import httpx
import pytest

from pixhaven.app import create_app
from pixhaven.local.runtime.assets import StaticAssets
from pixhaven.local.runtime.config import AssetsConfig, load_config
from pixhaven.local.runtime.server import served
from pixhaven.security.scopes import SCOPES
from pixhaven.services.delivery.cdn_paths import RESERVED_PREFIXES, SHORT_ID
from tests.conftest import ROOT
from tests.dev_server import run_dev_server
from tests.test_cdn_reserved_prefixes import first_segment, registered_paths

CONSOLE = ROOT / "console"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from run_dev_server(tmp_path_factory.mktemp("console-assets"))


def assert_json_404(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text[:200]
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["success"] is False


def test_the_console_is_served_at_the_root(server):
    with httpx.Client(base_url=server, trust_env=False) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "<title>Pixhaven console</title>" in page.text
        assert page.headers["cache-control"] == "public, max-age=0, must-revalidate"
        etag = page.headers["etag"]
        again = http.get("/", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        script = http.get("/api.js")
        assert script.status_code == 200
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
        head = http.head("/api.js")
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(script.content)
        # The clean URL is the one served: index.html redirects to its folder.
        moved = http.get("/index.html?x=1")
        assert moved.status_code == 307 and moved.headers["location"] == "/?x=1"


def test_api_paths_reach_the_app_and_its_404s_stay_json(server):
    with httpx.Client(base_url=server, trust_env=False) as http:
        assert http.get("/health").json()["status"] == "ok"
        assert_json_404(http.get("/v1/no-such-route"))
        assert_json_404(http.get("/no-such-page.html"))
        assert_json_404(http.get("/views/no-such-view.js"))
        # Not a navigation fallback: an unknown path is never the console's page.
        assert_json_404(http.get("/settings", headers={"Accept": "text/html"}))
        # Only GET and HEAD are answered from the assets; a POST reaches the app.
        posted = http.post("/api.js", content=b"{}")
        assert posted.status_code in (404, 405)
        assert posted.headers["content-type"].startswith("application/json")
        # Nothing outside the folder.
        assert_json_404(http.get("/%2e%2e/wrangler.toml"))


def test_wrangler_toml_declares_the_console_as_assets():
    section = tomllib.loads((ROOT / "wrangler.toml").read_text())["assets"]
    assert section["directory"] == "./console"
    assert section["not_found_handling"] == "none"  # never an SPA fallback over the API
    config = load_config(ROOT / "wrangler.toml", dev_vars=ROOT / "no.dev.vars")
    assert config.assets == AssetsConfig(
        directory=CONSOLE.resolve(),
        html_handling="auto-trailing-slash",
        not_found_handling="none",
        run_worker_first=False,
    )


def served_paths(relative: Path) -> list[str]:
    """The URL paths a console file answers under auto-trailing-slash."""
    path = "/" + relative.as_posix()
    if relative.name == "index.html":
        return [path.removesuffix("index.html")]
    if relative.suffix == ".html":
        return [path.removesuffix(".html")]
    return [path]


def test_no_console_file_shadows_an_api_route_or_an_image_path():
    """Assets are answered before the Worker runs: a file at an API route's path would hide
    it, and one at a possible CDN image path would hide that image."""
    api_segments = {first_segment(path) for path in registered_paths(create_app().routes)}
    files = [p.relative_to(CONSOLE) for p in CONSOLE.rglob("*") if p.is_file()]
    assert Path("index.html") in files
    for relative in files:
        for path in served_paths(relative):
            segments = path.strip("/").split("/")
            first = segments[0]
            assert first not in api_segments, f"console/{relative} shadows /{first}"
            if len(segments) == 1:
                # `/{short_id}`: a top-level file's name can never be a short id.
                assert first == "" or not SHORT_ID.fullmatch(first), relative
            else:
                # `/{owner}/...`: a console folder is never an owner.
                assert first in RESERVED_PREFIXES, f"reserve console/{first}/ in cdn_paths"


@pytest.fixture
def site(tmp_path) -> Path:
    folder = tmp_path / "site"
    (folder / "guide").mkdir(parents=True)
    (folder / "index.html").write_text("<p>home</p>")
    (folder / "about.html").write_text("<p>about</p>")
    (folder / "guide" / "index.html").write_text("<p>guide</p>")
    (folder / "data.json").write_text("{}")
    (folder / "health").write_text("a file named like an API route")
    (folder / ".assetsignore").write_text("secret.txt\n")
    return folder


def client_for(app, env, folder: Path, assets_toml: str) -> httpx.AsyncClient:
    """The app behind the assets layer, configured by an `[assets]` section in a
    wrangler.toml beside `folder`."""
    toml = folder.parent / "wrangler.toml"
    toml.write_text(f'name = "t"\n[assets]\ndirectory = "{folder.name}"\n{assets_toml}\n')
    config = load_config(toml, dev_vars=folder.parent / "no.dev.vars")
    assert config.assets is not None and config.assets.directory == folder.resolve()
    transport = httpx.ASGITransport(app=served(app, env, config.assets))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_auto_trailing_slash_serves_clean_urls(app, env, site):
    async with client_for(app, env, site, "") as http:
        assert (await http.get("/")).text == "<p>home</p>"
        assert (await http.get("/about")).text == "<p>about</p>"
        moved = await http.get("/about.html")
        assert moved.status_code == 307 and moved.headers["location"] == "/about"
        assert (await http.get("/guide/")).text == "<p>guide</p>"
        moved = await http.get("/guide")
        assert moved.status_code == 307 and moved.headers["location"] == "/guide/"
        data = await http.get("/data.json")
        assert data.headers["content-type"] == "application/json; charset=utf-8"
        assert_json_404(await http.get("/.assetsignore"))
        # With run_worker_first = false, an asset answers before the app does.
        assert (await http.get("/health")).text == "a file named like an API route"


async def test_html_handling_none_serves_exact_names_only(app, env, site):
    async with client_for(app, env, site, 'html_handling = "none"') as http:
        assert_json_404(await http.get("/"))
        assert_json_404(await http.get("/about"))
        assert (await http.get("/about.html")).text == "<p>about</p>"
        assert (await http.get("/index.html")).text == "<p>home</p>"


async def test_run_worker_first_sends_matching_paths_to_the_app(app, env, site):
    first = 'run_worker_first = ["/health*", "/guide/*", "!/guide/"]'
    async with client_for(app, env, site, first) as http:
        assert (await http.get("/health")).json()["status"] == "ok"
        assert (await http.get("/guide/")).text == "<p>guide</p>"  # negated: assets first
        assert_json_404(await http.get("/guide/index.html"))
        assert (await http.get("/")).text == "<p>home</p>"
    async with client_for(app, env, site, "run_worker_first = true") as http:
        assert_json_404(await http.get("/"))


async def test_files_added_or_removed_while_serving_are_seen_once_listed_again(
    app, env, site, monkeypatch
):
    """The folder is listed again at most every LISTING_MAX_AGE seconds (as a deployment's
    manifest, it is not read per request); made 0 here so the next request lists it."""
    import pixhaven.local.runtime.assets as assets

    async with client_for(app, env, site, "") as http:
        assert_json_404(await http.get("/later.txt"))
        (site / "later.txt").write_text("added")
        monkeypatch.setattr(assets, "LISTING_MAX_AGE", 0.0)
        assert (await http.get("/later.txt")).text == "added"
        (site / "about.html").unlink()
        assert_json_404(await http.get("/about"))


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ('not_found_handling = "single-page-application"', "not_found_handling"),
        ('html_handling = "force-trailing-slash"', "html_handling"),
    ],
)
def test_settings_the_local_server_does_not_follow_are_refused_by_name(site, setting, named):
    toml = site.parent / "wrangler.toml"
    toml.write_text(f'name = "t"\n[assets]\ndirectory = "site"\n{setting}\n')
    config = load_config(toml, dev_vars=site.parent / "no.dev.vars")
    assert config.assets is not None
    with pytest.raises(ValueError, match=named):
        StaticAssets(app=None, config=config.assets)


def test_every_route_has_its_view_module():
    """app.js's ROUTES drive the nav; each `#/<name>` mounts console/views/<name>.js."""
    app_js = (CONSOLE / "app.js").read_text()
    routes = re.search(r"export const ROUTES = \[(.*?)\];", app_js, re.S)
    assert routes is not None
    names = re.findall(r'name: "([a-z0-9-]+)"', routes.group(1))
    assert names and "keys" in names and "usage" in names
    for name in [*names, "signin"]:
        view = (CONSOLE / "views" / f"{name}.js").read_text()
        assert "export async function mount(root" in view, name


def test_the_keys_view_offers_exactly_the_scopes_keys_can_carry():
    keys_js = (CONSOLE / "views" / "keys.js").read_text()
    offered = dict(re.findall(r'\["([a-z:]+)", "([^"]+)"\]', keys_js))
    assert offered == SCOPES
