"""Animated GIF from a list of documents (Pictify `POST /gif`): one layout and one raster
drawing per frame, each reduced to a palette, then one GIF89a file.

Palette (crisp text):
- A frame with at most 256 colours (or 255 with transparency) keeps them exactly: median cut
  with that many boxes gives one box per colour, so every antialiasing level survives.
- A frame with more (photos, several text colours) is reduced by median cut without
  dithering (dithering speckles glyph edges), then the document's own opaque colours
  (background, text, pills, dividers) are snapped back into the palette exactly.
- One global colour table when the frames' palettes together fit in 256 entries (the usual
  case for cards: same background, same text colours); otherwise the first frame's palette
  is global and later frames carry their own local table. Either way every frame is exact
  or median-cut on its own, never quantised against colours it does not use.
- A transparent canvas: pixels under 50 % alpha become the transparent index (GIF has one
  bit of alpha), and those frames are disposed to the background before the next.

The container (header, loop block, graphic control extensions) is written here; each
frame's LZW data comes from Pillow's GIF encoder (`GifImagePlugin.getdata`). Pillow's own
`save_all` is not used because it merges consecutive identical frames (adding their delays),
which would change the frame count a client asked for.

Delays are in milliseconds; GIF stores centiseconds, so they are rounded to 10 ms.
`loop` is the NETSCAPE2.0 repeat count as written in the file: 0 = forever.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pixhaven.render.document import Document
from pixhaven.render.fonts import LIBRARY, FontLibrary
from pixhaven.render.layout import Layout, RectItem, SourceRules, TextItem, laid_out

if TYPE_CHECKING:
    from PIL import Image

    from pixhaven.bindings.env import Env

SNAP_DISTANCE = 24 * 24 * 3  # squared RGB distance within which a document colour is restored


@dataclass
class _Frame:
    pixels: Image.Image  # PIL "P" image (indices into `palette`)
    palette: list[tuple[int, int, int]]
    transparent: int | None  # index of the transparent entry, if any
    delay_cs: int


def _document_colours(layout: Layout) -> list[tuple[int, int, int]]:
    colours = [layout.background]
    for item in layout.items:
        if isinstance(item, (RectItem, TextItem)):
            colours.append(item.color)
    seen: dict[tuple[int, int, int], None] = {}
    for colour in colours:
        if colour[3] == 255:
            seen.setdefault(colour[:3], None)
    return list(seen)


def _quantise(canvas, opaque: bool, reserved: list[tuple[int, int, int]], colors: int = 256):
    """RGBA canvas → (P image, palette, transparent index or None), at most `colors`."""
    from PIL import Image

    rgb = canvas.convert("RGB")
    mask = None
    limit = colors
    if not opaque:
        alpha = canvas.getchannel("A")
        mask = alpha.point(lambda a: 255 if a < 128 else 0)
        if mask.getbbox() is None:
            mask = None
        else:
            limit = colors - 1
            # Hidden pixels should not spend palette entries: give them a visible neighbour's
            # colour (the most common opaque one is as good as any).
            rgb.paste(reserved[0] if reserved else (0, 0, 0), mask=mask)
    exact = rgb.getcolors(limit) is not None
    indexed = rgb.quantize(colors=limit, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    flat = indexed.getpalette() or []
    used = max((index for count, index in indexed.getcolors(256)), default=0) + 1
    palette = [tuple(flat[i : i + 3]) for i in range(0, 3 * used, 3)]
    if not exact:
        taken: set[int] = set()
        for colour in reserved:
            best, best_distance = None, SNAP_DISTANCE + 1
            for index, entry in enumerate(palette):
                if index in taken:
                    continue
                distance = sum((a - b) ** 2 for a, b in zip(entry, colour))
                if distance < best_distance:
                    best, best_distance = index, distance
            if best is not None:
                palette[best] = colour
                taken.add(best)
    transparent = None
    if mask is not None:
        transparent = len(palette)
        palette.append((0, 0, 0))
        indexed.paste(transparent, mask=mask)
    return indexed, palette, transparent


def _table(palette: list[tuple[int, int, int]]) -> tuple[bytes, int]:
    """A colour table padded to a power of two, and its size field (log2(entries) - 1)."""
    bits = 1
    while (1 << bits) < len(palette):
        bits += 1
    entries = list(palette) + [(0, 0, 0)] * ((1 << bits) - len(palette))
    return b"".join(bytes(colour) for colour in entries), bits - 1


def _image_data(pixels, palette, local: bool) -> bytes:
    """Image descriptor (+ local colour table) and LZW data, from Pillow's encoder."""
    from PIL import GifImagePlugin

    if local:
        pixels.putpalette([channel for colour in palette for channel in colour])
    return b"".join(GifImagePlugin.getdata(pixels, (0, 0), include_color_table=local))


def encode(frames: list[_Frame], width: int, height: int, loop: int) -> bytes:
    union: dict[tuple[int, int, int], int] = {}
    for frame in frames:
        for index, colour in enumerate(frame.palette):
            if index != frame.transparent:
                union.setdefault(colour, len(union))
    any_transparent = any(frame.transparent is not None for frame in frames)
    shared = len(union) + (1 if any_transparent else 0) <= 256
    if shared:
        global_palette = list(union)
        transparent_index = len(global_palette) if any_transparent else None
        if any_transparent:
            global_palette.append((0, 0, 0))
        for frame in frames:
            lut = [0] * 256
            for index, colour in enumerate(frame.palette):
                if index == frame.transparent:
                    assert transparent_index is not None  # this frame has a transparent entry
                    lut[index] = transparent_index
                else:
                    lut[index] = union[colour]
            frame.pixels = frame.pixels.point(lut)
            frame.palette = global_palette
            frame.transparent = transparent_index if frame.transparent is not None else None
    else:
        global_palette = frames[0].palette

    table, size_field = _table(global_palette)
    out = bytearray(b"GIF89a")
    out += struct.pack("<HHBBB", width, height, 0x80 | 0x70 | size_field, 0, 0)
    out += table
    out += b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\x00"
    for number, frame in enumerate(frames):
        transparent = frame.transparent is not None
        disposal = 2 if transparent else 1
        packed = (disposal << 2) | (1 if transparent else 0)
        out += (
            b"!\xf9\x04"
            + struct.pack("<BHB", packed, frame.delay_cs, frame.transparent or 0)
            + b"\x00"
        )
        out += _image_data(frame.pixels, frame.palette, local=not shared and number > 0)
        # Release each frame as soon as it is written; nothing reads it afterwards.
        frame.pixels = None  # type: ignore[assignment]
    out += b";"
    return bytes(out)


def delay_centiseconds(milliseconds: float) -> int:
    return max(0, min(0xFFFF, int(round(milliseconds / 10))))


async def render_gif(
    env: Env,
    documents: list[Document],
    delays_ms: list[float],
    loop: int,
    *,
    sources: SourceRules | None = None,
    library: FontLibrary = LIBRARY,
) -> bytes:
    """Every document must have the same width and height (the GIF's). A frame's image
    sources hold their decode budget until that frame is drawn."""
    from pixhaven.render import raster

    if not documents:
        raise ValueError("a GIF needs at least one frame")
    width, height = documents[0].width, documents[0].height
    frames: list[_Frame] = []
    for document, delay in zip(documents, delays_ms, strict=True):
        if (document.width, document.height) != (width, height):
            raise ValueError("every frame must have the GIF's width and height")
        async with laid_out(env, document, sources or SourceRules(), library) as layout:
            canvas = raster.draw(layout)
            opaque, colours = layout.opaque, _document_colours(layout)
            del layout
        pixels, palette, transparent = _quantise(canvas, opaque, colours)
        del canvas
        frames.append(_Frame(pixels, palette, transparent, delay_centiseconds(delay)))
    return encode(frames, width, height, loop)


def encode_screenshots(
    pngs: list[bytes], size: tuple[int, int], delay_ms: float, loop: int, colors: int
) -> bytes:
    """Animated GIF from browser frames (PNG screenshots, each `size`: anything else is a
    ValueError before it is decoded), every frame shown for
    `delay_ms`, each reduced to at most `colors` colours as above. `pngs` is emptied as it
    goes: only one decoded screenshot is held at a time, plus the palette images (one byte
    a pixel)."""
    import io

    from PIL import Image

    if not pngs:
        raise ValueError("a GIF needs at least one frame")
    frames: list[_Frame] = []
    delay = delay_centiseconds(delay_ms)
    while pngs:
        data = pngs.pop(0)
        with Image.open(io.BytesIO(data)) as picture:
            if picture.size != size:
                raise ValueError(f"a frame is {picture.size}, not {size}")
            canvas = picture.convert("RGBA")
        del data
        pixels, palette, transparent = _quantise(canvas, True, [], colors)
        del canvas
        frames.append(_Frame(pixels, palette, transparent, delay))
    return encode(frames, size[0], size[1], loop)
