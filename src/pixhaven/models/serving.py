"""OpenAPI documentation of the public serving routes' answers (CattoPic `/r2/`,
`/cdn-cgi/image/`, PixelFlare CDN paths): object bodies, ranges, conditional requests."""

from typing import Any

from pixhaven.models.common import errors

# `responses=` of the routes, as FastAPI types them.
Responses = dict[int | str, dict[str, Any]]

NOT_FOUND = errors(404, e404="Not found (or not public)")
OBJECT = {
    "description": "The image bytes (206 for a Range, 304 for a matching ETag)",
    "content": {"image/*": {}},
}
R2_OBJECT = {
    "description": "The image (or rendered PDF) bytes",
    "content": {"image/*": {}, "application/pdf": {}},
}
# services/delivery/objects.object_response: ETag/If-None-Match, single byte ranges.
OBJECT_RESPONSES: Responses = {
    200: OBJECT,
    206: {
        "description": "The requested byte range (Content-Range)",
        "content": {"image/*": {}, "application/pdf": {}},
    },
    304: {"description": "Not modified (If-None-Match matched the ETag; no body)"},
    **errors(
        400, 416, e400="Invalid path (traversal, control characters)", e416="Range not satisfiable"
    ),
}
SHORT_ID_RESPONSES: Responses = {
    key: value for key, value in OBJECT_RESPONSES.items() if key != 400
}
# The keys /r2/ serves (services/delivery/objects.parse_key); anything else is a 404, and traversal
# or control characters a 400.
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_EXT = "(jpg|png|gif|webp|avif)"
R2_KEY = {
    "pattern": f"^(images/(landscape|portrait)/{_UUID}\\.{_EXT}"
    f"|variants/{_UUID}/[a-z0-9][a-z0-9-]{{0,63}}\\.{_EXT}"
    f"|renders/{_UUID}\\.pdf)$",
    "examples": ["images/landscape/550e8400-e29b-41d4-a716-446655440000.webp"],
    "description": "The object key, slashes literal (an encoded %2F is refused: 400)",
}
# Variants made on first request are rate limited per client (services/delivery/variants.py).
GENERATED: Responses = {
    **OBJECT_RESPONSES,
    **errors(
        400,
        416,
        429,
        e400="Invalid path, or an invalid or unsupported image option",
        e416="Range not satisfiable",
        e429="Too many variant misses (Retry-After: 60)",
    ),
}
