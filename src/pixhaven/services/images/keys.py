"""Names and addresses of images: ids, short ids, CDN-safe file names, object keys, URLs, and
the errors for a malformed or unknown id.

Object keys are derived here from the image's id, orientation and format, never from user
input: `images/{orientation}/{id}.{ext}` (CattoPic's layout) plus `.webp` / `.avif` versions
and `variants/{id}/{variant}.{ext}` for on-demand variants.
"""

import re
import secrets

from fastapi import Request

from pixhaven.errors import ApiError
from pixhaven.settings import Settings

UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Splinterpic's ids as its document writes them (`img_abc123`, `img_invalid`): never one of
# ours (ours are UUIDs), so such an id is an image that does not exist, not a malformed one.
SPLINTERPIC_ID_PATTERN = re.compile(r"^img_[A-Za-z0-9_-]+$")
SHORT_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
NO_ALBUM_SLUG = "_"  # the album path component of images in no album
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
}


def valid_image_id(image_id: str) -> bool:
    return bool(UUID_PATTERN.match(image_id.lower()))


def splinterpic_image_id(image_id: str) -> bool:
    return bool(SPLINTERPIC_ID_PATTERN.match(image_id))


def new_short_id() -> str:
    return "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(10))


# Extensions a client's filename keeps as sent (services/images/direct_uploads.py), and the
# ones a CDN path without an extension is tried with (services/delivery/cdn_paths.py).
NAME_EXTENSIONS = ("jpg", "jpeg", "png", "gif", "webp", "avif")


def client_extension(name: str | None) -> str | None:
    """The image extension a client's filename ends with (lowercased, as written: `jpeg`
    stays `jpeg`), or None when it has none or one that names no image format."""
    suffix = (name or "").rsplit(".", 1)[-1].lower() if "." in (name or "") else ""
    return suffix if suffix in NAME_EXTENSIONS else None


def safe_filename(name: str | None, default_stem: str, extension: str) -> str:
    """A CDN-safe file name: the stem of the uploaded name reduced to [a-z0-9._-], with
    `extension` (the caller decides: the client's, or the detected format's)."""
    stem = (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._")[:100]
    return f"{stem or default_stem}.{extension}"


def original_key(row: dict) -> str:
    return f"images/{row['orientation']}/{row['id']}.{row['format']}"


def version_key(row: dict, version: str) -> str:
    return f"images/{row['orientation']}/{row['id']}.{version}"


def variant_key(row: dict, variant: str, extension: str) -> str:
    return f"variants/{row['id']}/{variant}.{extension}"


def object_keys(row: dict) -> dict[str, str]:
    """The stored versions of an image: original, and webp/avif when they exist."""
    keys = {"original": original_key(row)}
    for version, size_column in (("webp", "webp_size"), ("avif", "avif_size")):
        if row.get(size_column) is not None:
            keys[version] = version_key(row, version)
    return keys


def base_url(request: Request, settings: Settings) -> str:
    """`PUBLIC_BASE_URL`, else the origin the client used."""
    if settings.public_base_url:
        return settings.public_base_url
    return f"{request.url.scheme}://{request.url.netloc}"


def object_url(base: str, key: str) -> str:
    return f"{base}/r2/{key}"


def cdn_url(base: str, row: dict, album_slug: str | None) -> str:
    return f"{base}/{row['owner']}/{album_slug or NO_ALBUM_SLUG}/{row['filename']}"


def not_found_error(image_id: str) -> ApiError:
    return ApiError(404, "Image not found", details={"image_id": image_id})
