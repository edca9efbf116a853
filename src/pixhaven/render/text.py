"""Text measurement and line breaking, from the fonts' own metrics.

- Advances come from `hmtx` (no kerning, no shaping: every character is one glyph, which is
  what these Latin and CJK fonts need for plain text; the same positions go to every output).
- Line height is the font's "normal" one: ascent + descent + line gap of the chosen family
  (`OS/2` typo metrics when the font asks for them, else `hhea`); the gap is split above
  and below, as browsers do.
- `frameWidth: "fit"`: one line per paragraph (`\n`), as wide as the text. A pixel width:
  greedy word wrap at spaces; CJK characters (and kana, Hangul) break anywhere, except that
  closing punctuation never starts a line; a word wider than the frame breaks per character.
- Characters the chosen family lacks are drawn from the first fallback family that has
  them (Noto Sans, then Noto Sans SC, then Noto Sans TC); CJK faces are only loaded for
  characters in CJK ranges, so an emoji does not pull 20 MB of fonts into memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pixhaven.render.fonts import CATALOGUE, FALLBACKS, Face, FontLibrary

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

NO_LINE_START = set("，。、！？：；）」』】》〉〕”’,.!?:;)]}%ー々〜・ゝゞヽヾ")


def is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0xFE30 <= code <= 0xFE4F
        or 0xFF00 <= code <= 0xFFEF
        or 0x1100 <= code <= 0x11FF
        or 0x20000 <= code <= 0x3FFFF
    )


@dataclass
class PlacedGlyph:
    face: Face
    gid: int
    char: str
    x: float  # from the line's left edge, in pixels
    advance: float


@dataclass
class Line:
    glyphs: list[PlacedGlyph]
    width: float


@dataclass
class TextBlock:
    lines: list[Line]
    font_size: float
    line_height: float
    baseline: float  # first baseline, from the block's top
    frame_width: float  # the box: the frame width, or the widest line for "fit"
    content_width: float  # the widest line
    faces: list[Face] = field(default_factory=list)

    @property
    def height(self) -> float:
        return self.line_height * len(self.lines)


class FaceChooser:
    """Which face draws each character: the family's own, else the first fallback with it."""

    def __init__(self, primary: Face, by_char: dict[str, Face]):
        self.primary = primary
        self._by_char = by_char

    def __call__(self, char: str) -> Face:
        return self._by_char.get(char, self.primary)


async def choose_faces(
    env: Env, library: FontLibrary, family: str, weight: int, italic: bool, text: str
) -> FaceChooser:
    primary = await library.face(env, family, weight, italic)
    missing = {c for c in set(text) if not c.isspace() and not primary.has(c)}
    by_char: dict[str, Face] = {}
    for fallback in FALLBACKS:
        if not missing:
            break
        if fallback == family:
            continue
        if CATALOGUE[fallback].cjk and not any(is_cjk(c) for c in missing):
            continue
        face = await library.face(env, fallback, weight, italic)
        found = {c for c in missing if face.has(c)}
        for char in found:
            by_char[char] = face
        missing -= found
    return FaceChooser(primary, by_char)


def _tokens(paragraph: str) -> list[str]:
    """Break opportunities: spaces are their own tokens, CJK characters one each."""
    tokens: list[str] = []
    word = ""
    for char in paragraph:
        if char == " ":
            if word:
                tokens.append(word)
                word = ""
            if tokens and tokens[-1].isspace():
                tokens[-1] += char
            else:
                tokens.append(char)
        elif char in NO_LINE_START and (word or (tokens and not tokens[-1].isspace())):
            if word:
                word += char
            else:
                tokens[-1] += char
        elif is_cjk(char):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
        else:
            word += char
    if word:
        tokens.append(word)
    return tokens


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(c for c in text if c == "\n" or (c.isprintable() or c == " "))


def layout_text(
    text: str, font_size: float, choose: FaceChooser, frame_width: float | None
) -> TextBlock:
    """Lines of placed glyphs; `frame_width` None means "fit"."""
    primary = choose.primary
    scale = font_size / primary.units_per_em

    def advance(char: str) -> tuple[Face, int, float]:
        face = choose(char)
        gid = face.glyph(char)
        return face, gid, face.advance(gid) * font_size / face.units_per_em

    widths: dict[str, float] = {}

    def width_of(token: str) -> float:
        total = 0.0
        for char in token:
            if char not in widths:
                widths[char] = advance(char)[2]
            total += widths[char]
        return total

    line_texts: list[str] = []
    for paragraph in _clean(text).split("\n"):
        if frame_width is None:
            line_texts.append(paragraph)
            continue
        current, current_width = "", 0.0
        for token in _tokens(paragraph):
            token_width = width_of(token)
            if token.isspace():
                if current:
                    current += token
                    current_width += token_width
                continue
            if current and current_width + token_width > frame_width + 0.01:
                line_texts.append(current.rstrip(" "))
                current, current_width = "", 0.0
            if not current and token_width > frame_width:
                # A word wider than the frame: break it wherever it must be broken.
                for char in token:
                    char_width = width_of(char)
                    if current and current_width + char_width > frame_width + 0.01:
                        line_texts.append(current)
                        current, current_width = "", 0.0
                    current += char
                    current_width += char_width
                continue
            current += token
            current_width += token_width
        line_texts.append(current.rstrip(" "))

    lines: list[Line] = []
    faces: dict[str, Face] = {primary.key: primary}
    for line_text in line_texts:
        glyphs, x = [], 0.0
        for char in line_text:
            face, gid, char_advance = advance(char)
            faces.setdefault(face.key, face)
            glyphs.append(PlacedGlyph(face, gid, char, x, char_advance))
            x += char_advance
        lines.append(Line(glyphs, x))
    line_height = (primary.ascent + primary.descent + primary.line_gap) * scale
    baseline = (primary.line_gap / 2 + primary.ascent) * scale
    content_width = max((line.width for line in lines), default=0.0)
    return TextBlock(
        lines,
        font_size,
        line_height,
        baseline,
        frame_width if frame_width is not None else content_width,
        content_width,
        list(faces.values()),
    )
