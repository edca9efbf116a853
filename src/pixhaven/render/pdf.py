"""Vector PDF from documents (Pictify `POST /pdf/render`, `/pdf/multi-page`): one page per
document, each page its own size, drawn from the same layout as the PNG and the SVG.

- Units: 1 px = 0.75 pt (CSS's 96 px per inch against PDF's 72 pt), so a 1200×630 canvas is
  a 900×472.5 pt page and a viewer at 100 % shows it at its CSS size. fpdf2 works in user
  units of 0.75 pt (`FPDF(unit=0.75)`), so every coordinate below is the layout's pixel.
- Text is real text: each line is written as runs of one face at the layout's glyph
  positions (a run breaks where a fallback face takes over), in the TTF faces from the font
  store, embedded as subset TrueType (`/FontFile2`) with a ToUnicode map by fpdf2, so it is
  selectable and extractable. Advances are the fonts' `hmtx` with no kerning on both sides,
  so the PDF's glyphs land where the PNG's do.
- Pills and dividers are filled paths (fpdf2's drawing API); translucent colours use fill
  opacity. The background is a page-sized rectangle (none when it is fully transparent).
- Images are embedded cover-cropped at up to 2× their box (JPEG when opaque, else with an
  alpha mask) and clipped to their rounded corners with a vector clipping path. fpdf2 has
  rectangular and elliptic clips but no rounded-rectangle one, so that path is written into
  the page's content stream directly (`_rounded_clip`).
- fpdf2's `add_font` only takes a file path; the faces already live in memory (the font
  store), so `_font_name` builds fpdf2's `TTFFont` over a BytesIO and registers it exactly as
  `add_font` does after finding the file. No temporary files, in the Worker or locally.

fpdf2 is imported inside functions: the Worker's cold start never pays for it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from pixhaven.render.document import Document
from pixhaven.render.fonts import LIBRARY, FontLibrary
from pixhaven.render.layout import (
    ImageItem,
    Layout,
    RectItem,
    SourceRules,
    TextItem,
    cover_crop,
    laid_out,
)

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

PT_PER_PX = 0.75
EMBED_SCALE = 2
KAPPA = 0.5522847498  # Bézier control distance for a quarter circle
# Corners rounder than this are drawn square: no viewer shows a thousandth of a pixel, and
# fpdf2's arc approximation divides by zero for radii of 1e-20 px and less (the pill of a tag
# with a tiny fontSize).
MIN_RADIUS = 0.001


class PdfCanvas:
    """An fpdf2 document that pages are added to one layout at a time."""

    def __init__(self):
        from fpdf import FPDF

        self.pdf = FPDF(unit=PT_PER_PX, format=(100, 100))
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margin(0)
        self.pdf.set_creator("Pixhaven")
        self._fonts: dict[str, str] = {}
        self.pages: list[tuple[int, int]] = []

    def _font_name(self, face) -> str:
        name = self._fonts.get(face.key)
        if name is None:
            from fpdf.fonts import TTFFont

            name = self._fonts[face.key] = f"px{len(self._fonts)}"
            # What FPDF.add_font does once it has found the file (fontkey = family + style).
            # fpdf 2.8 hands the file to fontTools, which reads a file object as well as a
            # path; its annotation only names Path (pyproject.toml pins fpdf2 below 2.9).
            self.pdf.fonts[name] = TTFFont(self.pdf, io.BytesIO(face.data), name, "")  # type: ignore[arg-type]
        return name

    def add(self, layout: Layout) -> None:
        pdf = self.pdf
        pdf.add_page(format=(layout.width, layout.height))
        self.pages.append((layout.width, layout.height))
        if layout.background[3] > 0:
            self._fill(0, 0, layout.width, layout.height, 0, layout.background)
        for item in layout.items:
            if isinstance(item, RectItem):
                box = item.box
                self._fill(box.x, box.y, box.width, box.height, item.radius, item.color)
            elif isinstance(item, TextItem):
                self._text(item)
            elif isinstance(item, ImageItem):
                self._image(item)

    def output(self) -> bytes:
        return bytes(self.pdf.output())

    # -- drawing -----------------------------------------------------------------------------

    def _fill(self, x, y, width, height, radius, color) -> None:
        from fpdf.enums import PathPaintRule

        red, green, blue, alpha = color
        if alpha == 0:
            return
        with self.pdf.new_path(paint_rule=PathPaintRule.FILL_NONZERO) as path:
            path.style.fill_color = f"#{red:02x}{green:02x}{blue:02x}"
            path.style.stroke_color = None
            if alpha < 255:
                path.style.fill_opacity = alpha / 255
            if radius < MIN_RADIUS:
                radius = 0
            path.rectangle(x, y, width, height, radius, radius)

    def _text(self, item: TextItem) -> None:
        pdf = self.pdf
        block = item.block
        red, green, blue, alpha = item.color
        if alpha == 0:
            return
        size_pt = block.font_size * PT_PER_PX
        options: dict[str, Any] = {"text_color": (red, green, blue)}
        if alpha < 255:
            options["fill_opacity"] = alpha / 255
        with pdf.local_context(**options):
            for number, line in enumerate(block.lines):
                baseline = item.y + block.baseline + number * block.line_height
                run: list = []
                for glyph in line.glyphs + [None]:
                    if run and (glyph is None or glyph.face is not run[0].face):
                        text = "".join(g.char for g in run)
                        if text.strip():
                            pdf.set_font(self._font_name(run[0].face), size=size_pt)
                            pdf.text(item.x + run[0].x, baseline, text)
                        run = []
                    if glyph is not None:
                        run.append(glyph)

    def _image(self, item: ImageItem) -> None:
        from PIL import Image

        box = item.box
        crop = cover_crop(item.pixels.size, box.width, box.height)
        target = (
            max(1, round(min(crop[2] - crop[0], box.width * EMBED_SCALE))),
            max(1, round(min(crop[3] - crop[1], box.height * EMBED_SCALE))),
        )
        pixels = item.pixels.resize(target, Image.Resampling.LANCZOS, box=crop)
        if pixels.getchannel("A").getextrema() == (255, 255):
            buffer = io.BytesIO()
            pixels.convert("RGB").save(buffer, "JPEG", quality=90)
            buffer.seek(0)
            source = buffer
        else:
            source = pixels
        if item.radius > 0:
            self._rounded_clip(box.x, box.y, box.width, box.height, item.radius)
            self.pdf.image(source, x=box.x, y=box.y, w=box.width, h=box.height)
            self.pdf._out("Q")
        else:
            self.pdf.image(source, x=box.x, y=box.y, w=box.width, h=box.height)

    def _rounded_clip(self, x, y, width, height, radius) -> None:
        """`q` + a rounded-rectangle clipping path, in PDF points (y up); close with `Q`."""
        pdf = self.pdf
        k, page_height = pdf.k, pdf.h

        def point(px: float, py: float) -> str:
            return f"{px * k:.3f} {(page_height - py) * k:.3f}"

        r = min(radius, width / 2, height / 2)
        c = r * (1 - KAPPA)
        right, bottom = x + width, y + height
        ops = [
            "q",
            f"{point(x + r, y)} m",
            f"{point(right - r, y)} l",
            f"{point(right - c, y)} {point(right, y + c)} {point(right, y + r)} c",
            f"{point(right, bottom - r)} l",
            f"{point(right, bottom - c)} {point(right - c, bottom)} {point(right - r, bottom)} c",
            f"{point(x + r, bottom)} l",
            f"{point(x + c, bottom)} {point(x, bottom - c)} {point(x, bottom - r)} c",
            f"{point(x, y + r)} l",
            f"{point(x, y + c)} {point(x + c, y)} {point(x + r, y)} c",
            "h W n",
        ]
        pdf._out(" ".join(ops))


async def render_pdf(
    env: Env,
    documents: list[Document],
    *,
    sources: SourceRules | None = None,
    library: FontLibrary = LIBRARY,
) -> bytes:
    """One page per document, each the size of its canvas. Layouts are built and drawn one
    at a time, so only one page's decoded images are in memory (and leased from the decode
    budget) at once."""

    canvas = PdfCanvas()
    for document in documents:
        async with laid_out(env, document, sources or SourceRules(), library) as layout:
            canvas.add(layout)
            del layout
    return canvas.output()
