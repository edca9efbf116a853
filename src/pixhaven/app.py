"""The one FastAPI application, built by a factory.

`create_app()` is called once per isolate (Worker) or process (local server). It does no
I/O and draws no randomness, so it is safe at import time inside a Workers memory snapshot.
"""

from typing import Any

from fastapi import FastAPI

from pixhaven import __version__
from pixhaven.errors import install_error_handlers
from pixhaven.middleware import PixhavenMiddleware
from pixhaven.models.common import APP_RESPONSES, complete_openapi
from pixhaven.routers import cattopic, craftr, docs, pictify, pixelflare, splinterpic, system

DESCRIPTION = """\
Pixhaven hosts, transforms and generates images. It speaks the APIs of CattoPic
(`/api/*`, `/r2/*`), Splinterpic (`/api/*`), PixelFlare (`/v1/*`), Craftr
(`/api/v1/image`) and Pictify, over one core.

Authenticate with `Authorization: Bearer <admin token or API key>`.
Every error is `{"success": false, "error", "code", "message", "details"}`; on Pictify's
paths it also has Pictify's RFC 9457 fields (`type`, `title`, `status`, `detail`,
`instance`, `errors`).
"""


def create_app() -> FastAPI:
    app = FastAPI(
        title="Pixhaven",
        version=__version__,
        description=DESCRIPTION,
        # /docs and /redoc are routers/docs.py's: FastAPI's own load Swagger UI from a CDN.
        docs_url=None,
        openapi_url="/openapi.json",
        redoc_url=None,
        responses=APP_RESPONSES,
    )
    install_error_handlers(app, problem_paths=pictify.PATH_PREFIXES)
    app.include_router(system.router)
    app.include_router(docs.router)
    app.include_router(cattopic.system_router)
    app.include_router(pixelflare.keys_router)
    app.include_router(pixelflare.images_router)
    app.include_router(cattopic.random_router)
    app.include_router(cattopic.images_router)
    app.include_router(cattopic.objects_router)
    app.include_router(cattopic.tags_router)
    app.include_router(pixelflare.albums_router)
    app.include_router(splinterpic.collections_router)
    app.include_router(craftr.render_router)
    for router in pictify.ROUTERS:
        app.include_router(router, dependencies=pictify.DEPENDENCIES, responses=pictify.RESPONSES)
    app.include_router(splinterpic.generate_router)
    app.include_router(splinterpic.analytics_router)
    app.include_router(pixelflare.cdn_router)  # CDN catch-all paths: keep this include LAST
    app.add_middleware(PixhavenMiddleware)

    def openapi() -> dict[str, Any]:
        # Built on first request and cached by FastAPI, then completed once (in place).
        if app.openapi_schema is None:
            return complete_openapi(FastAPI.openapi(app))
        return app.openapi_schema

    # FastAPI's documented way to customise the schema is to replace this method.
    app.openapi = openapi  # type: ignore[method-assign]
    return app
