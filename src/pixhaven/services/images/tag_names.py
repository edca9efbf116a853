"""Tag names (SPEC §2, CattoPic's rules): trimmed, at most 50 characters of letters (any
script, CJK included), digits, `-` and `_`, compared and stored in one folded form.

Folding (`fold_tag_name`) is Unicode NFKC, then case folding, then NFKC again, so that
width, compatibility and case variants name the same tag: full-width `ＡＢＣ` is `abc`, a
decomposed `é` (e + U+0301) is the composed `é`, `Straße` is `strasse`. Case folding can
introduce a combining mark NFKC cannot compose back: only `İ` (U+0130), which folds to
`i` + U+0307; a mark that folding added to a character that had none is dropped, so
`İstanbul` is `istanbul` (marks the name itself carries are kept). Every path that names a
tag — creating, renaming, deleting, upload and image tags, batch updates, list `tag=`
filters, random `tags=`/`exclude=` — folds the name with this one function.

Cleaning (`clean_tag_name`, CattoPic's routes): CattoPic's server does not refuse a name
with other characters, it cleans it — lowercased, trimmed, every character outside its
alphabet removed, cut to 50 — and refuses only a name that cleans to nothing. Its routes here
do the same on the folded name, with this module's alphabet (letters of any script, digits,
`-`, `_`): `My Cat` is `mycat`, `Hello.World` is `helloworld`. PixelFlare's routes keep
refusing such names (`normalize_tag`, `parse_tag_list`), as its document answers them.
"""

import re
import unicodedata

from pixhaven.errors import invalid

MAX_TAG_LENGTH = 50
# \w is Unicode-aware: letters of every script, digits and "_".
TAG_PATTERN = re.compile(r"^[\w-]+$")
OUTSIDE_ALPHABET = re.compile(r"[^\w-]+")


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def fold_tag_name(raw: str) -> str:
    """The folded, trimmed form of a tag name (see the module docstring); no validation: a
    name that could never be stored simply matches nothing."""
    folded = []
    for char in unicodedata.normalize("NFKC", raw).strip():
        lower = unicodedata.normalize("NFKC", char.casefold())
        if not _is_mark(char) and any(_is_mark(c) for c in lower):
            lower = "".join(c for c in lower if not _is_mark(c))  # İ → i, not i + U+0307
        folded.append(lower)
    return unicodedata.normalize("NFKC", "".join(folded)).strip()


def normalize_tag(raw) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise invalid("Tag name is required", field="name")
    name = fold_tag_name(raw)
    if not name:
        raise invalid("Tag name is required", field="name")
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


def clean_tag_name(raw: str) -> str:
    """The folded name without the characters outside the alphabet, cut to 50 characters
    (CattoPic's cleaning; see the module docstring). "" when nothing is left."""
    return OUTSIDE_ALPHABET.sub("", fold_tag_name(raw))[:MAX_TAG_LENGTH]


def clean_tag(raw, field: str = "name") -> str:
    """One cleaned tag name; 400 only when there is no name or it cleans to nothing."""
    if not isinstance(raw, str) or not raw.strip():
        raise invalid("Tag name is required", field=field)
    name = clean_tag_name(raw)
    if not name:
        raise invalid("Tag name must contain a letter, a digit, '-' or '_'", field=field, tag=raw)
    return name


def clean_tag_list(value, field: str = "tags") -> list[str]:
    """Tags given as an array or a comma-separated string, cleaned; names that clean to
    nothing are dropped (as CattoPic's server drops them), deduplicated, order kept."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        raise invalid("tags must be an array or a comma-separated string", field=field)
    names = []
    for item in items:
        if not isinstance(item, str):
            raise invalid("Tag names must be strings", field=field)
        names.append(clean_tag_name(item))
    return list(dict.fromkeys(name for name in names if name))
