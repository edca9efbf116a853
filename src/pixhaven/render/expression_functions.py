"""The function library of Pictify's expressions (concepts/expressions.mdx, "Built-in
Functions"): strings, numbers, formatting, arrays, type checks, utilities.

Each function takes the render's Budget first and JSON values after; it charges the budget
for the items it walks and refuses (ExpressionError) what would build more than MAX_VALUE
characters or items, so `padStart(x, 1e9)` is a clear error, not a gigabyte.

Choices where the doc is silent, following JavaScript and Intl as Pictify's engine does:
`percent(0.25)` is "25%" (Intl's percent style multiplies by 100); `currency` and `number`
know the grouping and symbol conventions of a handful of locales (en, de, fr, es, it, nl,
pt, ja; others read as en-US); `date`/`time` take an ISO 8601 string or epoch milliseconds
and the Day.js format tokens (YYYY MMMM MMM MM M DD D dddd ddd HH H hh h mm ss A a), in UTC.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pixhaven.render.expression_values import (
    MAX_VALUE,
    UNDEFINED,
    Budget,
    ExpressionError,
    is_number,
    numeric,
    to_number,
    to_text,
)


def fail(budget: Budget, message: str) -> ExpressionError:
    return ExpressionError(message, budget.expression)


def _length(budget: Budget, n: Any, name: str) -> int:
    number = to_number(n)
    if math.isnan(number):
        return 0
    if number > MAX_VALUE:
        raise fail(budget, f"{name}(): length {format(number, 'g')} is over {MAX_VALUE}")
    return max(0, int(number))


def _items(budget: Budget, value: Any) -> list:
    if isinstance(value, list):
        budget.spend(len(value))
        return value
    return []


def _empty(value: Any) -> bool:
    return value is None or value is UNDEFINED or value in ("", [], {})


# -- strings --------------------------------------------------------------------------------


def capitalize(budget: Budget, s: Any = "") -> str:
    text = to_text(s)
    return text[:1].upper() + text[1:]


def title_case(budget: Budget, s: Any = "") -> str:
    return " ".join(w[:1].upper() + w[1:].lower() for w in to_text(s).split(" "))


def truncate(budget: Budget, s: Any = "", n: Any = 100, suffix: Any = "...") -> str:
    text, limit = to_text(s), _length(budget, n, "truncate")
    return text if len(text) <= limit else text[:limit] + to_text(suffix)


def replace(budget: Budget, s: Any = "", search: Any = "", by: Any = "") -> str:
    text, old, new = to_text(s), to_text(search), to_text(by)
    if not old:
        return text
    if len(text) + text.count(old) * max(0, len(new) - len(old)) > MAX_VALUE:
        raise fail(budget, f"replace(): result longer than {MAX_VALUE} characters")
    return text.replace(old, new)


def split(budget: Budget, s: Any = "", delimiter: Any = ",") -> list:
    text, sep = to_text(s), to_text(delimiter)
    parts = list(text) if sep == "" else text.split(sep)
    budget.spend(len(parts))
    return parts


def pad(start: bool) -> Callable[..., str]:
    def padder(budget: Budget, s: Any = "", n: Any = 0, char: Any = " ") -> str:
        text, width, fill = (
            to_text(s),
            _length(budget, n, "padStart" if start else "padEnd"),
            to_text(char),
        )
        if len(text) >= width or not fill:
            return text
        padding = (fill * (width - len(text)))[: width - len(text)]
        return padding + text if start else text + padding

    return padder


# -- numbers --------------------------------------------------------------------------------


def _decimal(value: float | int) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def round_to(budget: Budget, n: Any = 0, decimals: Any = 0) -> float | int:
    number, places = to_number(n), int(to_number(decimals) or 0)
    if not math.isfinite(number):
        return number
    places = max(-20, min(20, places))
    # Half away from zero on the decimal digits as written (2.675 → 2.68), not binary.
    quantum = Decimal(1).scaleb(-places)
    try:
        return numeric(float(_decimal(number).quantize(quantum, rounding=ROUND_HALF_UP)))
    except InvalidOperation:  # more digits than Decimal's context: nothing left to round
        return number


def _finite(fn: Callable[[float], Any]) -> Callable[..., Any]:
    def apply(budget: Budget, n: Any = UNDEFINED) -> Any:
        number = to_number(n)
        return number if not math.isfinite(number) else numeric(fn(number))

    return apply


def _numbers(budget: Budget, args: tuple) -> list:
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
    return [to_number(v) for v in _items(budget, values)]


def minimum(budget: Budget, *args: Any) -> Any:
    values = _numbers(budget, args)
    return math.inf if not values else math.nan if any(map(math.isnan, values)) else min(values)


def maximum(budget: Budget, *args: Any) -> Any:
    values = _numbers(budget, args)
    return -math.inf if not values else math.nan if any(map(math.isnan, values)) else max(values)


def total(budget: Budget, values: Any = UNDEFINED) -> Any:
    return numeric(math.fsum(to_number(v) for v in _items(budget, values)))


def average(budget: Budget, values: Any = UNDEFINED) -> Any:
    items = _items(budget, values)
    return numeric(math.fsum(to_number(v) for v in items) / len(items)) if items else 0


# -- formatting -----------------------------------------------------------------------------

# locale prefix → (group separator, decimal separator, symbol after the number)
LOCALES = {
    "en": (",", ".", False),
    "de": (".", ",", True),
    "fr": ("\u202f", ",", True),
    "es": (".", ",", True),
    "it": (".", ",", True),
    "nl": (".", ",", False),
    "pt": (".", ",", False),
    "ja": (",", ".", False),
}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "CN¥",
           "KRW": "₩", "CAD": "CA$", "AUD": "A$", "BRL": "R$", "MXN": "MX$"}  # fmt: skip
NO_DECIMALS = {"JPY", "KRW"}


def _locale(locale: Any) -> tuple[str, str, bool]:
    return LOCALES.get(to_text(locale or "en-US").split("-")[0].lower(), LOCALES["en"])


def _group(number: float | int, decimals: int, locale: Any, trim: bool = False) -> str:
    group, point, _ = _locale(locale)
    text = f"{abs(round_to(Budget(), number, decimals)):,.{decimals}f}"
    whole, _, fraction = text.partition(".")
    if trim:
        fraction = fraction.rstrip("0")
    text = whole.replace(",", group) + (point + fraction if fraction else "")
    return ("-" if number < 0 and text.strip("0.,") else "") + text


def currency(budget: Budget, n: Any = 0, code: Any = "USD", locale: Any = "en-US") -> str:
    number, code = to_number(n), to_text(code or "USD").upper()
    if not math.isfinite(number):
        return to_text(number)
    symbol = SYMBOLS.get(code, code)
    amount = _group(number, 0 if code in NO_DECIMALS else 2, locale)
    sign, amount = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
    if _locale(locale)[2]:
        return f"{sign}{amount}\u00a0{symbol}"
    return f"{sign}{symbol}{'' if len(symbol) == 1 or symbol[-1] == '$' else chr(0xA0)}{amount}"


def number_format(budget: Budget, n: Any = 0, locale: Any = "en-US") -> str:
    number = to_number(n)
    return _group(number, 3, locale, trim=True) if math.isfinite(number) else to_text(number)


def percent(budget: Budget, n: Any = 0, decimals: Any = 0) -> str:
    number = to_number(n)
    if not math.isfinite(number):
        return to_text(number)
    places = max(0, min(20, int(to_number(decimals) or 0)))
    return _group(number * 100, places, "en-US") + "%"


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TOKENS = ("YYYY", "MMMM", "dddd", "MMM", "ddd", "YY", "MM", "DD", "HH", "hh", "mm", "ss",
          "M", "D", "H", "h", "m", "s", "A", "a")  # fmt: skip


def _datetime(value: Any) -> datetime | None:
    try:
        if is_number(value):
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        text = to_text(value).strip()
        if not text:
            return None
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment


def _token(moment: datetime, token: str) -> str:
    hour12 = moment.hour % 12 or 12
    return {
        "YYYY": f"{moment.year:04d}", "YY": f"{moment.year % 100:02d}",
        "MMMM": MONTHS[moment.month - 1], "MMM": MONTHS[moment.month - 1][:3],
        "MM": f"{moment.month:02d}", "M": str(moment.month),
        "DD": f"{moment.day:02d}", "D": str(moment.day),
        "dddd": DAYS[moment.weekday()], "ddd": DAYS[moment.weekday()][:3],
        "HH": f"{moment.hour:02d}", "H": str(moment.hour),
        "hh": f"{hour12:02d}", "h": str(hour12),
        "mm": f"{moment.minute:02d}", "m": str(moment.minute),
        "ss": f"{moment.second:02d}", "s": str(moment.second),
        "A": "AM" if moment.hour < 12 else "PM", "a": "am" if moment.hour < 12 else "pm",
    }[token]  # fmt: skip


def format_date(budget: Budget, value: Any = UNDEFINED, pattern: Any = "MMM D, YYYY") -> str:
    moment = _datetime(value)
    if moment is None:
        return ""
    text, out, i = to_text(pattern), [], 0
    budget.spend(len(text))
    while i < len(text):
        if text[i] == "[":  # [literal text], as in Day.js
            end = text.find("]", i)
            end = len(text) if end < 0 else end
            out.append(text[i + 1 : end])
            i = end + 1
            continue
        token = next((t for t in TOKENS if text.startswith(t, i)), None)
        out.append(_token(moment, token) if token else text[i])
        i += len(token) if token else 1
    return "".join(out)


def format_time(budget: Budget, value: Any = UNDEFINED, pattern: Any = "h:mm A") -> str:
    return format_date(budget, value, pattern)


# -- arrays, checks, utilities --------------------------------------------------------------


def length(budget: Budget, value: Any = UNDEFINED) -> int:
    return len(value) if isinstance(value, (list, str, dict)) else 0


def first(budget: Budget, value: Any = UNDEFINED) -> Any:
    return value[0] if isinstance(value, (list, str)) and value else UNDEFINED


def last(budget: Budget, value: Any = UNDEFINED) -> Any:
    return value[-1] if isinstance(value, (list, str)) and value else UNDEFINED


def join(budget: Budget, value: Any = UNDEFINED, separator: Any = ",") -> str:
    items = _items(budget, value)
    sep = to_text(separator)
    if sum(len(to_text(v)) for v in items) + len(sep) * len(items) > MAX_VALUE:
        raise fail(budget, f"join(): result longer than {MAX_VALUE} characters")
    return sep.join("" if v is None or v is UNDEFINED else to_text(v) for v in items)


def slice_of(budget: Budget, value: Any = UNDEFINED, start: Any = 0, end: Any = UNDEFINED) -> Any:
    if not isinstance(value, (list, str)):
        return []
    begin = int(to_number(start) or 0) if math.isfinite(to_number(start) or 0) else 0
    stop = None if end is UNDEFINED else to_number(end)
    stop = None if stop is None or math.isnan(stop) else int(max(-1e9, min(1e9, stop)))
    budget.spend(len(value))
    return value[begin:stop]


def contains(budget: Budget, value: Any = UNDEFINED, item: Any = UNDEFINED) -> bool:
    if isinstance(value, str):
        return to_text(item) in value
    return any(_same(v, item) for v in _items(budget, value))


def index_of(budget: Budget, value: Any = UNDEFINED, item: Any = UNDEFINED) -> int:
    if isinstance(value, str):
        return value.find(to_text(item))
    return next((i for i, v in enumerate(_items(budget, value)) if _same(v, item)), -1)


def _same(a: Any, b: Any) -> bool:
    return (is_number(a) and is_number(b) and a == b) or (type(a) is type(b) and a == b)


def to_json(budget: Budget, value: Any = UNDEFINED) -> str:
    if value is UNDEFINED:
        return ""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=lambda _: None)
    budget.spend(len(text) // 100)
    return text


def parse_json(budget: Budget, text: Any = UNDEFINED) -> Any:
    source = to_text(text)
    if len(source) > MAX_VALUE:
        raise fail(budget, f"parseJson(): input longer than {MAX_VALUE} characters")
    budget.spend(len(source) // 100)
    try:
        return json.loads(source)
    except (ValueError, RecursionError):
        raise fail(budget, "parseJson(): not valid JSON") from None


def _check(test: Callable[[Any], bool]) -> Callable[..., bool]:
    return lambda budget, value=UNDEFINED: test(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "uppercase": lambda b, s="": to_text(s).upper(),
    "lowercase": lambda b, s="": to_text(s).lower(),
    "capitalize": capitalize,
    "titleCase": title_case,
    "trim": lambda b, s="": to_text(s).strip(),
    "truncate": truncate,
    "replace": replace,
    "split": split,
    "padStart": pad(start=True),
    "padEnd": pad(start=False),
    "round": round_to,
    "floor": _finite(math.floor),
    "ceil": _finite(math.ceil),
    "abs": _finite(abs),
    "min": minimum,
    "max": maximum,
    "sum": total,
    "average": average,
    "currency": currency,
    "number": number_format,
    "percent": percent,
    "date": format_date,
    "time": format_time,
    "length": length,
    "first": first,
    "last": last,
    "join": join,
    "slice": slice_of,
    "contains": contains,
    "indexOf": index_of,
    "isEmpty": _check(_empty),
    "isNotEmpty": _check(lambda v: not _empty(v)),
    "isDefined": _check(lambda v: v is not None and v is not UNDEFINED),
    "isArray": _check(lambda v: isinstance(v, list)),
    "isString": _check(lambda v: isinstance(v, str)),
    "isNumber": _check(lambda v: is_number(v) and not math.isnan(v)),
    "default": lambda b, v=UNDEFINED, fallback=UNDEFINED: fallback if _empty(v) else v,
    "coalesce": lambda b, *vs: next((v for v in vs if v is not None and v is not UNDEFINED), None),
    "json": to_json,
    "parseJson": parse_json,
}

# The documented functions by the doc's sections, with their signatures (for
# `GET /templates/expression/functions`).
CATALOGUE: dict[str, tuple[str, ...]] = {
    "string": (
        "uppercase(str)", "lowercase(str)", "capitalize(str)", "titleCase(str)", "trim(str)",
        "truncate(str, len, suffix)", "replace(str, search, replace)",
        "split(str, delimiter)", "padStart(str, len, char)", "padEnd(str, len, char)",
    ),
    "number": (
        "round(num, decimals)", "floor(num)", "ceil(num)", "abs(num)", "min(a, b, ...)",
        "max(a, b, ...)", "sum(array)", "average(array)",
    ),
    "formatting": (
        "currency(num, currency, locale)", "number(num, locale)", "percent(num, decimals)",
        "date(str, format)", "time(str)",
    ),
    "array": (
        "length(arr)", "first(arr)", "last(arr)", "join(arr, separator)",
        "slice(arr, start, end)", "contains(arr, value)", "indexOf(arr, value)",
    ),
    "type": (
        "isEmpty(val)", "isNotEmpty(val)", "isDefined(val)", "isArray(val)", "isString(val)",
        "isNumber(val)",
    ),
    "utility": (
        "default(val, fallback)", "coalesce(a, b, ...)", "json(val)", "parseJson(str)",
    ),
}  # fmt: skip
