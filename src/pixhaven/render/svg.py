"""Draw a layout as SVG: text as glyph outlines (no <text>, no font needed to view it),
images embedded as data URLs and clipped to their rounded corners.

Each glyph outline is defined once in <defs> (font units, y up) and placed with <use> and a
matrix that scales it to the font size and flips it, at the layout's positions.
"""

import base64
import io
from xml.sax.saxutils import quoteattr

from pixhaven.render.layout import ImageItem, Layout, RectItem, TextItem, cover_crop

# Embedded images are stored at most at this multiple of their box (sharp on 2× screens).
EMBED_SCALE = 2


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _paint(color: tuple[int, int, int, int], attribute: str = "fill") -> str:
    red, green, blue, alpha = color
    paint = f'{attribute}="#{red:02x}{green:02x}{blue:02x}"'
    if alpha < 255:
        paint += f' {attribute}-opacity="{_num(alpha / 255)}"'
    return paint


def _embed(item: ImageItem) -> str:
    """The image, cover-cropped to its box's aspect ratio, as a PNG or JPEG data URL."""
    from PIL import Image

    pixels = item.pixels
    box = item.box
    crop = cover_crop(pixels.size, box.width, box.height)
    target = (
        max(1, round(min(crop[2] - crop[0], box.width * EMBED_SCALE))),
        max(1, round(min(crop[3] - crop[1], box.height * EMBED_SCALE))),
    )
    pixels = pixels.resize(target, Image.Resampling.LANCZOS, box=crop)
    buffer = io.BytesIO()
    if pixels.getchannel("A").getextrema() == (255, 255):
        pixels.convert("RGB").save(buffer, "JPEG", quality=90)
        mime = "image/jpeg"
    else:
        pixels.save(buffer, "PNG")
        mime = "image/png"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def render_svg(layout: Layout) -> bytes:
    defs: list[str] = []
    body: list[str] = []
    glyph_ids: dict[tuple[str, int], str] = {}
    if layout.background[3] > 0:
        body.append(
            f'<rect width="{layout.width}" height="{layout.height}" {_paint(layout.background)}/>'
        )
    for item in layout.items:
        if isinstance(item, RectItem):
            box = item.box
            radius = f' rx="{_num(item.radius)}"' if item.radius > 0 else ""
            body.append(
                f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.width)}" '
                f'height="{_num(box.height)}"{radius} {_paint(item.color)}/>'
            )
        elif isinstance(item, TextItem):
            block = item.block
            uses = []
            for number, line in enumerate(block.lines):
                baseline = item.y + block.baseline + number * block.line_height
                for glyph in line.glyphs:
                    if glyph.char.isspace():
                        continue
                    ref = (glyph.face.key, glyph.gid)
                    glyph_id = glyph_ids.get(ref)
                    if glyph_id is None:
                        glyph_id = glyph_ids[ref] = f"g{len(glyph_ids)}"
                        defs.append(f'<path id="{glyph_id}" d="{glyph.face.path(glyph.gid)}"/>')
                    scale = _num(block.font_size / glyph.face.units_per_em)
                    uses.append(
                        f'<use xlink:href="#{glyph_id}" transform="matrix({scale} 0 0 '
                        f'-{scale} {_num(item.x + glyph.x)} {_num(baseline)})"/>'
                    )
            if uses:
                body.append(f"<g {_paint(item.color)}>" + "".join(uses) + "</g>")
        elif isinstance(item, ImageItem):
            box = item.box
            clip = f"c{len(defs)}"
            radius = f' rx="{_num(item.radius)}"' if item.radius > 0 else ""
            geometry = (
                f'x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.width)}" '
                f'height="{_num(box.height)}"'
            )
            defs.append(f'<clipPath id="{clip}"><rect {geometry}{radius}/></clipPath>')
            body.append(
                f'<image {geometry} preserveAspectRatio="none" '
                f'clip-path="url(#{clip})" xlink:href={quoteattr(_embed(item))}/>'
            )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f'xmlns:xlink="http://www.w3.org/1999/xlink" width="{layout.width}" '
        f'height="{layout.height}" viewBox="0 0 {layout.width} {layout.height}">'
    )
    parts = [head]
    if defs:
        parts.append("<defs>" + "".join(defs) + "</defs>")
    parts.extend(body)
    parts.append("</svg>")
    return "".join(parts).encode("utf-8")
