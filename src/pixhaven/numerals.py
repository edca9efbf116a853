"""Numbers written as text, as HTTP, URLs, JSON Schema and JavaScript read them: ASCII only.

`str.isdigit()` is also true of "²" and "³", which `int()` then refuses (a 500 where a 400
or 403 was meant), and of "٣" or "３", which `int()` and `float()` read as numbers no
client of those protocols would; `float()` also takes "1_000", "nan" and "infinity".
Every "is this text a number" check on input goes through here.
"""

import re

# A decimal number in text, as the OpenAPI documents it (a JSON Schema pattern, where `\d`
# is ASCII as in JavaScript; Python's `\d` is not, hence [0-9] here).
NUMBER_TEXT = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_NUMBER_TEXT = re.compile(NUMBER_TEXT)


def is_ascii_digits(text: str) -> bool:
    """True for "0", "42", "007"; False for "", "-1", "4.2", "²", "٣"."""
    return text.isascii() and text.isdigit()


def number_from_text(text: str) -> float | None:
    """The number `text` writes (NUMBER_TEXT: " 42 ", "-4.2", ".5", "1e3"), or None ("1_000",
    "nan", "٣", "0x10"); "1e999" is inf, as in JavaScript."""
    return float(text) if _NUMBER_TEXT.match(text) is not None else None


def integer_from_text(text: str) -> int | None:
    """The integer `text` writes ("42", "-7"), or None: no spaces, "+", "_" or other scripts'
    digits (which int() takes), nor more digits than int() converts (4,300)."""
    digits = text[1:] if text.startswith("-") else text
    if not is_ascii_digits(digits) or len(digits) > 4000:
        return None
    return int(text)
