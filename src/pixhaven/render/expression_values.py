"""The values of Pictify's expressions (render/expressions.py): JavaScript's rules, because
Pictify's templates are written for them. `+` joins when either side is a string,
truthiness, loose and strict equality, comparisons, division by zero is Infinity, `%` keeps
the dividend's sign, whole results are ints, and a missing variable or property is
`UNDEFINED`.

Also what every part of the language shares: the limits, `ExpressionError`, and the step
`Budget` of one render. A property is a dict key or a list/string index, never a Python
attribute, and names starting with `__` are refused outright (`member`); no operator builds
a string or list longer than MAX_VALUE (`bounded`, `arithmetic`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pixhaven.numerals import number_from_text

MAX_EXPRESSION = 2000  # characters in one expression
MAX_DEPTH = 40  # nesting of parentheses, calls, operators
MAX_STEPS = 200_000  # evaluation steps for one template render (all its expressions)
MAX_VALUE = 100_000  # characters of a built string / items of a built list


class ExpressionError(Exception):
    """A bad or refused expression; the message names it."""

    def __init__(self, message: str, expression: str):
        super().__init__(f"{message} in expression {{{{{expression}}}}}" if expression else message)
        self.reason = message
        self.expression = expression


class _Undefined:
    """JavaScript's `undefined`: a missing variable or property (prints as "")."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


@dataclass
class Budget:
    """Steps left for one render; every node visited and every item a function walks
    costs one."""

    steps: int = MAX_STEPS
    expression: str = ""

    def spend(self, n: int = 1) -> None:
        self.steps -= n
        if self.steps < 0:
            raise ExpressionError("Evaluation step budget exhausted", self.expression)


# -- JavaScript's value rules -----------------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def truthy(value: Any) -> bool:
    if value is None or value is UNDEFINED:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, (bool, int, float, str)):
        return bool(value)
    return True  # arrays and objects, even empty ones, as in JavaScript


def to_number(value: Any) -> float | int:
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if is_number(value):
        return value
    if isinstance(value, str):
        return _string_to_number(value.strip())
    return math.nan


RADIX_PREFIXES = {"x": 16, "o": 8, "b": 2}


def _string_to_number(text: str) -> float | int:
    """JavaScript's Number(text): a decimal literal, Infinity with a sign, or an unsigned
    0x/0o/0b integer; anything else is NaN. Not Python's float(), which also reads "nan",
    "inf", "1_000" and other scripts' digits."""
    if not text:
        return 0
    unsigned = text[1:] if text[0] in "+-" else text
    if unsigned == "Infinity":
        return -math.inf if text[0] == "-" else math.inf
    if len(text) > 2 and text[0] == "0" and text[1].lower() in RADIX_PREFIXES:
        digits = text[2:]
        if not (digits.isascii() and digits.isalnum()):  # int() would also take "_"
            return math.nan
        try:
            number: float | int = int(digits, RADIX_PREFIXES[text[1].lower()])
        except ValueError:
            return math.nan
        return number if number < 2**53 else float(number)
    decimal = number_from_text(text)
    if decimal is None:
        return math.nan
    return int(decimal) if decimal.is_integer() and abs(decimal) < 2**53 else decimal


def format_number(value: float | int) -> str:
    """A number as JavaScript's String() writes it (1, 2.5, 89.97000000000001, Infinity)."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def to_text(value: Any) -> str:
    """A value as it appears in the output (JavaScript's String(), arrays joined by ",")."""
    if value is None or value is UNDEFINED:
        return "" if value is UNDEFINED else "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return format_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if v is None or v is UNDEFINED else to_text(v) for v in value)
    return "[object Object]"


def numeric(value: float) -> float | int:
    """Whole results back to int (2 * 3 is 6, not 6.0), keeping JavaScript's precision."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def bounded(value: Any, expression: str) -> Any:
    if isinstance(value, (str, list)) and len(value) > MAX_VALUE:
        raise ExpressionError(f"Value longer than {MAX_VALUE} characters/items", expression)
    return value


def loose_equal(a: Any, b: Any) -> bool:
    nullish = (None, UNDEFINED)
    if a in nullish or b in nullish:
        return a in nullish and b in nullish
    if type(a) is type(b) or (is_number(a) and is_number(b)):
        return strict_equal(a, b)
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return a is b
    return to_number(a) == to_number(b)


def strict_equal(a: Any, b: Any) -> bool:
    if is_number(a) and is_number(b):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, dict)):
        return a is b
    return a == b


def compare(op: str, a: Any, b: Any) -> bool:
    if not (isinstance(a, str) and isinstance(b, str)):
        a, b = to_number(a), to_number(b)
        if math.isnan(a) or math.isnan(b):
            return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def arithmetic(op: str, a: Any, b: Any, expression: str) -> Any:
    if op == "+" and (isinstance(a, (str, list, dict)) or isinstance(b, (str, list, dict))):
        left, right = to_text(a), to_text(b)
        if len(left) + len(right) > MAX_VALUE:
            raise ExpressionError(f"Value longer than {MAX_VALUE} characters", expression)
        return left + right
    x, y = to_number(a), to_number(b)
    if op == "+":
        return numeric(x + y)
    if op == "-":
        return numeric(x - y)
    if op == "*":
        try:
            return numeric(x * y)
        except OverflowError:
            return math.inf
    if op == "/":
        if y == 0:
            return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
        return numeric(x / y)
    if y == 0 or math.isinf(x) or math.isnan(x) or math.isnan(y):
        return math.nan
    return numeric(math.fmod(x, y))  # JavaScript's % keeps the dividend's sign


def member(obj: Any, key: Any, expression: str) -> Any:
    if isinstance(key, str) and key.startswith("__"):
        raise ExpressionError(f"Property {key!r} is not allowed", expression)
    if isinstance(obj, dict):
        return obj.get(to_text(key), UNDEFINED)
    if isinstance(obj, (list, str)):
        if key == "length":
            return len(obj)
        if is_number(key) and float(key).is_integer() and 0 <= key < len(obj):
            return obj[int(key)]
        return UNDEFINED
    if obj is None or obj is UNDEFINED:
        raise ExpressionError(
            f"Cannot read property {to_text(key)!r} of {to_text(obj) or 'undefined'}", expression
        )
    return UNDEFINED
