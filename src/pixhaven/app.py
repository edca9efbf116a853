"""The one FastAPI application, built by a factory.

`create_app()` is called once per isolate (Worker) or process (local server). It does no
I/O and draws no randomness, so it is safe at import time inside a Workers memory snapshot.
"""

from fastapi import FastAPI

from . import __version__
from .errors import install_error_handlers
from .middleware import PixhavenMiddleware
from .models.common import APP_RESPONSES, complete_openapi
from .routers import pixelflare_images
from .routers import cattopic_system, craftr, pixelflare_keys, system
from .routers import api_images, random_image, serving
from .routers import cattopic_tags, pixelflare_albums, splinterpic_collections
from .routers import pictify_gif_pdf
from .routers import pictify, pictify_templates
from .routers import splinterpic_analytics, splinterpic_generate
from .routers import pictify_batch, pictify_webhooks

DESCRIPTION = """\
Pixhaven hosts, transforms and generates images. It speaks the APIs of CattoPic
(`/api/*`, `/r2/*`), Splinterpic (`/api/*`), PixelFlare (`/v1/*`), Craftr
(`/api/v1/image`) and Pictify, over one core.

Authenticate with `Authorization: Bearer <admin token or API key>`.
Every error is `{"success": false, "error", "code", "message", "details"}`.
"""


def create_app() -> FastAPI:
    app = FastAPI(title="Pixhaven", version=__version__, description=DESCRIPTION,
                  docs_url="/docs", openapi_url="/openapi.json", redoc_url=None,
                  responses=APP_RESPONSES)
    install_error_handlers(app)
    app.include_router(system.router)
    app.include_router(cattopic_system.router)
    app.include_router(pixelflare_keys.router)
    app.include_router(pixelflare_images.router)
    app.include_router(random_image.router)
    app.include_router(api_images.router)
    app.include_router(serving.router)
    app.include_router(cattopic_tags.router)
    app.include_router(pixelflare_albums.router)
    app.include_router(splinterpic_collections.router)
    app.include_router(craftr.router)
    app.include_router(pictify_gif_pdf.router)
    app.include_router(pictify.router)
    app.include_router(pictify_templates.router)
    app.include_router(pictify_batch.router)
    app.include_router(pictify_webhooks.router)
    app.include_router(splinterpic_generate.router)
    app.include_router(splinterpic_analytics.router)
    app.include_router(serving.cdn_router)  # CDN catch-all paths: keep this include LAST
    app.add_middleware(PixhavenMiddleware)

    def openapi() -> dict:
        # Built on first request and cached by FastAPI, then completed once.
        if app.openapi_schema is None:
            complete_openapi(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi
    return app
