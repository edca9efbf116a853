"""The one FastAPI application, built by a factory.

`create_app()` is called once per isolate (Worker) or process (local server). It does no
I/O and draws no randomness, so it is safe at import time inside a Workers memory snapshot.
`build_deferred(app)` does at once what would otherwise wait for first use (FastAPI's
per-route state, the render document's validators): src/entry.py calls it at import so that
work lands in the Worker's memory snapshot instead of on the first requests after a restore.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from fastapi import FastAPI
from starlette.routing import NoMatchFound

from pixhaven import __version__
from pixhaven.errors import install_error_handlers
from pixhaven.middleware import PixhavenMiddleware
from pixhaven.models.common import APP_RESPONSES, complete_openapi
from pixhaven.routers.direct_route import DirectRoutesFirst

DESCRIPTION = """\
Pixhaven hosts, transforms and generates images. It speaks the APIs of CattoPic
(`/api/*`, `/r2/*`), Splinterpic (`/api/*`), PixelFlare (`/v1/*`), Craftr
(`/api/v1/image`) and Pictify, over one core.

Authenticate with `Authorization: Bearer <admin token or API key>`.
Every error is `{"success": false, "error", "code", "message", "details"}`; on Pictify's
paths it also has Pictify's RFC 9457 fields (`type`, `title`, `status`, `detail`,
`instance`, `errors`).
"""


@contextmanager
def _pydantic_v1_hidden() -> Iterator[None]:
    """For every field of every route it builds, FastAPI runs `from pydantic import v1` only
    to refuse pydantic.v1 models (Pixhaven has none): that import was ~6% of the app's
    start-up. While routes are built, a None in sys.modules makes it fail at once, which
    FastAPI reads as "not a v1 model"; afterwards pydantic.v1 imports normally again."""
    if "pydantic.v1" in sys.modules:
        yield
        return
    sys.modules["pydantic.v1"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.modules.get("pydantic.v1", False) is None:
            del sys.modules["pydantic.v1"]


def create_app() -> FastAPI:
    with _pydantic_v1_hidden():
        # Imported here, not at the top: the routers build their routes as they are imported.
        from pixhaven.routers import (
            cattopic,
            craftr,
            docs,
            pictify,
            pixelflare,
            splinterpic,
            system,
        )
    app = FastAPI(
        title="Pixhaven",
        version=__version__,
        description=DESCRIPTION,
        # /docs and /redoc are routers/docs.py's: FastAPI's own load Swagger UI from a CDN.
        docs_url=None,
        openapi_url="/openapi.json",
        redoc_url=None,
        responses=APP_RESPONSES,
        # FastAPI's OpenTelemetry bridge looks up the global providers on every request
        # (~3% of an object request) to find none: Pixhaven writes its own request log, and
        # Cloudflare traces Workers itself.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app, problem_paths=pictify.PATH_PREFIXES)
    # Public objects first: the most frequent requests by far, and routes are tried in
    # order (no other route starts with /r2/ or /cdn-cgi/).
    app.include_router(cattopic.objects_router)
    app.include_router(system.router)
    app.include_router(docs.router)
    app.include_router(cattopic.system_router)
    app.include_router(pixelflare.keys_router)
    app.include_router(pixelflare.images_router)
    app.include_router(cattopic.random_router)
    app.include_router(cattopic.images_router)
    app.include_router(cattopic.tags_router)
    app.include_router(pixelflare.albums_router)
    app.include_router(splinterpic.collections_router)
    app.include_router(craftr.render_router)
    for router in pictify.ROUTERS:
        app.include_router(router, dependencies=pictify.DEPENDENCIES, responses=pictify.RESPONSES)
    app.include_router(splinterpic.generate_router)
    app.include_router(splinterpic.analytics_router)
    app.include_router(pixelflare.cdn_router)  # CDN catch-all paths: keep this include LAST
    # The first router's routes again, answered ahead of FastAPI's routing (the same order:
    # they are tried first either way), inside PixhavenMiddleware like every request.
    app.add_middleware(
        DirectRoutesFirst,
        routes=cattopic.objects_router.routes,
        exception_handlers=app.exception_handlers,
    )
    app.add_middleware(PixhavenMiddleware)

    def openapi() -> dict[str, Any]:
        # Built on first request and cached by FastAPI, then completed once (in place).
        if app.openapi_schema is None:
            return complete_openapi(FastAPI.openapi(app))
        return app.openapi_schema

    # FastAPI's documented way to customise the schema is to replace this method.
    app.openapi = openapi  # type: ignore[method-assign]
    return app


def build_deferred(app: FastAPI) -> None:
    """Build now what waits for first use. FastAPI (0.165) builds each included router's
    request handling (dependencies and fields again, with the router's and the app's
    additions) when a request first reaches that router; finding the URL of a name no route
    has walks, and so builds, them all. The render document's validators wait for the first
    render (render/document.py)."""
    from pixhaven.render.document import build_validators

    with _pydantic_v1_hidden(), suppress(NoMatchFound):
        app.url_path_for("pixhaven: no route has this name")
    build_validators()
