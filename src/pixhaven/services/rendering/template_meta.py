"""A Pictify template's fields beside its document: `outputFormat` (image | pdf: what a
render without `format` produces, and the list filter), `type`, `category`, `tags`, and
its named layouts.

Layouts are the sizes one design renders at (`POST /templates/{uid}/render {layouts:
[...]}`, `{layout}`, and `multi-size-render` presets). Every template has `default` (its own
size) and the well-known social sizes below; a template may declare its own
(`layouts: [{name, width, height, label}]`), which override a built-in of the same name.
A layout changes the canvas (an HTML template's viewport, a document's size), so a design
that adapts to its size adapts to each layout.
"""

from __future__ import annotations

import re
from typing import Any

from pixhaven.errors import invalid

OUTPUT_FORMATS = ("image", "pdf")
MAX_TAGS = 20
MAX_LAYOUTS = 20
MAX_SIDE = 4000
LAYOUT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
DEFAULT_LAYOUT = "default"
# name -> (width, height, label): the shapes Pictify's SDK names (square, story) and the
# sizes social networks ask for.
BUILT_IN_LAYOUTS: dict[str, tuple[int, int, str]] = {
    "square": (1080, 1080, "Square"),
    "portrait": (1080, 1350, "Portrait"),
    "story": (1080, 1920, "Story"),
    "og-image": (1200, 630, "Open Graph image"),
    "facebook-post": (1200, 630, "Facebook post"),
    "twitter-post": (1200, 675, "X (Twitter) post"),
    "linkedin-post": (1200, 627, "LinkedIn post"),
    "instagram-post": (1080, 1080, "Instagram post"),
    "instagram-story": (1080, 1920, "Instagram story"),
    "pinterest-pin": (1000, 1500, "Pinterest pin"),
    "youtube-thumbnail": (1280, 720, "YouTube thumbnail"),
}


def output_format(body: dict, default: str = "image") -> str:
    value = body.get("outputFormat")
    if value is None:
        return default
    if value not in OUTPUT_FORMATS:
        raise invalid("outputFormat must be image or pdf", field="outputFormat", as_list=True)
    return value


def _short_text(body: dict, field: str, default: Any) -> str | None:
    value = body.get(field, default)
    if value is not None and (not isinstance(value, str) or len(value) > 100):
        raise invalid(
            f"{field} must be a string of at most 100 characters", field=field, as_list=True
        )
    return value


def _tags(body: dict, default: list[str]) -> list[str]:
    tags = body.get("tags", default)
    if tags is None:
        return []
    if (
        not isinstance(tags, list)
        or len(tags) > MAX_TAGS
        or not all(isinstance(tag, str) and 0 < len(tag) <= 50 for tag in tags)
    ):
        raise invalid(
            f"tags must be a list of at most {MAX_TAGS} strings of 1 to 50 characters",
            field="tags",
            as_list=True,
        )
    return list(dict.fromkeys(tags))


def _side(item: dict, key: str, where: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIDE:
        raise invalid(
            f"{where}.{key} must be a whole number of px from 1 to {MAX_SIDE}",
            field=f"{where}.{key}",
            as_list=True,
        )
    return value


def _layouts(body: dict, default: list[dict]) -> list[dict]:
    given = body.get("layouts", default)
    if given is None:
        return []
    if not isinstance(given, list) or len(given) > MAX_LAYOUTS:
        raise invalid(
            f"layouts must be a list of at most {MAX_LAYOUTS} {{name, width, height}}",
            field="layouts",
            as_list=True,
        )
    layouts: dict[str, dict] = {}
    for index, item in enumerate(given):
        where = f"layouts[{index}]"
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not LAYOUT_NAME.fullmatch(name) or name == DEFAULT_LAYOUT:
            raise invalid(
                f"{where}.name must be a lowercase slug (a-z, 0-9, - and _), not 'default'",
                field=f"{where}.name",
                as_list=True,
            )
        label = item.get("label")
        if label is not None and (not isinstance(label, str) or len(label) > 100):
            raise invalid(
                f"{where}.label must be a short string", field=f"{where}.label", as_list=True
            )
        layouts[name] = {
            "name": name,
            "width": _side(item, "width", where),
            "height": _side(item, "height", where),
            "label": label or name,
        }
    return list(layouts.values())


def meta(body: dict, old: dict | None = None) -> dict:
    """The stored `meta` of a create (or, with the stored one as `old`, an update) body."""
    old = old or {}
    return {
        "type": _short_text(body, "type", old.get("type")),
        "category": _short_text(body, "category", old.get("category")),
        "tags": _tags(body, old.get("tags") or []),
        "layouts": _layouts(body, old.get("layouts") or []),
    }


def available_layouts(row: dict) -> list[dict]:
    """Every layout the template renders at: `default`, its own, the built-ins it does not
    override; each `{name, label, width, height}`."""
    document = row["document"]
    own = {layout["name"]: layout for layout in (row.get("meta") or {}).get("layouts") or []}
    found = [
        {
            "name": DEFAULT_LAYOUT,
            "label": "Default",
            "width": document.get("width"),
            "height": document.get("height"),
        }
    ]
    found += [{**layout} for layout in own.values()]
    found += [
        {"name": name, "label": label, "width": width, "height": height}
        for name, (width, height, label) in BUILT_IN_LAYOUTS.items()
        if name not in own
    ]
    return found


def fields(row: dict) -> dict:
    """The answer's fields from `meta` and `output_format` (absent ones left out: Pictify's
    schema has no nulls)."""
    stored = row.get("meta") or {}
    answer: dict[str, Any] = {
        "outputFormat": row.get("output_format") or "image",
        "tags": stored.get("tags") or [],
        "layouts": available_layouts(row),
    }
    for key in ("type", "category"):
        if stored.get(key) is not None:
            answer[key] = stored[key]
    return answer
