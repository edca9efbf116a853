"""/docs (Swagger UI) and /redoc (ReDoc) load their libraries from this origin only, and say
how to install them when they are missing; `pixhaven console install` puts the pinned
libraries into the assets folder's vendor/ (the browser tests, tests/test_console_browser.py,
check the pages actually work offline)."""

import re
import shutil

import pytest

from pixhaven.local.runtime import console_vendor
from tests.conftest import ROOT


@pytest.mark.parametrize(("path", "library"), [("/docs", "Swagger UI"), ("/redoc", "ReDoc")])
async def test_the_pages_load_only_files_of_this_origin(client, path, library):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    urls = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "/vendor/" in html
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    # Shown until the library's script replaces it: never a blank page without the files.
    assert f"{library} is not installed on this server" in html
    assert "pixhaven console install" in html


def test_the_docs_pages_are_not_in_the_openapi_document(app):
    assert "/docs" not in app.openapi()["paths"] and "/redoc" not in app.openapi()["paths"]


def cache_or_npm() -> None:
    cached = all(
        (console_vendor.default_cache_dir() / f"{p.package}-{p.version}.tgz").is_file()
        for p in console_vendor.PACKAGES
    )
    if not cached and shutil.which("npm") is None:
        pytest.skip("npm is not installed and the npm cache is empty")


def test_install_puts_the_pinned_files_into_vendor_once(tmp_path):
    cache_or_npm()
    vendor = tmp_path / "console" / "vendor"
    messages: list[str] = []
    assert console_vendor.install(vendor, progress=messages.append) == 2
    assert (vendor / "swagger-ui" / "swagger-ui-bundle.js").is_file()
    assert (vendor / "swagger-ui" / "swagger-ui.css").is_file()
    bundle = (vendor / "redoc" / "redoc.standalone.js").read_text()
    assert "cdn.redoc.ly" not in bundle  # the footer logo would leave the origin
    assert (vendor / "redoc" / "VERSION").read_text().strip() == "redoc@2.5.4"
    assert {p.name for p in vendor.iterdir()} == {"redoc", "swagger-ui"}  # no staging left
    # Installed already: nothing to do, nothing fetched.
    assert console_vendor.install(vendor, progress=messages.append) == 0
    # A different pin is replaced, not mixed in.
    (vendor / "redoc" / "VERSION").write_text("redoc@0.0.1\n")
    assert console_vendor.install(vendor, progress=messages.append) == 1
    assert (vendor / "redoc" / "VERSION").read_text().strip() == "redoc@2.5.4"


def test_the_vendor_folder_is_not_committed():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "console/vendor/" in ignored


# -- the bearer scheme in /openapi.json ---------------------------------------------------------

PUBLIC_OPERATIONS = {
    "GET /health",
    "PUT /v1/uploads/{image_id}",  # the signed upload URL is its own credential
    "GET /api/random",
    "GET /r2/{path}",
    "GET /cdn-cgi/image/{options}/{source}",
    "GET /image/renders/{render_id}.svg",
    "GET /bindings/{uid}/image",
    "POST /bindings/{uid}/webhook",
    "GET /{owner}/{album}/{filename}",
    "GET /{owner}/{album}/{filename}/{variant}",
    "GET /{short_id}",
}


def operations(document):
    for path, items in document["paths"].items():
        for method, operation in items.items():
            yield f"{method.upper()} {path}", operation


async def test_protected_operations_declare_the_bearer_scheme(client):
    document = (await client.get("/openapi.json")).json()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    public = {name for name, op in operations(document) if "security" not in op}
    assert public == PUBLIC_OPERATIONS
    for name, operation in operations(document):
        if name not in public:
            assert operation["security"] == [{"bearer": []}], name


async def test_what_the_document_calls_protected_refuses_a_request_without_a_token(client):
    """The `security` entries follow the code: every protected GET answers 401 without a
    token, and no public one does."""
    document = (await client.get("/openapi.json")).json()
    for name, operation in operations(document):
        method, path = name.split(" ", 1)
        if method != "GET":
            continue
        url = re.sub(r"\{[^}]+\}", "x1", path)
        status = (await client.get(url)).status_code
        if "security" in operation:
            assert status == 401, (name, status)
        else:
            assert status != 401, (name, status)
