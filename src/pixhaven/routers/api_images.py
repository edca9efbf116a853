"""The image as the `/api/*` routes answer it. CattoPic's `/api/images` routes serve
Splinterpic clients too (SPEC §4), and Splinterpic's own routes that answer images
(`POST /api/generate`, `GET /api/collections/{id}/images`) answer the same superset, so this
answer is shared by two dialects' routers, like routers/requests.py.
"""

from fastapi import Request

from pixhaven.dependencies import env_of
from pixhaven.services.images.keys import base_url, cdn_url, object_keys, object_url
from pixhaven.services.images.lookup import tags_and_album_slugs
from pixhaven.settings import Settings


def cattopic_image(row: dict, tags: list[str], base: str) -> dict:
    """CattoPic's ImageMetadata. As CattoPic's server answers: a version that does not exist
    (a GIF's WebP and AVIF, one the upload did not ask for) has path and URL `""` and size 0;
    an original that is itself a WebP or AVIF is that version too."""
    keys = object_keys(row)
    paths = {"original": keys["original"]}
    sizes = {"original": row["size"]}
    for version in ("webp", "avif"):
        if version in keys:
            paths[version], sizes[version] = keys[version], row[f"{version}_size"]
        elif row["format"] == version:
            paths[version], sizes[version] = keys["original"], row["size"]
        else:
            paths[version], sizes[version] = "", 0
    return {
        "id": row["id"],
        "originalName": row["original_name"],
        "uploadTime": row["created_at"],
        "expiryTime": row["expires_at"],
        "orientation": row["orientation"],
        "tags": tags,
        "format": row["format"],
        "width": row["width"],
        "height": row["height"],
        "paths": paths,
        "sizes": sizes,
        "urls": {version: key and object_url(base, key) for version, key in paths.items()},
    }


def api_image(row: dict, tags: list[str], base: str, album_slug: str | None = None) -> dict:
    """CattoPic's fields plus Splinterpic's snake_case ones."""
    shaped = cattopic_image(row, tags, base)
    shaped.update(
        {
            "url": shaped["urls"]["original"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "prompt": row["prompt"],
            "model": row["model"],
            "template": row["template"],
            "source": row["source"],
            "collection_id": row["album_id"],
            "content_type": row["content_type"],
            "size": row["size"],
            "alt": row["alt"],
            "is_private": bool(row["is_private"]),
            "placeholder": row["placeholder"],
            "short_id": row["short_id"],
            "cdn_url": cdn_url(base, row, album_slug),
        }
    )
    return shaped


async def shape_api_images(request: Request, settings: Settings, rows: list[dict]) -> list[dict]:
    """`api_image` for each row, with its tags and its album's slug."""
    tags, slugs = await tags_and_album_slugs(env_of(request).DB, rows)
    base = base_url(request, settings)
    return [api_image(row, tags[row["id"]], base, slugs.get(row["album_id"])) for row in rows]


async def image_page(
    request: Request,
    settings: Settings,
    rows: list[dict],
    *,
    total: int,
    limit: int,
    offset: int,
    page: int,
) -> dict:
    """A page of images as `/api/images` answers it: CattoPic's `page`/`totalPages` and
    Splinterpic's `pagination` side by side, so either client reads its own."""
    return {
        "images": await shape_api_images(request, settings, rows),
        "page": page,
        "limit": limit,
        "total": total,
        "totalPages": (total + limit - 1) // limit,
        "pagination": {
            "limit": limit,
            "offset": offset,
            "total": total,
            "has_more": offset + len(rows) < total,
        },
    }
