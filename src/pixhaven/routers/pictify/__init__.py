"""Pictify's API: images, GIF and PDF, templates, batch rendering, webhook subscriptions,
bindings.

`ROUTERS` are included by app.py, each with `DEPENDENCIES` (the rate limits every Pictify
answer reports, limits.py) and `RESPONSES` (their 429 in the OpenAPI document). Their paths'
first segments are `PATH_PREFIXES`: the paths whose errors carry Pictify's RFC 9457 fields
(pixhaven.errors). A new Pictify router goes into `ROUTERS`.
"""

from typing import Any

from fastapi import Depends
from fastapi.routing import APIRoute

from pixhaven.models.common import errors
from pixhaven.routers.pictify.batch import router as batch_router
from pixhaven.routers.pictify.bindings import router as bindings_router
from pixhaven.routers.pictify.gif_pdf import router as gif_pdf_router
from pixhaven.routers.pictify.images import router as images_router
from pixhaven.routers.pictify.limits import pictify_rate_limit
from pixhaven.routers.pictify.templates import router as templates_router
from pixhaven.routers.pictify.webhooks import router as webhooks_router

ROUTERS = (
    gif_pdf_router,
    images_router,
    templates_router,
    batch_router,
    webhooks_router,
    bindings_router,
)
DEPENDENCIES = [Depends(pictify_rate_limit)]
RESPONSES: dict[int | str, dict[str, Any]] = errors(
    429,
    e429="Rate limit exceeded (PICTIFY_RATE_PER_MINUTE, PICTIFY_DAILY_LIMIT per API key). "
    "Every answer to a valid key carries X-RateLimit-Limit, -Remaining and -Reset",
)
RESPONSES[429]["headers"] = {
    "Retry-After": {"description": "Seconds until the window ends", "schema": {"type": "integer"}},
    "X-RateLimit-Limit": {"description": "Requests per window", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {
        "description": "Unix seconds of the window's end",
        "schema": {"type": "integer"},
    },
}
PATH_PREFIXES = tuple(
    sorted(
        {
            "/" + route.path.split("/")[1]
            for router in ROUTERS
            for route in router.routes
            if isinstance(route, APIRoute)
        }
    )
)

__all__ = [
    "DEPENDENCIES",
    "PATH_PREFIXES",
    "RESPONSES",
    "ROUTERS",
    "batch_router",
    "bindings_router",
    "gif_pdf_router",
    "images_router",
    "templates_router",
    "webhooks_router",
]
