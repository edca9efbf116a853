"""Tag names (SPEC §2, CattoPic's rules): lowercase, trimmed, at most 50 characters of
letters (any script, CJK included), digits, `-` and `_`."""

import re

from pixhaven.errors import invalid

MAX_TAG_LENGTH = 50
# \w is Unicode-aware: letters of every script, digits and "_".
TAG_PATTERN = re.compile(r"^[\w-]+$")


def normalize_tag(raw) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise invalid("Tag name is required", field="name")
    name = raw.strip().lower()
    if len(name) > MAX_TAG_LENGTH:
        raise invalid(
            f"Tag name must be {MAX_TAG_LENGTH} characters or less", field="name", tag=name
        )
    if not TAG_PATTERN.match(name):
        raise invalid(
            "Tag name may only contain letters, digits, '-' and '_'", field="name", tag=name
        )
    return name


def parse_tag_list(value) -> list[str]:
    """Tags given as an array or a comma-separated string; normalised, deduplicated,
    order kept. Empty entries in a comma string are ignored."""
    if value is None:
        return []
    if isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        items = value
    else:
        raise invalid("tags must be an array or a comma-separated string", field="tags")
    return list(dict.fromkeys(normalize_tag(item) for item in items))
