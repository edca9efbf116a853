"""PixelFlare's image resource, as `/v1/images` answers it."""

from pixhaven.services.images.keys import cdn_url


def pixelflare_image(row: dict, tags: list[str], base: str, album_slug: str | None) -> dict:
    """PixelFlare's image resource."""
    return {
        "id": row["id"],
        "short_id": row["short_id"],
        "filename": row["filename"],
        "album": album_slug,
        "owner": row["owner"],
        "content_type": row["content_type"],
        "size": row["size"],
        "width": row["width"],
        "height": row["height"],
        "tags": tags,
        "alt": row["alt"],
        "is_private": bool(row["is_private"]),
        "status": row["status"],
        "placeholder": row["placeholder"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "deleted_at": row["deleted_at"],
        # Pixhaven's: set by CattoPic's `expiryMinutes` (upload, `PUT /api/images/{id}`).
        "expires_at": row["expires_at"],
        "cdn_url": cdn_url(base, row, album_slug),
        "short_url": f"{base}/{row['short_id']}",
    }


def pixelflare_images(
    rows: list[dict], tags: dict[str, list[str]], album_slugs: dict[str, str], base: str
) -> list[dict]:
    """`pixelflare_image` for each row, given the rows' tags by image id and their albums'
    slugs by album id."""
    return [
        pixelflare_image(row, tags[row["id"]], base, album_slugs.get(row["album_id"]))
        for row in rows
    ]


def with_variants(resource: dict, urls: dict[str, str | None]) -> dict:
    """The resource `POST /v1/images/{id}/variants` answers: the image and the URLs the
    requested variants will have (services/delivery/view_urls.variant_view_urls: signed
    ones for an image the public cannot see)."""
    return {**resource, "variants": urls}
