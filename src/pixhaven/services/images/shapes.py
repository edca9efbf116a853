"""shapes: split from pixhaven.services.images."""

from pixhaven.services.images.keys import cdn_url, object_keys, object_url


def cattopic_image(row: dict, tags: list[str], base: str) -> dict:
    """CattoPic's ImageMetadata. Missing versions keep the documented keys: the path and URL
    fall back to the original and the size is 0, so clients indexing them never break."""
    keys = object_keys(row)
    paths = {
        version: keys.get(version, keys["original"]) for version in ("original", "webp", "avif")
    }
    sizes = {"original": row["size"], "webp": row["webp_size"] or 0, "avif": row["avif_size"] or 0}
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
        "urls": {version: object_url(base, key) for version, key in paths.items()},
    }


def api_image(row: dict, tags: list[str], base: str, album_slug: str | None = None) -> dict:
    """`/api/images` serves CattoPic and Splinterpic clients at once (SPEC §4): CattoPic's
    fields plus Splinterpic's snake_case ones."""
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
