"""Names and addresses of images: ids, short ids, CDN-safe file names, object keys, URLs, and
the errors for a malformed or unknown id.

Object keys are derived here from the image's id, orientation and format, never from user
input: `images/{orientation}/{id}.{ext}` (CattoPic's layout) plus `.webp` / `.avif` versions
and `variants/{id}/{variant}.{ext}` for on-demand variants.

Two kinds of keys, for identical uploads sharing their bytes (migration 0010):
- an image's *address* keys (`original_key`, `version_key`, `object_keys`) name it in its
  URLs (`/r2/{key}`) and are always built from its own id: what a client is given and
  asks for, looked up by that id, so visibility is checked per image;
- its *stored* keys (`stored_original_key`, `stored_keys`, `stored_key_of`) are where its
  bytes are, built from `object_id`: its own id, or that of the earlier image of the owner
  whose objects it shares. Reads go to stored keys, resolved through the image's row; a
  stored key is never served by itself, so knowing one gives access to nothing.
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


def original_key(row: dict, image_id: str | None = None) -> str:
    """The original's key; `image_id` in place of the row's own (its storage id)."""
    return f"images/{row['orientation']}/{image_id or row['id']}.{row['format']}"


def version_key(row: dict, version: str, image_id: str | None = None) -> str:
    return f"images/{row['orientation']}/{image_id or row['id']}.{version}"


def variant_key(row: dict, variant: str, extension: str) -> str:
    return f"variants/{row['id']}/{variant}.{extension}"


def object_keys(row: dict, image_id: str | None = None) -> dict[str, str]:
    """The address keys of an image's versions: original, and webp/avif when they exist
    (with `image_id`: those keys under that id instead of the row's own)."""
    keys = {"original": original_key(row, image_id)}
    for version, size_column in (("webp", "webp_size"), ("avif", "avif_size")):
        if row.get(size_column) is not None:
            keys[version] = version_key(row, version, image_id)
    return keys


def storage_id(row: dict) -> str:
    """The id whose keys hold the image's bytes (NULL `object_id`: rows older than 0010)."""
    return row.get("object_id") or row["id"]


def stored_keys(row: dict) -> dict[str, str]:
    """Where the versions `object_keys` names are stored."""
    return object_keys(row, storage_id(row))


def stored_original_key(row: dict) -> str:
    return original_key(row, storage_id(row))


def stored_key_at(row: dict, key: str) -> str | None:
    """Where the version at address key `key` is stored; None when `key` is none of the
    row's versions' addresses."""
    for version, address in object_keys(row).items():
        if address == key:
            return stored_keys(row)[version]
    return None


def stored_key_of(row: dict, key: str) -> str:
    """The stored key of one of the row's address keys (`key` must be one of them)."""
    stored = stored_key_at(row, key)
    if stored is None:
        raise ValueError(f"{key} is not a version of image {row['id']}")
    return stored


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
