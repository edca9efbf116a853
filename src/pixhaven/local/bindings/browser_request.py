"""Reading one call of the browser contract (pixhaven.bindings.browser): the JSON body,
checked field by field, as a `RenderRequest`; anything out of range is a `ContractError`
400 INVALID_REQUEST naming the field."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CALLS = ("screenshot", "pdf", "frames")
MAX_HTML_BYTES = 5_000_000
MAX_SIDE = 5000
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1280, 720
DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS = 15_000, 60_000
WAIT_UNTIL = ("load", "domcontentloaded", "networkidle")
LIBRARIES = ("fabric",)
IMAGE_TYPES = ("png", "jpeg", "webp")
PAPER_FORMATS = ("A4", "A3", "A5", "Letter", "Legal", "Tabloid")
MARGIN_SIDES = ("top", "right", "bottom", "left")
MAX_FRAMES, MAX_DURATION_MS, DEFAULT_MAX_DURATION_MS = 300, 30_000, 10_000


class ContractError(Exception):
    """An error answer of the contract: status, code, message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def invalid(message: str) -> ContractError:
    return ContractError(400, "INVALID_REQUEST", message)


@dataclass
class RenderRequest:
    call: str
    html: str | None
    url: str | None
    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT
    scale: float = 1.0
    wait_until: str = "load"
    wait_for_selector: str | None = None
    wait_for_function: str | None = None
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    libraries: list[str] = field(default_factory=list)
    # screenshot
    type: str = "png"
    quality: int | None = None
    omit_background: bool = False
    full_page: bool = False
    selector: str | None = None
    # pdf
    paper: dict[str, Any] = field(default_factory=dict)
    landscape: bool = False
    margin: dict[str, str] = field(default_factory=dict)
    print_background: bool = True
    # frames
    fps: int = 10
    frame_count: int | None = 10  # None: from the duration (pages.frames sets it)
    duration_ms: int | None = None  # the frames' span when frameCount is omitted
    max_duration_ms: int = DEFAULT_MAX_DURATION_MS
    max_frames: int = MAX_FRAMES


def _int(body: dict, name: str, low: int, high: int, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(f"`{name}` must be a whole number from {low} to {high}")
    return value


def _bool(body: dict, name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(f"`{name}` must be true or false")
    return value


def _text(body: dict, name: str, limit: int = 10_000) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise invalid(f"`{name}` must be a non-empty string of at most {limit} characters")
    return value


def _choice(body: dict, name: str, choices: tuple[str, ...], default: str) -> str:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or value not in choices:
        raise invalid(f"`{name}` must be one of {', '.join(choices)}")
    return value


def _length(value: Any, name: str) -> str:
    """A CSS length ("210mm", "1in", "12px") or a number of px, as Chromium's PDF takes it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 100_000:
        return f"{value}px"
    if isinstance(value, str):
        text = value.strip().lower()
        number = text.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = text[len(number) :]
        try:
            ok = unit in ("px", "in", "cm", "mm", "") and 0 <= float(number) <= 100_000
        except ValueError:
            ok = False
        if ok:
            return text if unit else f"{text}px"
    raise invalid(f"`{name}` must be a CSS length (px, in, cm, mm) or a number of px")


def parse(call: str, text: str) -> RenderRequest:
    if call not in CALLS:
        raise invalid(f"no such call {call!r}: the calls are {', '.join(CALLS)}")
    try:
        body = json.loads(text)
    except (TypeError, ValueError):
        raise invalid("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    html, url = body.get("html"), body.get("url")
    if (html is None) == (url is None):
        raise invalid("send exactly one of `html` and `url`")
    if html is not None and (not isinstance(html, str) or len(html.encode()) > MAX_HTML_BYTES):
        raise invalid(f"`html` must be a string of at most {MAX_HTML_BYTES} bytes")
    if url is not None and (
        not isinstance(url, str) or not url.lower().startswith(("http://", "https://"))
    ):
        raise invalid("`url` must be an http or https URL")
    libraries = body.get("libraries") or []
    if not isinstance(libraries, list) or any(name not in LIBRARIES for name in libraries):
        raise invalid(f"`libraries` must be a list of known libraries: {', '.join(LIBRARIES)}")
    scale = body.get("deviceScaleFactor", 1)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 1 <= scale <= 4:
        raise invalid("`deviceScaleFactor` must be a number from 1 to 4")
    request = RenderRequest(
        call,
        html,
        url,
        width=_int(body, "width", 1, MAX_SIDE, DEFAULT_WIDTH),
        height=_int(body, "height", 1, MAX_SIDE, DEFAULT_HEIGHT),
        scale=float(scale),
        wait_until=_choice(body, "waitUntil", WAIT_UNTIL, "load"),
        wait_for_selector=_text(body, "waitForSelector"),
        wait_for_function=_text(body, "waitForFunction"),
        timeout_ms=_int(body, "timeout", 1, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS),
        libraries=list(dict.fromkeys(libraries)),
    )
    if call == "screenshot":
        request.type = _choice(body, "type", IMAGE_TYPES, "png")
        request.quality = _int(body, "quality", 1, 100, 80) if request.type != "png" else None
        request.omit_background = _bool(body, "omitBackground", False)
        request.full_page = _bool(body, "fullPage", False)
        request.selector = _text(body, "selector")
    elif call == "pdf":
        _read_pdf(body, request)
    else:
        request.fps = _int(body, "fps", 1, 50, 10)
        request.frame_count = (
            _int(body, "frameCount", 1, MAX_FRAMES, 10)
            if body.get("frameCount") is not None
            else None
        )
        if request.frame_count is None:
            request.duration_ms = (
                _int(body, "duration", 1, MAX_DURATION_MS, 1)
                if body.get("duration") is not None
                else None
            )
            request.max_duration_ms = _int(
                body, "maxDuration", 1, MAX_DURATION_MS, DEFAULT_MAX_DURATION_MS
            )
            request.max_frames = _int(body, "maxFrames", 1, MAX_FRAMES, MAX_FRAMES)
        _choice(body, "type", ("png",), "png")
    return request


def _read_pdf(body: dict, request: RenderRequest) -> None:
    width, height = body.get("paperWidth"), body.get("paperHeight")
    if (width is None) != (height is None):
        raise invalid("send both `paperWidth` and `paperHeight`, or neither")
    if width is not None:
        if body.get("format") is not None:
            raise invalid("send either `format` or `paperWidth`/`paperHeight`, not both")
        request.paper = {
            "width": _length(width, "paperWidth"),
            "height": _length(height, "paperHeight"),
        }
    else:
        request.paper = {"format": _choice(body, "format", PAPER_FORMATS, "A4")}
    request.landscape = _bool(body, "landscape", False)
    request.print_background = _bool(body, "printBackground", True)
    margin = body.get("margin") or {}
    if not isinstance(margin, dict) or set(margin) - set(MARGIN_SIDES):
        raise invalid("`margin` must be an object with top, right, bottom and left lengths")
    request.margin = {
        side: _length(value, f"margin.{side}")
        for side, value in margin.items()
        if value is not None
    }
