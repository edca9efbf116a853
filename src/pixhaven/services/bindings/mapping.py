"""A binding's `mapping`: template variable → JSON path into the data source's document.

Paths as Pictify's docs write them: `name`, `user.name` (nested fields), `items[0].name`
(array access), `items.length` (an array's or a string's length), optionally prefixed by
`$` / `$.` (JSONPath's root). A quoted key (`["a.b"]`) reaches a field whose name has dots.
A path that leads nowhere (missing field, index past the end, null) has no value: the
binding's `defaults` then supply one, else the template's own default applies.
"""

from __future__ import annotations

import re
from typing import Any

from pixhaven.numerals import is_ascii_digits

MAX_PATH = 500
# One step: .name | [index] | ["quoted key"] | ['quoted key']
_STEP = re.compile(
    r"""\.?(?P<name>[^.\[\]"']+)|\[(?P<index>-?[0-9]+)\]|\[(?P<quote>["'])(?P<key>.*?)(?P=quote)\]"""
)


class PathError(ValueError):
    pass


def steps(path: str) -> list[str | int]:
    """The path as field names and list indexes, or PathError."""
    if not isinstance(path, str) or not path.strip() or len(path) > MAX_PATH:
        raise PathError(f"a JSON path of 1 to {MAX_PATH} characters, e.g. user.name")
    text = path.strip()
    if text == "$":
        return []
    if text.startswith("$."):
        text = text[2:]
    elif text.startswith("$["):
        text = text[1:]
    parsed: list[str | int] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None or match.end() == position or (position == 0 and text[0] == "."):
            raise PathError(f"cannot read {path!r} at character {position + 1}")
        if match.group("name") is not None:
            parsed.append(match.group("name").strip())
        elif match.group("index") is not None:
            parsed.append(int(match.group("index")))
        else:
            parsed.append(match.group("key"))
        position = match.end()
    return parsed


class _Missing:
    pass


MISSING: Any = _Missing()


def resolve(data: Any, path: str) -> Any:
    """The value at `path` in `data`, or MISSING."""
    value = data
    for step in steps(path):
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return MISSING
            value = value[step]
        elif step == "length" and isinstance(value, (list, str)):
            value = len(value)
        elif isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and is_ascii_digits(step) and int(step) < len(value):
            value = value[int(step)]  # items.0.name, as lodash-style paths allow
        else:
            return MISSING
    return MISSING if value is None else value


def variables(data: Any, mapping: dict[str, str], defaults: dict[str, Any]) -> dict[str, Any]:
    """The template variables: each mapped path's value, else the binding's default; and
    defaults for variables the mapping does not name."""
    values = dict(defaults)
    if data is not None:
        for name, path in mapping.items():
            value = resolve(data, path)
            if value is not MISSING:
                values[name] = value
    return values
