"""Draw a layout with Pillow: PNG, JPEG, WebP (AVIF goes from the PNG through env.IMAGES).

Glyphs are drawn one by one by FreeType (the same outlines the SVG uses) at the positions
the layout computed from the fonts' metrics, to a quarter pixel, so raster and SVG agree to
a fraction of a pixel; each rasterised glyph is cached and pasted. Rounded corners (pills,
image radius) are drawn on a 4×
mask and scaled down, which antialiases them.
"""

import io
import math
from collections import OrderedDict

from PIL import Image, ImageDraw, ImageFont

from pixhaven.render.flat_png import write_flat_png
from pixhaven.render.layout import ImageItem, Layout, RectItem, TextItem, cover_crop

SUPERSAMPLE = 4
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
_PIL_FONTS_PER_FACE = 8
# FreeType has no size below half a pixel (Pillow answers "invalid ppem value"); a glyph that
# small leaves no ink worth a pixel, so text below it is laid out but not drawn (the SVG's
# outlines at that scale draw nothing either).
MIN_GLYPH_SIZE = 0.5


def _pil_font(face, size: float) -> ImageFont.FreeTypeFont:
    fonts: OrderedDict = face.extras.setdefault("pil", OrderedDict())
    font = fonts.get(size)
    if font is None:
        # BytesIO over the face's bytes: FreeType reads the same buffer, no copy per size.
        font = ImageFont.truetype(
            io.BytesIO(face.data), size=size, layout_engine=ImageFont.Layout.BASIC
        )
        fonts[size] = font
        if len(fonts) > _PIL_FONTS_PER_FACE:
            fonts.popitem(last=False)
    else:
        fonts.move_to_end(size)
    return font


class GlyphCache:
    """Rasterised glyphs, reused across lines and renders: FreeType rendering was most of
    the drawing time. Positions are kept to a quarter pixel, well inside the couple of
    pixels the SVG and the raster may differ by. Bounded by bytes, not entries: one 300 px
    glyph weighs as much as a thousand small ones, and the Worker has 128 MB."""

    SUBPIXEL = 4

    def __init__(self, max_bytes: int = 8 * 1024 * 1024):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict = OrderedDict()

    def get(self, font: ImageFont.FreeTypeFont, char: str, x: float, y: float):
        """(coverage image, its top-left corner on the integer grid) for `char` with its pen
        at (x, y)."""
        pen_x, pen_y = math.floor(x), math.floor(y)
        fx, fy = int((x - pen_x) * self.SUBPIXEL), int((y - pen_y) * self.SUBPIXEL)
        key = (id(font), char, fx, fy)
        entry = self._entries.get(key)
        # The font is kept in the entry so that a recycled id() never matches another font.
        if entry is None or entry[2] is not font:
            entry = self._render(font, char, fx, fy)
            self._store(key, entry)
        else:
            self._entries.move_to_end(key)
        image, (dx, dy), _ = entry
        return image, (pen_x + dx, pen_y + dy)

    def _render(self, font, char: str, fx: int, fy: int):
        left, top, right, bottom = font.getbbox(char, anchor="ls")
        image = Image.new("L", (right - left + 2, bottom - top + 2), 0)
        ImageDraw.Draw(image).text(
            (fx / self.SUBPIXEL - left + 1, fy / self.SUBPIXEL - top + 1),
            char,
            font=font,
            fill=255,
            anchor="ls",
        )
        return image, (left - 1, top - 1), font

    def _store(self, key, entry) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[0].width * old[0].height
        self._entries[key] = entry
        self.bytes += entry[0].width * entry[0].height
        while self.bytes > self.max_bytes and len(self._entries) > 1:
            evicted = self._entries.popitem(last=False)[1][0]
            self.bytes -= evicted.width * evicted.height


GLYPHS = GlyphCache()


def _rounded_mask(width: int, height: int, radius: float, offset: tuple[float, float]):
    """An L mask (width × height) of a rounded rectangle, antialiased by supersampling."""
    scale = SUPERSAMPLE
    big = Image.new("L", (width * scale, height * scale), 0)
    dx, dy = offset
    right, bottom = width * scale - 1, height * scale - 1
    # A box narrower than a quarter pixel near its pixel's right edge still covers a sample.
    ImageDraw.Draw(big).rounded_rectangle(
        (min(round(dx * scale), right), min(round(dy * scale), bottom), right, bottom),
        radius=radius * scale,
        fill=255,
    )
    return big.reduce(scale)


def _layer(color, mask: Image.Image) -> Image.Image:
    """`color` painted through `mask` (its alpha scaled by the colour's own)."""
    if color[3] < 255:
        alpha = color[3]
        mask = mask.point(lambda v: v * alpha // 255)
    layer = Image.new("RGBA", mask.size, color[:3] + (255,))
    layer.putalpha(mask)
    return layer


def _draw_rect(canvas: Image.Image, item: RectItem) -> None:
    box = item.box
    if item.radius <= 0:
        left, top = round(box.x), round(box.y)
        size = (max(1, round(box.right) - left), max(1, round(box.bottom) - top))
        if item.color[3] == 255:
            canvas.paste(item.color, (left, top, left + size[0], top + size[1]))
            return
        _composite_clipped(canvas, _layer(item.color, Image.new("L", size, 255)), left, top)
        return
    left, top = int(box.x // 1), int(box.y // 1)
    right, bottom = int(-(-box.right // 1)), int(-(-box.bottom // 1))
    if right <= left or bottom <= top:  # no area at all (a pill of a 1e-87 px tag at x = 10)
        return
    mask = _rounded_mask(right - left, bottom - top, item.radius, (box.x - left, box.y - top))
    _composite_clipped(canvas, _layer(item.color, mask), left, top)


def _composite_clipped(canvas: Image.Image, layer: Image.Image, left: int, top: int) -> None:
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + layer.width, canvas.width), min(top + layer.height, canvas.height)
    if x1 <= x0 or y1 <= y0:
        return
    part = layer.crop((x0 - left, y0 - top, x1 - left, y1 - top))
    canvas.alpha_composite(part, (x0, y0))


def _draw_text(canvas: Image.Image, item: TextItem) -> None:
    """Glyph coverage into a mask over the block, then the colour composited through it."""
    block = item.block
    if block.font_size < MIN_GLYPH_SIZE:
        return
    left = max(0, int(item.x // 1) - 2 - int(block.font_size))
    top = max(0, int(item.y // 1) - 2)
    right = min(canvas.width, int(item.x + block.content_width) + 2 + int(block.font_size))
    bottom = min(canvas.height, int(item.y + block.height) + 2 + int(block.font_size / 2))
    if right <= left or bottom <= top:
        return
    mask = Image.new("L", (right - left, bottom - top), 0)
    for number, line in enumerate(block.lines):
        baseline = item.y + block.baseline + number * block.line_height - top
        if baseline - block.line_height > mask.height or baseline + block.line_height < 0:
            continue
        for glyph in line.glyphs:
            if glyph.char.isspace():
                continue
            x = item.x + glyph.x - left
            if x > mask.width or x + 2 * glyph.advance < 0:
                continue
            font = _pil_font(glyph.face, block.font_size)
            image, corner = GLYPHS.get(font, glyph.char, x, baseline)
            mask.paste(255, corner, image)
    canvas.alpha_composite(_layer(item.color, mask), (left, top))


def _draw_image(canvas: Image.Image, item: ImageItem) -> None:
    box = item.box
    left, top = round(box.x), round(box.y)
    width, height = max(1, round(box.width)), max(1, round(box.height))
    pixels = item.pixels.resize(
        (width, height), Image.Resampling.LANCZOS, box=cover_crop(item.pixels.size, width, height)
    )
    if item.radius > 0:
        mask = _rounded_mask(width, height, item.radius, (0, 0))
        alpha = pixels.getchannel("A")
        pixels.putalpha(
            Image.composite(alpha, Image.new("L", alpha.size, 0), mask)
            if alpha.getextrema() != (255, 255)
            else mask
        )
    _composite_clipped(canvas, pixels, left, top)


def draw(layout: Layout) -> Image.Image:
    canvas = Image.new("RGBA", (layout.width, layout.height), layout.background)
    for item in layout.items:
        if isinstance(item, TextItem):
            _draw_text(canvas, item)
        elif isinstance(item, RectItem):
            _draw_rect(canvas, item)
        elif isinstance(item, ImageItem):
            _draw_image(canvas, item)
    return canvas


def encode(
    canvas: Image.Image, media_type: str, quality: int, opaque: bool, flat: bool = False
) -> bytes:
    """`flat`: the drawing has no image components (solid fills and text only), so a PNG of
    it is written unfiltered at zlib level 1 (render/flat_png.py: ~3× faster to encode)."""
    fmt = FORMATS[media_type]
    buffer = io.BytesIO()
    if fmt == "JPEG" or opaque:
        if not opaque:
            flat_white = Image.new("RGBA", canvas.size, (255, 255, 255, 255))
            flat_white.alpha_composite(canvas)
            canvas = flat_white
        canvas = canvas.convert("RGB")
    if fmt == "PNG" and flat:
        return write_flat_png(canvas)
    if fmt == "PNG":
        # zlib level 4: on a typical card ~10% faster to encode than the default 6 for ~2%
        # more bytes (still smaller than resvg's PNG of the same card).
        canvas.save(buffer, "PNG", compress_level=4)
    elif fmt == "JPEG":
        canvas.save(buffer, "JPEG", quality=quality)
    else:
        canvas.save(buffer, "WEBP", quality=quality)
    return buffer.getvalue()
