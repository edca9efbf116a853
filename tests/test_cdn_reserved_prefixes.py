"""No API route can be taken for a PixelFlare CDN path.

The CDN routes `/{owner}/{album}/{filename}` and `/{short_id}` match almost anything, so
services/delivery/cdn_paths.py refuses every first segment in RESERVED_PREFIXES: the first
segment of every other route the app registers must be in it, or a new top-level route
would be shadowed by (or answered as) an image lookup.
"""

from pixhaven.app import create_app
from pixhaven.services.delivery.cdn_paths import RESERVED_PREFIXES


def registered_paths(routes, prefix: str = "") -> list[str]:
    """Every path the app routes, its included routers' routes included (FastAPI keeps
    an included router as one route holding the original router)."""
    paths = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            paths += registered_paths(included.routes, prefix + route.include_context.prefix)
        else:
            paths.append(prefix + route.path)
    return paths


def first_segment(path: str) -> str:
    return path.lstrip("/").split("/")[0]


def test_the_paths_include_those_of_included_routers():
    paths = registered_paths(create_app().routes)
    assert {"/openapi.json", "/health", "/v1/images", "/{owner}/{album}/{filename}"} <= set(paths)


def test_every_top_level_route_is_a_reserved_cdn_prefix():
    first_segments = {first_segment(path) for path in registered_paths(create_app().routes)}
    cdn_catch_alls = {segment for segment in first_segments if segment.startswith("{")}
    assert cdn_catch_alls == {"{owner}", "{short_id}"}

    assert first_segments - cdn_catch_alls - RESERVED_PREFIXES == set()
