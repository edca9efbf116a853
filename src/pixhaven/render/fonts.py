"""Fonts: the catalogue, where each face lives in R2, and a per-isolate cache of parsed faces.

The TTFs come from the npm packages `@expo-google-fonts/<family>` (OFL) and are stored in
the bucket under `fonts/<slug>/<File>.ttf`; `pixhaven fonts install` puts them there (the
app itself never downloads anything). A face is fetched and parsed the first time a
document uses it and then kept for the life of the isolate, within a byte budget: one CJK
face is about 10 MB of TTF, and the Worker has 128 MB, so CJK faces are loaded only when a
document needs them and the least recently used ones are dropped first.

Metrics come from the font's own tables: `head`, `hhea` and `OS/2` through fontTools, and
`cmap`/`hmtx` through a compact reader over the raw bytes (fontTools' dictionaries for a
30,000-glyph CJK font cost more memory than the font itself). Outlines (for SVG) come from
fontTools' `glyf`, opened only when an SVG is drawn.
"""

from __future__ import annotations

import asyncio
import bisect
import io
import struct
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pixhaven.interop import body_bytes
from pixhaven.render.document import FAMILIES

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env, FontInstaller

WEIGHT_SUFFIX = {
    100: "Thin",
    200: "ExtraLight",
    300: "Light",
    400: "Regular",
    500: "Medium",
    600: "SemiBold",
    700: "Bold",
    800: "ExtraBold",
    900: "Black",
}
ALL_WEIGHTS = tuple(WEIGHT_SUFFIX)


@dataclass(frozen=True)
class FamilyInfo:
    name: str
    package: str  # npm package, pinned: the files below are what this version ships
    version: str
    prefix: str  # file name prefix inside the package
    weights: tuple[int, ...]
    italic: bool
    cjk: bool = False

    @property
    def slug(self) -> str:
        return self.package.rsplit("/", 1)[1]


CATALOGUE: dict[str, FamilyInfo] = {
    info.name: info
    for info in (
        FamilyInfo("Inter", "@expo-google-fonts/inter", "0.4.2", "Inter", ALL_WEIGHTS, True),
        FamilyInfo(
            "Noto Sans", "@expo-google-fonts/noto-sans", "0.4.2", "NotoSans", ALL_WEIGHTS, True
        ),
        FamilyInfo(
            "Noto Sans SC",
            "@expo-google-fonts/noto-sans-sc",
            "0.4.3",
            "NotoSansSC",
            ALL_WEIGHTS,
            False,
            cjk=True,
        ),
        FamilyInfo(
            "Noto Sans TC",
            "@expo-google-fonts/noto-sans-tc",
            "0.4.3",
            "NotoSansTC",
            ALL_WEIGHTS,
            False,
            cjk=True,
        ),
        FamilyInfo("Poppins", "@expo-google-fonts/poppins", "0.4.1", "Poppins", ALL_WEIGHTS, True),
        FamilyInfo("Roboto", "@expo-google-fonts/roboto", "0.4.3", "Roboto", ALL_WEIGHTS, True),
        FamilyInfo(
            "Playfair Display",
            "@expo-google-fonts/playfair-display",
            "0.4.2",
            "PlayfairDisplay",
            (400, 500, 600, 700, 800, 900),
            True,
        ),
    )
}
assert tuple(CATALOGUE) == FAMILIES

# Where a character missing from the chosen family is looked for, in order.
FALLBACKS = ("Noto Sans", "Noto Sans SC", "Noto Sans TC")
INSTALL_COMMAND = "pixhaven fonts install"


def file_name(family: str, weight: int, italic: bool) -> str:
    info = CATALOGUE[family]
    return f"{info.prefix}_{weight}{WEIGHT_SUFFIX[weight]}{'_Italic' if italic else ''}.ttf"


def package_path(family: str, weight: int, italic: bool) -> str:
    """Where the file sits inside the npm tarball."""
    return f"package/{weight}{WEIGHT_SUFFIX[weight]}{'_Italic' if italic else ''}/" + file_name(
        family, weight, italic
    )


def bucket_key(family: str, weight: int, italic: bool) -> str:
    return f"fonts/{CATALOGUE[family].slug}/{file_name(family, weight, italic)}"


def all_faces(family: str) -> list[tuple[int, bool]]:
    info = CATALOGUE[family]
    return [(w, it) for w in info.weights for it in ((False, True) if info.italic else (False,))]


def closest_weight(available: tuple[int, ...], wanted: int) -> int:
    """CSS font matching: 400 tries 500 first, then lighter; above 500 heavier first."""
    if wanted in available:
        return wanted
    if wanted == 400 and 500 in available:
        return 500
    lighter = [w for w in available if w < wanted]
    heavier = [w for w in available if w > wanted]
    if wanted <= 500:
        return max(lighter) if lighter else min(heavier)
    return min(heavier) if heavier else max(lighter)


class FontsNotInstalled(Exception):
    def __init__(self, key: str, reason: str = ""):
        super().__init__(f"font {key} is not in the bucket: run `{INSTALL_COMMAND}`")
        self.key = key
        self.reason = reason


class Face:
    """One parsed TTF: metrics for layout, outlines for SVG, raw bytes for FreeType."""

    def __init__(self, key: str, family: str, weight: int, italic: bool, data: bytes):
        from fontTools.ttLib import TTFont

        self.key, self.family, self.weight, self.italic = key, family, weight, italic
        self.data = data
        self._ttfont = TTFont(io.BytesIO(data), lazy=True)
        head, hhea = self._ttfont["head"], self._ttfont["hhea"]
        self.units_per_em = head.unitsPerEm
        os2 = self._ttfont.get("OS/2")
        if os2 is not None and os2.fsSelection & (1 << 7):  # USE_TYPO_METRICS
            self.ascent, self.descent = os2.sTypoAscender, -os2.sTypoDescender
            self.line_gap = os2.sTypoLineGap
        else:
            self.ascent, self.descent, self.line_gap = hhea.ascent, -hhea.descent, hhea.lineGap
        tables = self._tables()
        self._cmap = _CharMap(data, *tables[b"cmap"])
        offset, _ = tables[b"hmtx"]
        self._metrics_count = hhea.numberOfHMetrics
        self._hmtx = data[offset : offset + 4 * self._metrics_count]
        self._paths: dict[int, str] = {}
        self._glyph_set: Any = None  # fontTools' glyph set, made on first use
        self.extras: dict = {}  # per-output caches (Pillow font objects per size)

    def _tables(self) -> dict[bytes, tuple[int, int]]:
        count = struct.unpack_from(">H", self.data, 4)[0]
        tables = {}
        for i in range(count):
            tag, _, offset, length = struct.unpack_from(">4sLLL", self.data, 12 + 16 * i)
            tables[tag] = (offset, length)
        return tables

    def glyph(self, char: str) -> int:
        """Glyph id for a character, 0 (.notdef) when the font lacks it."""
        return self._cmap.lookup(ord(char))

    def has(self, char: str) -> bool:
        return self._cmap.lookup(ord(char)) != 0

    def advance(self, gid: int) -> int:
        index = min(gid, self._metrics_count - 1)
        return struct.unpack_from(">H", self._hmtx, 4 * index)[0]

    def path(self, gid: int) -> str:
        """SVG path data of a glyph, in font units (y up)."""
        cached = self._paths.get(gid)
        if cached is None:
            from fontTools.pens.svgPathPen import SVGPathPen

            if self._glyph_set is None:
                self._glyph_set = self._ttfont.getGlyphSet()
            pen = SVGPathPen(self._glyph_set)
            self._glyph_set[self._ttfont.getGlyphName(gid)].draw(pen)
            cached = self._paths[gid] = pen.getCommands()
        return cached


class _CharMap:
    """Unicode → glyph id from a format 12 or format 4 `cmap` subtable, kept as arrays."""

    def __init__(self, data: bytes, offset: int, length: int):
        self.starts, self.ends, self.deltas = array("l"), array("l"), array("l")
        self.singles: dict[int, int] = {}
        self.mask = 0xFFFFFFFF
        count = struct.unpack_from(">H", data, offset + 2)[0]
        choices = {}
        for i in range(count):
            platform, encoding, sub = struct.unpack_from(">HHL", data, offset + 4 + 8 * i)
            fmt = struct.unpack_from(">H", data, offset + sub)[0]
            choices[(platform, encoding, fmt)] = offset + sub
        for wanted in ((3, 10, 12), (0, 4, 12), (0, 6, 12), (3, 1, 4), (0, 3, 4), (0, 1, 4)):
            if wanted in choices:
                (self._format12 if wanted[2] == 12 else self._format4)(data, choices[wanted])
                return

    def _format12(self, data: bytes, at: int) -> None:
        groups = struct.unpack_from(">L", data, at + 12)[0]
        for i in range(groups):
            start, end, gid = struct.unpack_from(">LLL", data, at + 16 + 12 * i)
            self.starts.append(start)
            self.ends.append(end)
            self.deltas.append(gid - start)

    def _format4(self, data: bytes, at: int) -> None:
        self.mask = 0xFFFF
        segments = struct.unpack_from(">H", data, at + 6)[0] // 2
        ends_at = at + 14
        starts_at = ends_at + 2 * segments + 2
        deltas_at = starts_at + 2 * segments
        ranges_at = deltas_at + 2 * segments
        for i in range(segments):
            end = struct.unpack_from(">H", data, ends_at + 2 * i)[0]
            start = struct.unpack_from(">H", data, starts_at + 2 * i)[0]
            delta = struct.unpack_from(">h", data, deltas_at + 2 * i)[0]
            range_offset = struct.unpack_from(">H", data, ranges_at + 2 * i)[0]
            if start == 0xFFFF:
                continue
            if range_offset == 0:
                # gid = (code + delta) mod 65536: store as a range with the same shift.
                self.starts.append(start)
                self.ends.append(end)
                self.deltas.append(delta)
                continue
            for code in range(start, end + 1):
                where = ranges_at + 2 * i + range_offset + 2 * (code - start)
                gid = struct.unpack_from(">H", data, where)[0]
                if gid:
                    self.singles[code] = (gid + delta) & 0xFFFF

    def lookup(self, code: int) -> int:
        single = self.singles.get(code)
        if single is not None:
            return single
        i = bisect.bisect_right(self.starts, code) - 1
        if i >= 0 and code <= self.ends[i]:
            return (code + self.deltas[i]) & self.mask
        return 0


class FontLibrary:
    """Parsed faces for this isolate, least recently used dropped beyond `budget` bytes."""

    def __init__(self, budget: int = 40 * 1024 * 1024):
        self.budget = budget
        self._faces: OrderedDict[str, Face] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def clear(self) -> None:
        self._faces.clear()

    def cached(self, key: str) -> Face | None:
        face = self._faces.get(key)
        if face is not None:
            self._faces.move_to_end(key)
        return face

    async def face(self, env: Env, family: str, weight: int, italic: bool) -> Face:
        info = CATALOGUE[family]
        weight = closest_weight(info.weights, weight)
        italic = italic and info.italic
        key = bucket_key(family, weight, italic)
        face = self.cached(key)
        if face is not None:
            return face
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            face = self.cached(key)
            if face is None:
                data = await _read(env, key)
                face = Face(key, family, weight, italic, data)
                self._faces[key] = face
                self._evict()
        return face

    def _evict(self) -> None:
        """Within the budget, keeping at least the face just added."""
        self._drop_oldest(0, keep=1)

    def make_room(self, needed: int) -> None:
        """Drop the least recently used faces until `needed` more bytes fit in the budget
        beside the ones kept: a large upload needs the isolate's memory more than cached
        faces do (services/images/pipeline.py says how much it asks for)."""
        self._drop_oldest(needed, keep=0)

    def _drop_oldest(self, needed: int, keep: int) -> None:
        held = sum(len(face.data) for face in self._faces.values())
        while len(self._faces) > keep and held + needed > self.budget:
            _, face = self._faces.popitem(last=False)
            held -= len(face.data)


async def _read(env: Env, key: str) -> bytes:
    bucket = env.BUCKET
    obj = await bucket.get(key)
    if obj is None:
        # Only the local runtime's env has an installer (`LocalHooks` in bindings/env.py:
        # pixhaven.local.runtime.fonts); a Worker's env has no FONT_INSTALLER attribute.
        installer: FontInstaller | None = getattr(env, "FONT_INSTALLER", None)
        if installer is not None:
            try:
                await installer.install(bucket, key)
            except Exception as exc:  # no npm, no network: say what to do
                raise FontsNotInstalled(key, str(exc)) from exc
            obj = await bucket.get(key)
        if obj is None:
            raise FontsNotInstalled(key)
    return await body_bytes(obj)


LIBRARY = FontLibrary()
